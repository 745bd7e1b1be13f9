"""`murakkab profile model|workflow` and the root `--catalog DIR` option (registered from cli.py)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from murakkab.catalog.user import ENV

profile_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Measure your own model endpoints and workflows into a user catalogue.")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


def _ints(text: str, what: str) -> tuple[int, ...]:
    from murakkab.errors import MurakkabError
    try:
        out = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise MurakkabError(f"{what} '{text}' is not a comma-separated list of whole numbers (e.g. 1,2,4)") from None
    if not out or any(v < 0 for v in out):
        raise MurakkabError(f"{what} '{text}' must list whole numbers >= 0")
    return out


@profile_app.command("model")
def profile_model_cmd(
    endpoint: str = typer.Option(..., help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"),
    model: str = typer.Option(..., help="model name the server serves (the profile key's model)"),
    hardware: str = typer.Option(..., help="catalogue hardware name (packaged, or a row of OUT/hardware.csv)"),
    gpus: int = typer.Option(1, help="GPUs (or CPU nodes) the server uses"),
    parallelism: int = typer.Option(1, "--parallelism", help="tensor parallelism (TP)"),
    precision: str = typer.Option("bfloat16", help="weight precision, as in the catalogue"),
    workload: str = typer.Option("azure-conv", help="azure-conv | azure-code | FILE.jsonl (input_tokens, output_tokens)"),
    concurrency: str = typer.Option("1,2,4", help="operating points: streams in flight, comma-separated"),
    out: Path = typer.Option(..., help="user catalogue directory to write (created if missing)"),
    max_input_tokens: int = typer.Option(2048, help="cap on a request's prompt tokens (the server's context)"),
    max_output_tokens: int = typer.Option(512, help="cap on a request's output tokens"),
    window: float = typer.Option(5.0, help="steady-state window length, s"),
    min_windows: int = typer.Option(3, help="at least this many windows per point"),
    target_ci: float = typer.Option(0.05, help="stop a point when the throughput's 95% CI is within +-this"),
    time_cap: float = typer.Option(120.0, help="longest steady phase of one point, s"),
    warmup_cap: float = typer.Option(120.0, help="longest warm-up of one point, s"),
    gpu_index: str = typer.Option("", help="GPUs whose NVML energy counters to read, e.g. 0,1 (else energy unknown)"),
    length_control: bool = typer.Option(True, help="send ignore_eos and min_tokens with max_tokens"),
    api_key_env: Optional[str] = typer.Option(None, help="environment variable holding the endpoint's API key"),
    seed: int = typer.Option(0, help="seed of the workload's request order"),
) -> None:
    """Measure a served model at each operating point and write profile rows into OUT."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    from murakkab.catalog.load import build_catalog
    from murakkab.catalog.user import check_user_dir
    from murakkab.errors import MurakkabError
    from murakkab.names import did_you_mean
    from murakkab.profiles.schema import ProfileKey
    from murakkab.profiling.model_profiler import PointSettings
    from murakkab.profiling.model_run import ModelRun, profile_model
    from murakkab.profiling.workload import load_workload
    try:
        if out.exists():
            check_user_dir(out)
        cat = build_catalog(str(out) if out.is_dir() else None)
        if hardware not in cat.hardware:
            raise MurakkabError(f"unknown hardware '{hardware}' ({did_you_mean(hardware, cat.hardware)}) (fix: a "
                                f"packaged name, or add a row for it to {out / 'hardware.csv'})")
        from murakkab.catalog.schema import BYTES_PER_PARAM
        if precision not in BYTES_PER_PARAM:
            raise MurakkabError(f"unknown precision '{precision}' ({did_you_mean(precision, BYTES_PER_PARAM)})")
        points = _ints(concurrency, "--concurrency")
        if 0 in points or len(set(points)) != len(points):
            raise MurakkabError(f"--concurrency '{concurrency}' must list distinct numbers >= 1")
        if gpus < 1 or parallelism < 1:
            raise MurakkabError("--gpus and --parallelism must be at least 1")
        if window <= 0 or min_windows < 2 or not 0 < target_ci < 1 or time_cap <= 0:
            raise MurakkabError("--window and --time-cap must be > 0, --min-windows >= 2, --target-ci in (0, 1)")
        key_env = os.environ.get(api_key_env) if api_key_env else None
        if api_key_env and not key_env:
            raise MurakkabError(f"environment variable {api_key_env} is empty (fix: export the key in it)")
        wl = load_workload(workload, max_input_tokens=max_input_tokens, max_output_tokens=max_output_tokens, seed=seed)
        settings = PointSettings(endpoint=endpoint, model=model, window_s=window, min_windows=min_windows,
                                 target_ci=target_ci, max_point_s=time_cap, warmup_cap_s=warmup_cap,
                                 length_control=length_control, api_key=key_env,
                                 gpu_index=_ints(gpu_index, "--gpu-index") if gpu_index else ())
        key = ProfileKey(model=model, hardware=hardware, gpus=gpus, tp=parallelism, precision=precision,
                         workload=wl.name)
        run = ModelRun(settings=settings, key=key, workload=wl, workload_spec=workload, concurrency=points, out=out,
                       command=" ".join(shlex.quote(a) for a in ["murakkab", *sys.argv[1:]]),
                       caps=(max_input_tokens, max_output_tokens))
    except MurakkabError as exc:
        _fail(exc)
        return
    console = Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                  console=console, transient=False) as bar:
        def on_point(c: int):
            task = bar.add_task(f"concurrency {c}", total=min_windows, info="warming up")

            def on_window(n: int, ci: float) -> None:
                bar.update(task, completed=min(n, min_windows), total=max(min_windows, n),
                           info=f"{n} windows, CI +-{ci * 100:.1f}%" if ci != float("inf") else f"{n} windows")
            return on_window
        try:
            results, path, kept = profile_model(run, progress=on_point)
        except MurakkabError as exc:
            _fail(exc)
            return
        except KeyboardInterrupt:
            typer.echo(f"interrupted: finished points are kept in {out} (rerun the same command to resume)", err=True)
            raise typer.Exit(130) from None
    for c in kept:
        typer.echo(f"concurrency {c}: kept from an earlier run with the same settings")
    for p in results:
        typer.echo(f"concurrency {p.concurrency}: {p.throughput_tok_s:.1f} tok/s (CI +-{p.throughput_ci_rel * 100:.1f}%"
                   f"{', time cap' if p.capped else ''}), TPOT p50 {p.tpot_median_s * 1e3:.2f} ms p90 "
                   f"{p.tpot_p90_s * 1e3:.2f} ms, TTFT p50 "
                   + ("unknown" if p.ttft_p50_s is None else f"{p.ttft_p50_s * 1e3:.1f} ms")
                   + f", in flight {p.achieved_concurrency:.2f}, {p.requests} requests, {p.errors} errors, power "
                   + ("unknown" if p.power_w is None else f"{p.power_w:.0f} W"))
    typer.echo(f"profile rows written to {path}")


@profile_app.command("workflow")
def profile_workflow_cmd(
    workflow: str = typer.Argument(..., help="built-in workflow, e.g. reasoning"),
    dataset: str = typer.Option(..., help="gsm8k | math500 | FILE.jsonl (question, answer)"),
    backends: Path = typer.Option(..., help="backends YAML: where each model of the configuration is served"),
    config: list[str] = typer.Option([], "--config", help="KNOB=VALUE, model=MODEL or TASK.model=MODEL; repeat"),
    out: Path = typer.Option(..., help="user catalogue directory to write workflow_profiles.jsonl into"),
    limit: Optional[int] = typer.Option(None, help="first N items of the dataset"),
    concurrency: int = typer.Option(4, help="requests in flight at once"),
    max_tokens: Optional[int] = typer.Option(None, help="cap on generated tokens per model call"),
) -> None:
    """Run one configuration over a dataset on real backends and write a measured workflow profile row into OUT."""
    from rich.console import Console
    from rich.progress import Progress

    from murakkab.catalog.user import check_user_dir
    from murakkab.errors import MurakkabError
    from murakkab.profiling.datasets import load_dataset
    from murakkab.profiling.workflow_profiler import profile_workflow
    try:
        if out.exists():
            check_user_dir(out)
        data = load_dataset(dataset, limit)
        command = " ".join(shlex.quote(a) for a in ["murakkab", *sys.argv[1:]])
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task(f"{workflow} on {data.name}", total=len(data.items))
            res = profile_workflow(workflow, data, backends, config, out, concurrency=concurrency,
                                   max_tokens=max_tokens, command=command,
                                   on_done=lambda _: bar.advance(task))
    except MurakkabError as exc:
        _fail(exc)
        return
    p = res.profile
    typer.echo(f"{workflow} {p.knobs} {p.models}: accuracy {p.accuracy_percent:.1f}% ({res.correct}/{res.n}, "
               f"95% CI {res.ci_low:.1f}-{res.ci_high:.1f}%)")
    for task, t in p.tokens.items():
        typer.echo(f"  {task}: input {t.input_tokens:.1f} tokens/call, output p50/p90/p99 "
                   f"{t.output_p50:.1f}/{t.output_p90:.1f}/{t.output_p99:.1f}")
    typer.echo(f"workflow profile written to {res.path}")


def user_profile_table(cat):
    """A table of the user catalogue's model and workflow profiles with their file and row (None without one)."""
    if not cat.user_dir:
        return None
    from rich.table import Table

    from murakkab.profiles.store import load_profiles
    store = load_profiles()
    t = Table(title=f"Profiles from the user catalogue {cat.user_dir}")
    for col in ("kind", "entry", "origin"):
        t.add_column(col)
    for p in store.model_profiles:
        for pt in p.points:
            if pt.source.file.startswith(cat.user_dir):
                t.add_row("model profile", f"{p.key.label()} max_num_seqs={pt.max_num_seqs}",
                          f"{pt.source.file} row {pt.source.row}")
    for w in store.workflow_profiles:
        if w.accuracy_source.file.startswith(cat.user_dir):
            t.add_row("workflow profile", f"{w.workflow} {w.knobs} {w.models}",
                      f"{w.accuracy_source.file} row {w.accuracy_source.row}")
    for r in store.replaced:
        t.add_row("replaced", r, "the user catalogue's entry with the same key is used")
    return t


def register(app: typer.Typer) -> None:
    """Add `murakkab profile ...` and the root option `--catalog DIR` (env MURAKKAB_CATALOG) that layers a user
    catalogue over the packaged one for every command."""
    app.add_typer(profile_app, name="profile")
    previous = app.registered_callback.callback if app.registered_callback else None

    def root(catalog: Optional[Path] = typer.Option(
            None, "--catalog", envvar=ENV, help="user catalogue directory layered over the packaged one "
                                                "(models, hardware, model and workflow profiles)")) -> None:
        from murakkab.catalog.user import select_user_dir
        from murakkab.errors import MurakkabError
        try:
            select_user_dir(catalog)
        except MurakkabError as exc:
            _fail(exc)
        if previous is not None:
            previous()
    root.__doc__ = previous.__doc__ if previous is not None else None
    app.callback()(root)
