"""The `murakkab` command line. Each sub-command is thin: it parses, calls the library, prints."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from murakkab.errors import MurakkabError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Serve agentic workflows with the least energy, cost and hardware that meets each SLO.")
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Serve agentic workflows with the least energy, cost and hardware that meets each SLO."""


def fail(exc: MurakkabError) -> None:
    """Print a user error as one clear line and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def catalog_tables():
    from murakkab.catalog import load_catalog
    cat = load_catalog()
    caps = Table(title="Capabilities")
    for col in ("name", "inputs", "output", "executors"):
        caps.add_column(col)
    for c in cat.capabilities.values():
        ins = ", ".join(f"{p}:{port.type}{'?' if port.optional else ''}" for p, port in c.inputs.items())
        caps.add_row(c.name, ins, c.output, ", ".join(e.name for e in cat.executors_for(c.name)))
    exe = Table(title="Executors")
    for col in ("name", "kind", "capability", "knobs", "models / placements"):
        exe.add_column(col)
    for e in cat.executors.values():
        knobs = "; ".join(f"{k}={v}" for k, v in e.knobs.items())
        exe.add_row(e.name, e.kind, e.capability, knobs, ", ".join(e.models or e.placements))
    mod = Table(title="Models")
    for col in ("id", "params (total/active B)", "modality", "precision", "weights GB", "profiles"):
        mod.add_column(col)
    for m in cat.models.values():
        mod.add_row(m.id, f"{m.total_params_b:g}/{m.active_params_b:g}", ",".join(m.modality), m.precision,
                    f"{m.memory_gb:.0f}", f"{m.profile_basis}: {m.profiled_as}")
    hw = Table(title="Hardware")
    for col in ("name", "kind", "memory GB", "TDP W", "idle W", "$/h", "per node", "node kW max/idle"):
        hw.add_column(col)
    for h in cat.hardware.values():
        hw.add_row(h.name, h.kind, f"{h.memory_gb:g}", f"{h.tdp_w:g}", "unknown" if h.idle_w is None else f"{h.idle_w:g}",
                   f"{h.price_usd_per_hour:.2f}", str(h.units_per_node),
                   f"{h.node_max_kw:g}/{'unknown' if h.node_idle_kw is None else f'{h.node_idle_kw:g}'}")
    return [caps, exe, mod, hw]


@app.command()
def catalog() -> None:
    """List capabilities, executors, models and hardware."""
    try:
        for table in catalog_tables():
            console.print(table)
    except MurakkabError as exc:
        fail(exc)


@app.command()
def validate(
    files: list[str] = typer.Argument(None, help="Workflow spec YAML files."),
    builtin: bool = typer.Option(False, "--builtin", help="Also validate every built-in workflow."),
) -> None:
    """Check workflow specs against the catalogue: 'ok' per valid spec, one error line per invalid one."""
    from rich.markup import escape

    from murakkab.spec import builtin_names, load_builtin, load_file

    if not files and not builtin:
        err_console.print("[bold red]error:[/] no spec given (fix: pass spec files or --builtin)", highlight=False)
        raise typer.Exit(code=2)
    jobs = [(f, lambda f=f: load_file(f)) for f in files or []]
    if builtin:
        jobs += [(n, lambda n=n: load_builtin(n)) for n in builtin_names()]
    failed = 0
    for _, load in jobs:
        try:
            wf = load()
        except MurakkabError as exc:
            failed += 1
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            continue
        console.print(f"ok: {escape(wf.name)} ({len(wf.tasks)} tasks)", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(code=2)


@app.command()
def workflows() -> None:
    """List the built-in workflows with their tasks in execution order."""
    from murakkab.spec import builtin_names, load_builtin

    table = Table(title="Built-in workflows")
    for col in ("name", "inputs", "tasks (execution order)", "output"):
        table.add_column(col)
    try:
        for name in builtin_names():
            wf = load_builtin(name)
            tasks = "\n".join(f"{n}: {wf.tasks[n].capability}"
                              + (f" <- {', '.join(wf.predecessors(n))}" if wf.predecessors(n) else "")
                              for n in wf.topological_order())
            table.add_row(wf.name, ", ".join(f"{k}: {v}" for k, v in wf.inputs.items()), tasks, wf.output)
    except MurakkabError as exc:
        fail(exc)
    console.print(table)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
