"""`murakkab report RUN_DIR` (heavy imports inside the command so `murakkab --help` stays fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def report(run_dir: Path = typer.Argument(..., help="a 'murakkab simulate --out' dir, or a dir of run dirs (demo)"),
           out: Optional[Path] = typer.Option(None, "--out", help="where to write report.html and PNGs "
                                                                  "(default: RUN_DIR/report)")) -> None:
    """Write one self-contained HTML report (DAGs, Pareto fronts, GPUs/power, latency CDFs, energy per
    request, policy comparison) and print its path."""
    from murakkab.cli_common import fail
    from murakkab.cli_output import check_out_dir, working
    from murakkab.errors import MurakkabError
    from murakkab.report.html import write_report
    try:
        if out is not None:
            check_out_dir(out)
        with working("drawing the report"):
            path = write_report(run_dir, out)
    except MurakkabError as exc:
        fail(exc)
    except OSError as exc:
        fail(MurakkabError(f"cannot write the report to {out or run_dir / 'report'}: {exc.strerror or exc} "
                           "(fix: pass --out a directory you can write to)"))
    typer.echo(f"report written to {path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
