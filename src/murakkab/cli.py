"""The `murakkab` command line. Each sub-command is thin: it parses, calls the library, prints."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from murakkab.cli_common import OneLineErrors, err_console, fail
from murakkab.cli_output import print_json, readable, stdout_console
from murakkab.errors import MurakkabError

app = typer.Typer(cls=OneLineErrors, add_completion=False, no_args_is_help=True,
                  help="Serve agentic workflows with the least energy, cost and hardware that meets each SLO.")
JSON_HELP = "Print JSON on stdout instead of tables."


@app.callback()
def _root() -> None:
    """Serve agentic workflows with the least energy, cost and hardware that meets each SLO."""


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
    for col in ("id", "params (total/active B)", "modality", "precision", "weights GB", "profiles", "origin"):
        mod.add_column(col)
    for m in cat.models.values():
        mod.add_row(m.id, f"{m.total_params_b:g}/{m.active_params_b:g}", ",".join(m.modality), m.precision,
                    f"{m.memory_gb:.0f}", f"{m.profile_basis}: {m.profiled_as}", cat.origin("model", m.id))
    hw = Table(title="Hardware")
    for col in ("name", "kind", "memory GB", "TDP W", "idle W", "$/h", "per node", "node kW max/idle", "origin"):
        hw.add_column(col)
    for h in cat.hardware.values():
        hw.add_row(h.name, h.kind, f"{h.memory_gb:g}", f"{h.tdp_w:g}", "unknown" if h.idle_w is None else f"{h.idle_w:g}",
                   f"{h.price_usd_per_hour:.2f}", str(h.units_per_node),
                   f"{h.node_max_kw:g}/{'unknown' if h.node_idle_kw is None else f'{h.node_idle_kw:g}'}",
                   cat.origin("hardware", h.name))
    from murakkab.profiling.cli import user_profile_table
    return [readable(t) for t in (caps, exe, mod, hw)] + [t for t in (user_profile_table(cat),) if t is not None]


@app.command()
def catalog(json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List capabilities, executors, models and hardware."""
    try:
        if json_out:
            from murakkab.catalog import load_catalog
            cat = load_catalog()
            print_json({part: {k: v.model_dump(mode="json") for k, v in getattr(cat, part).items()}
                        for part in ("capabilities", "executors", "models", "hardware")})
            return
        console = stdout_console()
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
        stdout_console().print(f"ok: {escape(wf.name)} ({len(wf.tasks)} tasks)", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(code=2)


@app.command()
def workflows(json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List the built-in workflows with their tasks in execution order."""
    from murakkab.spec import builtin_names, load_builtin

    if json_out:
        try:
            print_json([{"name": wf.name, "inputs": dict(wf.inputs), "output": wf.output,
                         "tasks": [{"name": n, "capability": wf.tasks[n].capability, "after": list(wf.predecessors(n))}
                                   for n in wf.topological_order()]}
                        for wf in (load_builtin(n) for n in builtin_names())])
        except MurakkabError as exc:
            fail(exc)
        return
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
    stdout_console().print(readable(table))


from murakkab.energy.cli import energy_app  # noqa: E402  (sub-app; heavy imports stay inside its commands)
app.add_typer(energy_app, name="energy")


def _num(v: float | None, fmt: str, scale: float = 1.0) -> str:
    return "unknown" if v is None else format(v * scale, fmt)


def chosen_profiles(model: str, hardware: str | None = None, workload: str | None = None):
    """(the model's profile lookup, its profiles on `hardware` for `workload`). A filter that leaves
    none is an error naming what the model was profiled on."""
    import difflib

    from murakkab.profiles.store import load_profiles
    found = load_profiles().for_model(model)
    for option, wanted, field in (("--hardware", hardware, "hardware"), ("--workload", workload, "workload")):
        known = sorted({getattr(p.key, field) for p in found.profiles})
        if wanted is not None and wanted not in known:
            near = [k for k in known if k.lower().startswith(wanted.lower())] or \
                difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(near)}? " if near else ""
            raise MurakkabError(f"{model} has no profile with {field} '{wanted}': {hint}its profiles are on "
                                f"{field} {', '.join(known) or 'none'} (fix: {option} with one of those)")
    profiles = [p for p in found.profiles if (hardware is None or p.key.hardware == hardware)
                and (workload is None or p.key.workload == workload)]
    if not profiles:
        pairs = sorted({(p.key.hardware, p.key.workload) for p in found.profiles})
        raise MurakkabError(f"{model} has no profile on {hardware} for {workload}; its profiles: "
                            + ", ".join(f"{h} ({w})" for h, w in pairs)
                            + " (fix: choose a --hardware and --workload pair from those)")
    return found, profiles


def profile_tables(model: str, hardware: str | None = None, workload: str | None = None):
    """(header line, tables) for the profiles of a catalogue model."""
    found, profiles = chosen_profiles(model, hardware, workload)
    if found.basis == "proxy":
        head = (f"[bold yellow]PROXY[/]: {model} has no measured profile; these are the profiles of "
                f"{found.profiled_as} (a stand-in of the same size class: an estimate)")
    else:
        head = f"{model}: measured profiles of {found.profiled_as}"
    head += f" ({len(profiles)} of {len(found.profiles)} profiles shown)"
    tables = []
    for p in profiles:
        bases = sorted({pt.source.basis for pt in p.points})
        title = p.key.label() + (" [PROXY]" if found.basis == "proxy" else "") + f" (basis: {'/'.join(bases)})"
        t = Table(title=title, title_justify="left")
        for col in ("max_num_seqs", "batch", "TPOT p50 ms", "TPOT p90 ms", "tok/s", "W", "J/token", "source"):
            t.add_column(col)
        for pt in p.points:
            t.add_row(str(pt.max_num_seqs), _num(pt.avg_batch, ".1f"), _num(pt.tpot_median_s, ".2f", 1e3),
                      _num(pt.tpot_p90_s, ".2f", 1e3), _num(pt.throughput_tok_s, ".1f"), _num(pt.power_w, ".0f"),
                      _num(pt.energy_per_token_j, ".4f"),
                      f"{pt.source.file}:{pt.source.row}" + (f" (+{len(pt.source.rows) - 1} rows, {pt.source.basis})"
                                                             if len(pt.source.rows) > 1 else ""))
        captions = []
        if p.key.hardware == "A100-80GB" and "derived" in bases:
            # the derivation rule and its fit, once per table (every point's note carries it too)
            captions.append("derived from H100: " + p.points[0].source.note.split("; ", 1)[-1])
        if p.warnings:
            captions.append("warnings: " + "; ".join(p.warnings))
        if captions:
            t.caption = "\n".join(captions)
            t.caption_justify = "left"
        tables.append(readable(t, ids=()))
    return head, tables


@app.command()
def profiles(model: str = typer.Argument(..., help="catalogue model id, e.g. gemma-3-27b"),
             hardware: str = typer.Option(None, help="only this catalogue hardware, e.g. H100-80GB"),
             workload: str = typer.Option(None, help="only this workload, e.g. gpqa"),
             json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Show a model's serving profiles: one table of operating points per profile key, with sources."""
    try:
        if json_out:
            found, chosen = chosen_profiles(model, hardware, workload)
            print_json({"model": model, "profiled_as": found.profiled_as, "basis": found.basis,
                        "profiles": [dict(p.model_dump(mode="json"), label=p.key.label()) for p in chosen]})
            return
        head, tables = profile_tables(model, hardware, workload)
    except MurakkabError as exc:
        fail(exc)
    console = stdout_console()
    console.print(head, highlight=False)
    for t in tables:
        console.print(t)


from murakkab.sim.cli import simulate as _simulate  # noqa: E402  (heavy imports stay inside the command)

app.command("simulate")(_simulate)

from murakkab.experiments.demo_cli import demo as _demo  # noqa: E402  (heavy imports stay inside the command)

app.command("demo")(_demo)


from murakkab.optimizer.cli import register as _register_optimizer  # noqa: E402

_register_optimizer(app)


from murakkab.server.cli import register as _register_server  # noqa: E402  (uvicorn/fastapi load inside)

_register_server(app)


from murakkab.report.cli import register as _register_report  # noqa: E402  (matplotlib loads inside)

_register_report(app)

from murakkab.orchestrator.cli import register as _reg_compile; _reg_compile(app)  # noqa: E402,E702 (compile)
from murakkab.profiling.cli import register as _register_profiling; _register_profiling(app)  # noqa: E402,E702


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
