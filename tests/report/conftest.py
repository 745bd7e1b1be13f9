"""A real two-policy comparison (static and joint plans from the optimizer, 10 simulated minutes each),
written by the simulator's own `write_outputs`, once per test session."""

from __future__ import annotations

import pytest

from murakkab.optimizer import api
from murakkab.sim.arrivals import build_arrivals
from murakkab.sim.engine import simulate
from murakkab.sim.report import summarize, write_outputs

DEMAND = {("code_gen", "latency:good"): api.Demand(peak_rps=0.3, avg_rps=0.3),
          ("reasoning", "accuracy:good"): api.Demand(peak_rps=0.3, avg_rps=0.3)}
HORIZON_S = 600.0


@pytest.fixture(scope="session")
def comparison_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-runs")
    for policy in ("static", "joint"):
        plan = api.make_plan(api.PlanRequest(demand=DEMAND, policy=policy))
        arr = build_arrivals(plan, "poisson", HORIZON_S, rate=0.6, tier_mix=None, seed=7)
        res = simulate(plan, arr, horizon_s=HORIZON_S)
        write_outputs(res, summarize(res, label=policy), root / policy)
    return root
