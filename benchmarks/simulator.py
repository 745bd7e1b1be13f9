"""Simulator speed: simulated workflow requests per wall-clock second (one process, one core).

Scenarios, both on one optimizer plan (joint policy, energy objective) for video_qa + code_gen +
reasoning at the Azure 2023 trace's mean rates (code 2.45/s -> code_gen; conversation 5.38/s split
video_qa/reasoning at the median context), tier mix 70% accuracy:good / 30% latency:good, peak = 1.5 ×
mean:
- azure-1h: the packaged 1-hour Azure traces replayed;
- diurnal-24h: 24 hours of the seeded diurnal generator at the same mean rates (peak/trough 3).
Only `simulate()` is timed (not planning, arrivals generation or reporting); wall-clock and CPU
(process) time are both reported because the machine may be shared. The packaged profile store and
the interpolation module (scipy) are loaded once before timing: a once-per-process cost (~0.7 s) that
would otherwise land in whichever scenario runs first.

    python benchmarks/simulator.py [--plan PLAN.json] [--save-plan PATH] [--only azure|diurnal]

The simulator's compiled core runs when it is built and fresh (docs/simulator.md); the script prints
which one ran. `MURAKKAB_SIM_PURE=1` times the pure-Python modules instead.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import os
import platform
import time
from pathlib import Path

from murakkab.plan.schema import Plan
from murakkab.sim.arrivals import azure_times, build_arrivals
from murakkab.sim.engine import SimConfig, simulate
from murakkab.sim.report import summarize


def standard_plan() -> Plan:
    from murakkab.optimizer.api import Demand, PlanRequest, make_plan
    rates = {wf: len(ts) / 3600.0 for wf, ts in azure_times().items()}
    demand = {}
    for wf, r in rates.items():
        for tier, share in (("accuracy:good", 0.7), ("latency:good", 0.3)):
            demand[(wf, tier)] = Demand(peak_rps=1.5 * r * share, avg_rps=r * share)
    return make_plan(PlanRequest(demand=demand))


def bench(plan: Plan, kind: str, hours: float, seed: int = 0) -> dict:
    arr = build_arrivals(plan, kind, hours * 3600.0, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate(plan, arr, horizon_s=hours * 3600.0, config=SimConfig(seed=seed))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = summarize(res)
    return {"scenario": f"{kind}-{hours:g}h", "requests": len(arr), "wall_s": wall, "req_per_s": len(arr) / wall,
            "cpu_s": cpu, "req_per_cpu_s": len(arr) / cpu,
            "slo": s.slo_attainment, "peak_gpus": s.peak_gpus, "mwh": s.facility_mwh}


def core_used() -> str:
    """Which build of the event core this process imported (works on trees older than the compiled core)."""
    import murakkab.sim
    import murakkab.sim.engine as engine
    name = Path(engine.__file__).name
    if name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        return f"compiled ({name})"
    return f"pure Python ({getattr(murakkab.sim, 'PURE_REASON', None) or 'not built'})"


def warm_up() -> None:
    """Load what every run shares once per process: the profile store and the curve interpolation."""
    import murakkab.profiles.interpolate  # noqa: F401 - imports scipy.interpolate
    from murakkab.instance import store_resolver
    store_resolver()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", type=Path)
    ap.add_argument("--save-plan", type=Path)
    ap.add_argument("--only", choices=("azure", "diurnal"), help="run one scenario")
    args = ap.parse_args()
    if args.plan:
        plan = Plan.from_json(args.plan.read_text())
    else:
        t = time.perf_counter()
        plan = standard_plan()
        print(f"planned in {time.perf_counter() - t:.1f} s")
    if args.save_plan:
        args.save_plan.write_text(plan.to_json())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}; simulator core: {core_used()}")
    warm_up()
    for kind, hours in (("azure", 1.0), ("diurnal", 24.0)):
        if args.only and kind != args.only:
            continue
        r = bench(plan, kind, hours)
        print(f"{r['scenario']}: {r['requests']} workflow requests in {r['wall_s']:.2f} s = "
              f"{r['req_per_s']:,.0f} requests/s wall, {r['req_per_cpu_s']:,.0f} per CPU-second (SLO attainment {100 * r['slo']:.1f}%, peak GPUs {r['peak_gpus']}, "
              f"{r['mwh']:.3f} MWh)")


if __name__ == "__main__":
    main()
