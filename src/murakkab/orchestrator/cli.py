"""`murakkab compile SPEC [--write]`: resolve a spec's sentence steps and print the logical workflow
for review; `--write` saves the resolved spec so the next load needs no resolver."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from murakkab.errors import MurakkabError


console = Console()


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename: a failure leaves the old file as it was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def review_table(compiled) -> Table:
    wf = compiled.workflow
    how = {r.task: r for r in compiled.resolutions}
    t = Table(title=f"{wf.name}: logical workflow (resolved by {compiled.resolver})", title_justify="left")
    for col in ("task", "sentence", "capability", "executor", "inputs (port <- source)", "resolved by"):
        t.add_column(col)
    for name in wf.topological_order():
        node = wf.tasks[name]
        r = how.get(name)
        execs = node.executor or ", ".join(c.executor for c in node.candidates)
        by = "written" if r is None else r.how + (f" (confidence {r.confidence:.2f})" if r.confidence is not None else "")
        t.add_row(name, escape(node.does or ""), node.capability, execs,
                  ", ".join(f"{p} <- {b.source}" for p, b in node.bindings.items()), by)
    t.caption = f"inputs: {', '.join(f'{k}: {v}' for k, v in wf.inputs.items())}; output: {wf.output}"
    t.caption_justify = "left"
    return t


def compile_command(
    spec_file: str = typer.Argument(..., help="Workflow spec YAML with steps written as sentences (does:)."),
    write: bool = typer.Option(False, "--write", help="Save the resolved spec over SPEC_FILE."),
    out: str = typer.Option(None, "--out", help="Save the resolved spec here instead (implies writing)."),
    orchestrator: str = typer.Option(None, "--orchestrator", metavar="URL",
                                     help="OpenAI-compatible base URL of the orchestrator LLM, e.g. "
                                          "http://127.0.0.1:8080/v1 (default: the deterministic matcher)."),
    model: str = typer.Option("default", "--model", help="Model name sent to the orchestrator backend."),
    mode: str = typer.Option("tools", "--mode", help="tools (forced function call), json_schema (OpenAI) or json_object (llama.cpp)."),
    api_key_env: str = typer.Option(None, "--api-key-env", help="Environment variable holding the backend's key."),
    tries: int = typer.Option(3, "--tries", help="Answers asked of the LLM before giving up (1-10)."),
    threshold: float = typer.Option(0.3, "--threshold", help="Matcher: least confidence to accept (0-1]."),
) -> None:
    """Resolve sentence steps (does:) to capabilities and executors; print the workflow for review."""
    from murakkab.cli_common import fail
    from murakkab.orchestrator.backend import BackendConfig, ChatBackend
    from murakkab.orchestrator.resolve import compile_spec
    from murakkab.spec.load import parse_spec, read_spec_file

    backend = None
    try:
        path = Path(spec_file)
        spec, source = parse_spec(read_spec_file(path), str(path))
        if orchestrator:
            backend = ChatBackend(BackendConfig(base_url=orchestrator, model=model, mode=mode,
                                                api_key_env=api_key_env))
        compiled = compile_spec(spec, source=source, backend=backend, tries=tries, threshold=threshold)
    except MurakkabError as exc:
        fail(exc)
    finally:
        if backend is not None:
            backend.close()
    console.print(review_table(compiled))
    for i, why in enumerate(compiled.rejected, start=1):
        console.print(f"answer {i} was sent back: {escape(why)}", highlight=False, soft_wrap=True)
    target = Path(out) if out else path if write else None
    if target is not None:
        _write_atomically(target, compiled.spec.to_yaml())
        console.print(f"wrote {escape(str(target))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_command)
