"""`murakkab plan | tiers | pareto`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from murakkab.cli_common import fail
from murakkab.cli_output import print_json, readable, stdout_console, working
from murakkab.errors import MurakkabError
from murakkab.plan.ids import pool_label, unscoped

JSON_HELP = "Print JSON on stdout instead of tables."


def _fail(exc: Exception) -> None:
    fail(exc if isinstance(exc, MurakkabError) else MurakkabError(str(exc)))


def plan_table(plan) -> list[Table]:
    routes = Table(title=f"Plan {plan.plan_id}: {plan.policy}, objective {plan.objective}")
    for col in ("workflow", "tier", "knobs", "steps (model @ pool)", "acc %", "p50 s", "p90 s", "Wh/req", "$/req"):
        routes.add_column(col)
    for r in plan.routes:
        steps = "; ".join(
            f"{s.task}: " + ("off" if s.skipped else ", ".join(
                f"{(s.model + ' @ ') if s.model else ''}{pool_label(ps.pool) if s.model else ps.pool}"
                f"{'' if ps.share > 0.999 else f' ({ps.share:.0%})'}" for ps in s.pools))
            for s in r.steps)
        tier = f"{r.tier.key} ({'>=' if r.tier.metric == 'accuracy' else '<='}{r.tier.threshold:.4g})"
        routes.add_row(r.workflow, tier, ",".join(f"{k}={v}" for k, v in r.knobs.items()), steps,
                       f"{r.accuracy_percent:.1f}", f"{r.latency_p50_s:.1f}", f"{r.latency_p90_s:.1f}",
                       f"{r.energy_wh_per_request:.3f}", f"{r.cost_usd_per_request:.4f}")
    pools = Table(title="Pools")
    for col in ("pool", "basis", "instances", "units", "util (avg)", "users"):
        pools.add_column(col)
    for p in plan.pools:
        pools.add_row(unscoped(p.id), p.profile_basis, str(p.instances), f"{p.units_per_instance}x{p.hardware}",
                      f"{p.utilisation_avg:.0%}", ", ".join(f"{u.workflow}/{u.tier}/{u.task} {u.share_of_pool_load:.0%}"
                                                           for u in p.users[:4]) + (" ..." if len(p.users) > 4 else ""))
    t = plan.totals
    totals = Table(title="Totals (per epoch of %.0f min, PUE %.2f)" % (plan.epoch_s / 60, plan.pue))
    for col in ("GPUs", "CPU nodes", "kWh/epoch", "Wh/request", "$/epoch", "$/request", "accuracy %"):
        totals.add_column(col)
    totals.add_row(", ".join(f"{n} {h}" for h, n in t.gpus_by_type.items()) or "0",
                   ", ".join(f"{n} {h}" for h, n in t.cpu_nodes_by_type.items()) or "0",
                   f"{t.energy_kwh_per_epoch:,.1f}", f"{t.energy_wh_per_request:.3f}", f"{t.cost_usd_per_epoch:,.2f}",
                   f"{t.cost_usd_per_request:.4f}", f"{t.accuracy_percent_avg:.1f}")
    solve = Table(title="Solve")
    for col in ("solver", "status", "time s", "gap", "variables", "integer", "constraints"):
        solve.add_column(col)
    for s in plan.solve:
        solve.add_row(s.solver, s.status, f"{s.solve_time_s:.3f}", f"{s.mip_gap:.4%}", str(s.variables),
                      str(s.integer_variables), str(s.constraints))
    return [readable(routes), readable(pools), readable(totals, ids=()), readable(solve)]


def demand_of(rate: list[str], standard: bool, scale: float, trace: list[str], window_min: float,
              trace_chat: str | None = None, slots: int = 1) -> dict:
    """The demand the options describe: the standard scenario, then --trace workflows, then --rate
    lines. `scale` multiplies the standard scenario's and the trace's rates (never --rate lines);
    `trace_chat` sends every conversation request of the trace to that one workflow; `slots` cuts the
    trace's window into that many slots, each with its own peak (pools sized on their summed load)."""
    from murakkab.optimizer.api import Demand
    from murakkab.optimizer.demand import demand_from_times, parse_rate, standard_demand
    if not (scale > 0 and math.isfinite(scale)):
        raise MurakkabError(f"--scale must be a positive number (got {scale}; fix: e.g. --scale 10)")
    if scale != 1.0 and not (standard or trace):
        raise MurakkabError("--scale multiplies the --standard or --trace demand; with --rate alone, give the "
                            "rates you want (fix: drop --scale, or add --standard or --trace)")
    if slots != 1 and not trace:
        raise MurakkabError("--slots cuts the --trace window into slots: it needs --trace (fix: add --trace "
                            "WORKFLOW, or drop --slots)")
    if trace_chat is not None and not trace:
        raise MurakkabError("--trace-chat maps the trace's conversations: it needs --trace (fix: e.g. "
                            f"--trace {trace_chat} --trace-chat {trace_chat})")
    demand = dict(standard_demand(scale)) if standard else {}
    if trace:
        from murakkab.sim.arrivals import azure_times
        times = azure_times(trace_chat)
        for w in trace:
            if w not in times:
                raise MurakkabError(f"no trace for workflow '{w}' (known: {', '.join(times)})")
            for key, d in demand_from_times(w, times[w], window_min * 60.0, slots=slots).items():
                demand[key] = Demand(peak_rps=d.peak_rps * scale, avg_rps=d.avg_rps * scale,
                                     slot_peaks=tuple(r * scale for r in d.slot_peaks))
    for r in rate:
        key, d = parse_rate(r)
        demand[key] = d
    return demand


def budgets_of(budget: list[str]) -> dict[str, int]:
    """HARDWARE=COUNT options as a dict; a clear error for anything else."""
    budgets = {}
    for b in budget:
        if "=" not in b:
            raise MurakkabError(f"budget '{b}' is not HARDWARE=COUNT (fix: e.g. --budget H100-80GB=64)")
        hw, n = b.split("=", 1)
        try:
            budgets[hw] = int(n)
        except ValueError:
            raise MurakkabError(f"budget '{b}': '{n}' is not a whole number") from None
    return budgets


def write_plan(out: Path, plan) -> None:
    """Write the Plan JSON atomically: a failed write leaves no partial plan behind."""
    tmp = out.with_suffix(out.suffix + ".tmp")
    try:
        tmp.write_text(plan.to_json())
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MurakkabError(f"cannot write the plan to {out}: {exc.strerror or exc} (fix: pass --out a file path "
                            "in a directory you can write to)") from None


def plan(
    rate: list[str] = typer.Option([], "--rate", help="WORKFLOW:METRIC:TIER=PEAK or PEAK/AVERAGE, requests/s; repeat."),
    standard: bool = typer.Option(False, help="Plan the standard scenario (3 workflows x 8 tiers)."),
    scale: float = typer.Option(1.0, help="Scale the standard scenario's or the trace's rates."),
    trace: list[str] = typer.Option([], help="WORKFLOW: demand from the packaged Azure 2023 trace "
                                               "(code -> code_gen, conversation -> video_qa and reasoning)."),
    trace_chat: Optional[str] = typer.Option(None, "--trace-chat", help="WORKFLOW: send every conversation "
                                             "request of the trace to this workflow (default: split by context)."),
    window_min: float = typer.Option(60.0, help="Forecast window over the trace (minutes)."),
    slots: int = typer.Option(1, help="Cut the trace window into this many slots, each with its own peak: "
                                      "shared pools are sized on the peak of their summed load."),
    objective: str = typer.Option("energy", help="energy | cost | accuracy"),
    policy: str = typer.Option("joint", help="joint | per-workflow | static"),
    static_baseline: Optional[Path] = typer.Option(None, "--static-baseline", help="YAML of the static policy's "
                                                   "picks per workflow (default: the packaged baseline)."),
    tiers_file: Optional[Path] = typer.Option(None, "--tiers", help="YAML of SLO tiers per workflow (default: "
                                              "derived from the catalogue)."),
    budget: list[str] = typer.Option([], help="HARDWARE=COUNT available (GPUs or CPU nodes); repeat."),
    cost_budget: Optional[float] = typer.Option(None, help="$ per epoch (accuracy objective)."),
    pue: float = typer.Option(1.2, help="Facility PUE (estimate by default)."),
    epoch_min: float = typer.Option(60.0, help="Epoch length in minutes."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds for every solve together; the best "
                                                                 "plan by then is kept."),
    out: Optional[Path] = typer.Option(None, help="Write the Plan JSON here."),
    json_out: bool = typer.Option(False, "--json", help="Print the Plan JSON on stdout instead of tables."),
    hardware: list[str] = typer.Option([], help="Plan only on this hardware (CPU nodes stay allowed); repeat."),
) -> None:
    """Plan models, knobs, hardware, operating points and instance counts for the demand."""
    from murakkab.optimizer import InfeasiblePlan, PlanRequest, make_plan
    from murakkab.optimizer.scenario_files import load_static_baseline, load_tiers
    try:
        if objective not in ("energy", "cost", "accuracy"):
            raise MurakkabError(f"unknown objective '{objective}' (fix: energy, cost or accuracy)")
        if policy not in ("joint", "per-workflow", "static"):
            raise MurakkabError(f"unknown policy '{policy}' (fix: joint, per-workflow or static)")
        req = PlanRequest(demand=demand_of(rate, standard, scale, trace, window_min, trace_chat, slots), objective=objective,
                          policy=policy, budgets=budgets_of(budget), cost_budget_usd=cost_budget, pue=pue,
                          epoch_s=epoch_min * 60.0, time_limit_s=time_limit, hardware=tuple(hardware) or None,
                          static_baseline=None if static_baseline is None else load_static_baseline(static_baseline),
                          tiers=None if tiers_file is None else load_tiers(tiers_file))
        with working("planning"):
            result = make_plan(req)
        if out:
            write_plan(out, result)
    except (MurakkabError, InfeasiblePlan) as exc:
        _fail(exc)
        return
    if json_out:
        print_json(json.loads(result.to_json()))
        return
    console = stdout_console()
    for t in plan_table(result):
        console.print(t)
    for n in result.notes:
        console.print(f"note: {n}", highlight=False)
    if out:
        console.print(f"plan written to {out}")


def tiers_table(workflow: str, result) -> Table:
    table = Table(title=f"{workflow}: SLO tiers")
    for col in ("tier", "threshold", "accuracy floor", "derived from"):
        table.add_column(col)
    for t in result:
        unit = "%" if t.metric == "accuracy" else " s"
        op = ">=" if t.metric == "accuracy" else "<="
        table.add_row(t.key, f"{op} {t.threshold:.4g}{unit}",
                      "" if t.accuracy_floor is None else f">= {t.accuracy_floor:.4g}%", t.source)
    return readable(table)


def tiers(workflow: str, json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """The workflow's SLO tiers, derived from the catalogue (best, p95, p80, p50)."""
    from murakkab.optimizer import tiers_for
    try:
        result = tiers_for(workflow)
    except MurakkabError as exc:
        _fail(exc)
        return
    if json_out:
        print_json([dict(t.model_dump(mode="json"), key=t.key) for t in result])
        return
    stdout_console().print(tiers_table(workflow, result))


def pareto_table(workflow: str, pts, limit: int) -> Table:
    front = sorted((p for p in pts if p.on_front), key=lambda p: (-p.accuracy_percent, p.latency_p90_s))
    table = Table(title=f"{workflow}: Pareto front ({len(front)} of {len(pts)} points)")
    for col in ("configuration", "pool", "acc %", "p90 s", "Wh/req", "$/1k req"):
        table.add_column(col)
    for p in front[:limit]:
        table.add_row(p.config, pool_label(p.pool),
                      f"{p.accuracy_percent:.1f}", f"{p.latency_p90_s:.1f}", f"{p.energy_wh:.3f}",
                      f"{p.cost_usd * 1000:.2f}")
    return readable(table, ids=(0, 1))


def pareto(workflow: str, png: Optional[Path] = typer.Option(None, help="Write the plot here."),
           pue: float = typer.Option(1.2), limit: int = typer.Option(25, help="Rows to print."),
           json_out: bool = typer.Option(False, "--json", help="Print every point (on the front or not) as JSON "
                                                               "instead of the table.")) -> None:
    """The accuracy-latency-energy-cost front of a workflow (table, and a PNG plot)."""
    from murakkab.optimizer.pareto import plot, points
    from murakkab.optimizer.world import workflow_model
    try:
        with working("computing the front"):
            pts = points(workflow_model(workflow), pue=pue)
    except MurakkabError as exc:
        _fail(exc)
        return
    target = png or Path(f"pareto_{workflow}.png")
    plot(pts, workflow, str(target))
    if json_out:
        print_json({"workflow": workflow, "png": str(target), "points": [asdict(p) for p in pts]})
        return
    console = stdout_console()
    console.print(pareto_table(workflow, pts, limit))
    console.print(f"plot written to {target}")


def register(app: typer.Typer) -> None:
    """Add `murakkab plan`, `tiers` and `pareto` to the app."""
    for command in (plan, tiers, pareto):
        app.command()(command)
