"""`murakkab simulate`: parse options, run the simulator, print the summary, write the run directory.
Heavy imports stay inside the function so `murakkab --help` stays fast."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from murakkab.cli_output import readable, stdout_console


def summary_table(s) -> Table:
    t = Table(title=f"Simulation: {s.requests} requests over {s.horizon_s / 3600:g} h "
                    f"({s.unfinished} unfinished); energy {s.energy_basis}")
    for col in ("workflow", "tier", "SLO", "requests", "attainment", "p50 s", "p90 s", "p99 s", "accuracy %"):
        t.add_column(col)
    for r in s.slo:
        f = (lambda v: "-" if v is None else f"{v:.2f}")
        t.add_row(r.workflow, r.tier, r.slo, str(r.requests), f"{100 * r.attainment:.1f}%", f(r.latency_p50_s),
                  f(r.latency_p90_s), f(r.latency_p99_s), f"{r.accuracy_percent:.1f}")
    return readable(t, ids=(0, 1))


def simulate(
    plan: Path = typer.Option(..., "--plan", exists=True, dir_okay=False, help="Plan JSON (from the optimizer)"),
    arrivals: str = typer.Option("diurnal", "--arrivals", help="diurnal | poisson | azure"),
    hours: float = typer.Option(24.0, "--hours", help="simulated horizon in hours"),
    rate: float | None = typer.Option(None, "--rate", help="total mean requests/s (default: the plan's rate)"),
    tier_mix: str = typer.Option("accuracy:good=0.7,latency:good=0.3", "--tier-mix",
                                 help="tier=fraction,... or 'plan' for the plan's per-route rates"),
    autoscale: bool = typer.Option(False, "--autoscale/--no-autoscale", help="reactive autoscaler on/off"),
    seed: int = typer.Option(0, "--seed"),
    reoptimize: bool = typer.Option(False, "--reoptimize/--no-reoptimize",
                                    help="re-plan every epoch for the EWMA forecast (the runtime's re-optimizer)"),
    epoch_min: float = typer.Option(60.0, "--epoch-min", help="re-optimizer epoch in minutes"),
    provisioning_s: float = typer.Option(120.0, "--provisioning-s", help="seconds before a new instance serves"),
    peak_factor: float | None = typer.Option(None, "--peak-factor", help="re-plans size for forecast x this "
                                             "(default: the running plan's peak/average ratio per route)"),
    replan_check_min: float | None = typer.Option(None, "--replan-check-min", help="check arrivals every this many "
                                                  "minutes and re-plan early when they rise beyond the plan"),
    out: Path = typer.Option(Path("runs/sim"), "--out", help="run directory for CSV, plots and summary.json"),
    json_out: bool = typer.Option(False, "--json", help="print the run's summary as JSON (summary.json) instead "
                                                        "of the table"),
) -> None:
    """Run a plan over simulated traffic; print SLO attainment, GPUs, energy and cost."""
    from dataclasses import asdict

    from murakkab.cli_common import fail
    from murakkab.cli_output import check_out_dir, print_json, progress
    from murakkab.errors import MurakkabError
    from murakkab.plan.schema import Plan
    from murakkab.sim.arrivals import build_arrivals, parse_tier_mix
    from murakkab.sim.engine import SimConfig, simulate as run_sim
    from murakkab.sim.report import summarize, write_outputs

    console = stdout_console()
    try:
        check_out_dir(out)
        try:
            the_plan = Plan.from_json(plan.read_text())
        except ValueError as exc:
            raise MurakkabError(f"{plan} is not a valid Plan JSON: {str(exc).splitlines()[0]} "
                                "(fix: pass a file written by the optimizer)") from None
        mix = parse_tier_mix(tier_mix)
        horizon = hours * 3600.0
        reopt = None
        if reoptimize:   # the one re-plan path (policy.replan), as `murakkab serve --reoptimize` runs it
            from murakkab.policy.reoptimizer import TickDriver, forecast_of
            from murakkab.policy.replan import ReplanSettings, plan_maker
            rs = ReplanSettings(epoch_s=epoch_min * 60.0, provisioning_delay_s=provisioning_s, peak_factor=peak_factor,
                                check_s=replan_check_min * 60.0 if replan_check_min else None)
            running = [the_plan]

            def make(forecast):
                running[0] = plan_maker(rs, lambda: running[0])(forecast)
                return running[0]
            reopt = TickDriver(rs.reoptimizer(make, forecast_of(the_plan)))
        arr = build_arrivals(the_plan, arrivals, horizon, rate=rate, tier_mix=mix, seed=seed)
        with progress("simulating", ["simulating"]) as tell:
            res = run_sim(the_plan, arr, horizon_s=horizon, config=SimConfig(seed=seed, autoscale=autoscale),
                          reoptimizer=reopt, progress=lambda f: tell("simulating", f))
        summary = summarize(res, label=f"{the_plan.policy}{'+autoscale' if autoscale else ''}")
        files = write_outputs(res, summary, out)
        from murakkab.report.html import write_report   # the charts: report/ draws them from the run dir
        report = write_report(out)
    except MurakkabError as exc:
        fail(exc)
    except OSError as exc:
        fail(MurakkabError(f"cannot write the run directory {out}: {exc.strerror or exc} (fix: pass --out a "
                           "directory you can write to)"))
    if json_out:
        print_json({**asdict(summary), "replans": len(res.forecasts), "run_dir": str(out), "report": str(report)})
        return
    console.print(summary_table(summary))
    if reoptimize:
        console.print(f"re-plans: {len(res.forecasts)} (every {epoch_min:g} min, {provisioning_s:g} s provisioning)")
    gpus = ", ".join(f"{k}: {v}" for k, v in summary.peak_gpus_by_type.items()) or "none"
    gh = sum(summary.gpu_hours_by_type.values())
    console.print(f"peak GPUs {summary.peak_gpus} ({gpus}); GPU-hours {gh:.1f}; "
                  f"energy {summary.facility_mwh:.4f} MWh facility (PUE {summary.pue:g}, modelled); "
                  f"cost ${summary.cost_usd:,.2f}; delivered accuracy "
                  f"{'-' if summary.delivered_accuracy_percent is None else f'{summary.delivered_accuracy_percent:.1f}%'}")
    console.print(f"wrote {len(files)} files to {out}")
    console.print(f"report: {report}", highlight=False)
