"""How `murakkab` sub-commands print for people and for scripts: tables that wrap and never cut an id,
`--json` documents on stdout, progress on stderr (a bar on a terminal, plain lines when piped), and
output directories checked before a long run starts. Sub-command modules import this, never
`murakkab.cli`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from murakkab.cli_common import err_console
from murakkab.errors import MurakkabError

PIPED_WIDTH = 200     # piped with no COLUMNS: wide enough that tables rarely wrap at all
PLAIN_EVERY_S = 5.0   # piped progress: one line at most this often
QUIET_FOR_S = 3.0     # piped: a step of unknown length says it is running after this long
ID_SHARE = 0.4        # an id column kept on one line takes at most this share of the width


def stdout_console() -> Console:
    """The console for tables on stdout: the terminal's width, or COLUMNS, or PIPED_WIDTH when piped."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=PIPED_WIDTH if piped else None)


def readable(table: Table, ids: Sequence[int] = (0,), width: int | None = None) -> Table:
    """The table with no cell cut: every column wraps (folding words longer than the column), and each
    of the `ids` columns (model ids, pool and workflow names) is kept whole on one line, so it can be
    copied into another command, when it fits in ID_SHARE of the `width` (default: stdout's); a longer
    id is folded over lines rather than cut."""
    limit = int(ID_SHARE * (width or stdout_console().width))
    for i, column in enumerate(table.columns):
        column.overflow = "fold"
        if i in ids:
            widest = max((cell_len(str(c)) for c in column.cells), default=0)
            if widest <= limit:
                column.no_wrap = True
                column.min_width = max(column.min_width or 0, widest)
    return table


def print_json(document: Any) -> None:
    """A JSON document on stdout, alone (no colour, no wrapping), for scripts and `jq`."""
    sys.stdout.write(json.dumps(document, indent=2, default=_plain) + "\n")
    sys.stdout.flush()


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict
        return asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def warn(text: str) -> None:
    """One warning line on stderr (stdout stays the command's result)."""
    err_console.print(f"[bold yellow]warning:[/] {text}", highlight=False, soft_wrap=True, markup=True)


@contextmanager
def progress(what: str, labels: Sequence[str]) -> Iterator[Callable[[str, float], None]]:
    """`update(label, fraction)` for work in parts (`labels`). On a terminal: a bar per part on
    stderr; piped: a first line at once, then one line with every part's share at most every
    PLAIN_EVERY_S seconds, and 'done' at the end, so a log never goes quiet for a minute."""
    if err_console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        width = max((len(x) for x in labels), default=10)
        with Progress(TextColumn(f"{{task.description:<{width}}}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=err_console, transient=True) as bar:
            tasks = {label: bar.add_task(label, total=1.0) for label in labels}
            yield lambda label, f: bar.update(tasks[label], completed=f)
        return
    started = time.monotonic()
    done = {label: 0.0 for label in labels}
    last = [started]
    err_console.print(f"{what}: started ({len(labels)} part{'s' if len(labels) != 1 else ''})", highlight=False)

    def line() -> None:
        parts = ", ".join(f"{label} {100 * f:.0f}%" for label, f in done.items()) if len(done) > 1 else \
            f"{100 * next(iter(done.values()), 0.0):.0f}%"
        err_console.print(f"{what}: {parts} ({time.monotonic() - started:.0f} s)", highlight=False, soft_wrap=True)

    def update(label: str, fraction: float) -> None:
        done[label] = fraction
        now = time.monotonic()
        if now - last[0] >= PLAIN_EVERY_S:
            last[0] = now
            line()
    yield update
    err_console.print(f"{what}: done ({time.monotonic() - started:.0f} s)", highlight=False)


def check_out_dir(path: Path, option: str = "--out") -> None:
    """Refuse an output directory that cannot be one before any work starts."""
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            where = "is" if p == path else f"is inside {p}, which is"
            raise MurakkabError(f"{option} {path} {where} a file, not a directory (fix: pass a new or existing "
                                "directory)")
        if p.exists():
            if not os.access(p, os.W_OK):
                raise MurakkabError(f"{option} {path}: cannot write in {p} (fix: pass a directory you can write to)")
            return


@contextmanager
def working(what: str) -> Iterator[None]:
    """Say on stderr that a step of unknown length is running: a spinner on a terminal; piped, a line
    once it has run QUIET_FOR_S seconds and one with its seconds at the end (a quick step prints
    nothing, so a short command's stderr stays empty)."""
    if err_console.is_terminal:
        with err_console.status(f"{what} ..."):
            yield
        return
    import threading
    started = time.monotonic()
    said = threading.Event()

    def say() -> None:
        said.set()
        err_console.print(f"{what}: running ({QUIET_FOR_S:g} s so far)", highlight=False)
    timer = threading.Timer(QUIET_FOR_S, say)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    if said.is_set():
        err_console.print(f"{what}: done ({time.monotonic() - started:.0f} s)", highlight=False)
