"""`murakkab demo`: the paper-style policy comparison (see `murakkab.experiments.demo`). Parses, runs
with a progress bar, prints `murakkab.report`'s comparison tables and writes its HTML report. Heavy
imports stay inside the function so `murakkab --help` stays fast."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console

from murakkab.cli_common import err_console

# piped output (files, CI logs) gets the full table rather than 80 columns of ellipses
console = Console() if sys.stdout.isatty() else Console(width=200)


def demo(
    hours: float = typer.Option(24.0, "--hours", help="simulated hours of diurnal traffic"),
    seed: int = typer.Option(0, "--seed", help="seed of arrivals and token draws"),
    scale: float = typer.Option(1.0, "--scale", help="multiply the scenario's request rates (1.0 request/s per workflow)"),
    out: Path = typer.Option(None, "--out", help="run directory (default runs/demo-<timestamp>)"),
    parallel: bool = typer.Option(True, "--parallel/--no-parallel", help="run the six simulations in 2 worker processes"),
) -> None:
    """Plan and simulate a standard day (video_qa + code_gen + reasoning, 70% accuracy:good / 30%
    latency:good) under static, per-workflow and joint policies, each with and without the reactive
    autoscaler; print GPUs, MWh, k$, SLO attainment and the ratios to static next to the paper's."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from murakkab.cli_common import fail
    from murakkab.errors import MurakkabError
    from murakkab.experiments.demo import DemoScenario, run_demo, run_specs
    from murakkab.report.compare import RATIO_HEADER
    from murakkab.report.html import write_report
    from murakkab.report.table import resources_table, slo_table

    try:
        sc = DemoScenario(hours=hours, seed=seed, scale=scale)
        run_dir = out or Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
        rates = ", ".join(f"{w} {sc.mean_rate(w):g}/s" for w in sorted(sc.rates_rps))
        console.print(f"scenario: {hours:g} h seeded diurnal traffic (peak/trough {sc.peak_to_trough:g}, seed {seed}), "
                      f"mean rates {rates}; tiers {', '.join(f'{k} {100 * v:g}%' for k, v in sc.tier_mix.items())}",
                      highlight=False)
        console.print(f"static: sized once for the day's peak; per-workflow / joint: EWMA (alpha {sc.ewma_alpha:g}) "
                      f"re-plan every {sc.epoch_s / 60:g} min for forecast x {sc.peak_factor:g} (estimate), "
                      f"{sc.provisioning_delay_s:g} s provisioning; every plan solved with HiGHS mip_rel_gap "
                      f"{sc.mip_rel_gap:g} and a {sc.time_limit_s:g} s time limit; pools with a latency-tier user "
                      f"sized so a call waits with probability <= "
                      f"{sc.latency_wait_probability if sc.latency_wait_probability is not None else 1 - 0.99:g} "
                      # 0.99: the optimizer's default latency quantile (PlanRequest.latency_quantile)
                      f"(Erlang C)", highlight=False)
        with Progress(TextColumn("{task.description:<24}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=err_console, transient=True) as bar:
            tasks = {s.label: bar.add_task(s.label, total=1.0) for s in run_specs()}
            rows = run_demo(sc, run_dir, parallel=parallel,
                            progress=lambda label, f: bar.update(tasks[label], completed=f))
    except MurakkabError as exc:
        fail(exc)
    console.print(resources_table(rows, f"Fleet over {hours:g} simulated hours (energy and cost modelled from profiles)"))
    console.print(slo_table(rows))
    srcs = "; ".join(f"{r.label}: {r.paper.source}" for r in rows if r.paper)
    console.print(f"{RATIO_HEADER} = how many times more GPUs, MWh and $ the static baseline needs than the run, from "
                  f"these runs' own numbers. paper = {srcs}. Our scenario, rates and catalogue differ from the "
                  "paper's: compare the direction, not the digits.", highlight=False)
    console.print(f"run directory: {run_dir}", highlight=False)
    console.print(f"report: {write_report(run_dir)}", highlight=False)
