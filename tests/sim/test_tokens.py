"""The simulator samples output tokens from the optimizer's token model (profiles.tokens)."""

from __future__ import annotations

from statistics import quantiles

import pytest

from murakkab.errors import MurakkabError
from murakkab.instance import plan_point_curve
from murakkab.sim.engine import simulate


def test_simulated_tokens_follow_the_plans_percentiles(b):
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=120, out_p90=400)], threshold=1e9)],
               [b.model_pool(tpot=0.001, max_num_seqs=256)])
    arrivals = [(0.5 * i, "wf", "latency:good") for i in range(20_000)]
    res = simulate(p, arrivals, horizon_s=10_000.0, resolver=plan_point_curve)
    toks = sorted(r.tokens_out for r in res.requests)
    deciles = quantiles(toks, n=10)
    assert deciles[4] == pytest.approx(120, rel=0.04)
    assert deciles[8] == pytest.approx(400, rel=0.05)


def test_model_step_without_token_stats_is_rejected(b):
    bad = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=100, out_p90=50)])], [b.model_pool()])
    with pytest.raises(MurakkabError, match="output_tokens_p90 >= output_tokens_p50"):
        simulate(bad, [(0.0, "wf", "latency:good")], horizon_s=1.0, resolver=plan_point_curve)
    none = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=0)])], [b.model_pool()])
    with pytest.raises(MurakkabError, match="no output tokens"):
        simulate(none, [(0.0, "wf", "latency:good")], horizon_s=1.0, resolver=plan_point_curve)
