"""Optimizer benchmark: solve time, optimality gap and problem size.

Scenarios: the standard scenario (video_qa, code_gen, reasoning x 4 tiers x accuracy and latency
SLOs, full catalogue) at paper-like scale, and scaled ones with 10, 30 and 100 workflows (copies of
the three reference workflows, each with its own demand, so nothing is shared by construction
except pools). The catalogue, profiles and workflow models are loaded once before timing (`warm_up`);
"solve s" is the solver's wall-clock time over every pass, "plan s" the whole `make_plan` call.
Run: python3 benchmarks/optimizer.py [--quick]
"""

from __future__ import annotations

import os
import platform
import sys
import time

from murakkab.optimizer import PlanRequest, make_plan
from murakkab.optimizer.demand import STANDARD_WORKFLOWS, standard_demand
from murakkab.plan.ids import WorkflowCopy


def scaled_workflows(n: int) -> tuple[str, ...]:
    return tuple(str(WorkflowCopy(STANDARD_WORKFLOWS[i % 3], i // 3 if i >= 3 else None)) for i in range(n))


def run(label: str, demand, time_limit: float, gap: float = 1e-3) -> None:
    t0 = time.perf_counter()
    plan = make_plan(PlanRequest(demand=demand, time_limit_s=time_limit, mip_rel_gap=gap))
    wall = time.perf_counter() - t0
    s = plan.solve[0]
    gpus = sum(plan.totals.gpus_by_type.values())
    print(f"| {label} | {len(demand)} | {s.variables} | {s.integer_variables} | {s.constraints} | "
          f"{s.solve_time_s:.2f} | {wall:.2f} | {s.mip_gap:.3%} | {s.status} | {gpus} |", flush=True)


def warm_up() -> float:
    """What every plan in a running process shares, loaded once before timing: the catalogue, the
    profile store and the three reference workflows' configuration models (their cold load is
    measured on its own: the profiles benchmark). Returns the seconds it took."""
    from murakkab.optimizer import tiers_for
    t0 = time.perf_counter()
    for w in STANDARD_WORKFLOWS:
        tiers_for(w)
    make_plan(PlanRequest(demand=standard_demand(0.1), mip_rel_gap=1e-2))
    return time.perf_counter() - t0


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"python {platform.python_version()}, {platform.machine()}, HiGHS via highspy, "
          f"one thread per HiGHS run, independent parts on {os.cpu_count()} threads")
    print(f"warm-up (catalogue, profiles, workflow models; not in the table): {warm_up():.2f} s")
    print("| scenario | (workflow, tier) pairs | variables | integer | constraints | solve s | plan s (wall) "
          "| gap | status | GPUs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scale in (1.0, 10.0):
        run(f"standard, scale {scale:g}", standard_demand(scale), 120)
        run(f"standard, scale {scale:g}, 1% gap tolerance", standard_demand(scale), 120, gap=1e-2)
    if quick:
        return
    for n in (10, 30, 100):
        run(f"{n} workflows, scale 10", standard_demand(10.0, scaled_workflows(n)), 300)


if __name__ == "__main__":
    main()
