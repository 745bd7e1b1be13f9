"""`murakkab demo`: the paper-style policy comparison (see `murakkab.experiments.demo`). Parses, runs
with a progress bar, prints `murakkab.report`'s comparison tables and writes its HTML report. Heavy
imports stay inside the function so `murakkab --help` stays fast."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from murakkab.cli_output import readable, stdout_console, warn

# a day of diurnal traffic: the static baseline is sized for the day's peak (14:00); a shorter run sees
# only part of the day, so the re-planning runs are compared on their quiet hours alone
FULL_DAY_H = 24.0
# measured (2026-12-03, default scenario, seed 0; docs/simulator.md): static ÷ joint peak GPUs of a 2 h run
TWO_HOUR_JOINT_GPUS = 3.94


def demo(
    hours: float = typer.Option(24.0, "--hours", help="simulated hours of diurnal traffic"),
    seed: int = typer.Option(0, "--seed", help="seed of arrivals and token draws"),
    scale: float = typer.Option(1.0, "--scale", help="multiply the scenario's request rates (1.0 request/s per workflow)"),
    out: Path = typer.Option(None, "--out", help="run directory (default runs/demo-<timestamp>)"),
    parallel: bool = typer.Option(True, "--parallel/--no-parallel", help="run the six simulations in 2 worker processes"),
    json_out: bool = typer.Option(False, "--json", help="print the comparison rows as JSON instead of the tables"),
    workflows: str = typer.Option("video_qa,code_gen,reasoning", "--workflows", help="default scenario: the "
                                  "workflows to run, comma-separated (1.0 request/s each x --scale)"),
    scenario: str = typer.Option("default", "--scenario", help="default (simulated day) | paper (video_qa + "
                                 "code_gen from the trace, the paper's Gemma static beside ours) | h100-sweep"),
    a100_budget: int = typer.Option(250, "--a100-budget", help="h100-sweep: the fixed A100 budget"),
    h100_steps: str = typer.Option("0,10,20,40,80", "--h100-steps", help="h100-sweep: H100 budgets, comma-separated"),
) -> None:
    """Plan and simulate a standard day (video_qa + code_gen + reasoning, 70% accuracy:good / 30%
    latency:good) under static, per-workflow and joint policies, each with and without the reactive
    autoscaler; print GPUs, MWh, k$, SLO attainment and the ratios to static next to the paper's."""
    from dataclasses import asdict

    from murakkab.cli_common import fail
    from murakkab.cli_output import check_out_dir, print_json, progress
    from murakkab.errors import MurakkabError
    from murakkab.experiments.demo import DemoScenario, run_demo, run_specs
    from murakkab.report.compare import RATIO_HEADER
    from murakkab.report.html import write_report
    from murakkab.report.table import resources_table, slo_table

    console = stdout_console()
    if scenario != "default":
        from murakkab.experiments.paper_cli import run_preset
        try:
            if scenario not in ("paper", "h100-sweep"):
                raise MurakkabError(f"unknown scenario '{scenario}' (fix: default, paper or h100-sweep)")
            try:
                steps = [int(x) for x in h100_steps.split(",") if x.strip()]
            except ValueError:
                raise MurakkabError(f"--h100-steps '{h100_steps}' is not a comma-separated list of whole "
                                    "numbers (fix: e.g. 0,100,400)") from None
            run_preset(scenario, scale, a100_budget, steps)
        except MurakkabError as exc:
            fail(exc)
        return
    try:
        sc = DemoScenario(hours=hours, seed=seed, scale=scale, rates_rps=demo_rates(workflows))
        run_dir = out or Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
        check_out_dir(run_dir)
        short = short_run_warning(hours)
        if short:
            warn(short)
        rates = ", ".join(f"{w} {sc.mean_rate(w):g}/s" for w in sorted(sc.rates_rps))
        say = (lambda text: None) if json_out else (lambda text: console.print(text, highlight=False))
        say(f"scenario: {hours:g} h seeded diurnal traffic (peak/trough {sc.peak_to_trough:g}, seed {seed}), "
                      f"mean rates {rates}; tiers {', '.join(f'{k} {100 * v:g}%' for k, v in sc.tier_mix.items())}")
        say(f"static: sized once for the day's peak; per-workflow / joint: EWMA (alpha {sc.ewma_alpha:g}) "
                      f"re-plan every {sc.epoch_s / 60:g} min for forecast x {sc.peak_factor:g} (estimate), "
                      f"{sc.provisioning_delay_s:g} s provisioning; every plan solved with HiGHS mip_rel_gap "
                      f"{sc.mip_rel_gap:g} and a {sc.time_limit_s:g} s time limit; pools with a latency-tier user "
                      f"sized so a call waits with probability <= "
                      f"{sc.latency_wait_probability if sc.latency_wait_probability is not None else 1 - 0.99:g} "
                      # 0.99: the optimizer's default latency quantile (PlanRequest.latency_quantile)
                      f"(Erlang C)")
        with progress("demo", [s.label for s in run_specs()]) as tell:
            rows = run_demo(sc, run_dir, parallel=parallel, progress=tell)
        report = write_report(run_dir)
    except MurakkabError as exc:
        fail(exc)
    except OSError as exc:
        fail(MurakkabError(f"cannot write the run directory {run_dir}: {exc.strerror or exc} (fix: pass --out a "
                           "directory you can write to)"))
    if json_out:
        print_json({"hours": hours, "seed": seed, "scale": scale, "warnings": [short] if short else [],
                    "run_dir": str(run_dir), "report": str(report), "rows": [asdict(r) for r in rows]})
        return
    console.print(readable(resources_table(rows, f"Fleet over {hours:g} simulated hours (energy and cost modelled "
                                                 "from profiles)")))
    console.print(readable(slo_table(rows)))
    srcs = "; ".join(f"{r.label}: {r.paper.source}" for r in rows if r.paper)
    console.print(f"{RATIO_HEADER} = how many times more GPUs, MWh and $ the static baseline needs than the run, from "
                  f"these runs' own numbers. paper = {srcs}. Our scenario, rates and catalogue differ from the "
                  "paper's: compare the direction, not the digits.", highlight=False)
    if short:
        console.print(f"note: {short}", highlight=False)
    console.print(f"run directory: {run_dir}", highlight=False)
    console.print(f"report: {report}", highlight=False)


def short_run_warning(hours: float) -> str | None:
    """Why the ratios of a run shorter than a day flatter the re-planning runs; None for a full day."""
    if hours >= FULL_DAY_H:
        return None
    return (f"a {hours:g} h run covers {hours / FULL_DAY_H:.0%} of the diurnal day: static is sized for the whole "
            f"day's peak while the re-planning runs only saw these hours, so the ratios to static overstate a "
            f"day's savings (measured, joint GPUs: 2 h {TWO_HOUR_JOINT_GPUS}x, 24 h 1.44x; docs/simulator.md). "
            f"Use --hours 24 or more for ratios to compare")


def demo_rates(workflows: str) -> dict[str, float]:
    """--workflows 'video_qa,code_gen' -> the default scenario's 1.0 request/s for each (a clear error for
    a name the demo does not know, or none)."""
    from murakkab.errors import MurakkabError
    from murakkab.names import did_you_mean
    known = ("video_qa", "code_gen", "reasoning")
    names = [w.strip() for w in workflows.split(",") if w.strip()]
    if not names:
        raise MurakkabError("--workflows names no workflow (fix: e.g. --workflows video_qa,code_gen)")
    for w in names:
        if w not in known:
            raise MurakkabError(f"--workflows: unknown workflow '{w}'; {did_you_mean(w, known)}")
    if len(set(names)) != len(names):
        raise MurakkabError(f"--workflows lists a workflow twice ({workflows})")
    return {w: 1.0 for w in names}
