"""Route variants: a request runs every step on the pools of the one variant it picked."""

from __future__ import annotations

import pytest

from murakkab.errors import MurakkabError
from murakkab.plan.schema import RouteVariant
from murakkab.instance import plan_point_curve
from murakkab.sim.engine import simulate

# Constant TPOT and plenty of slots (infinite server): a step of 10 tokens takes 10 x TPOT exactly.
FAST_TPOT, SLOW_TPOT, TOKENS, SLO = 0.1, 0.3, 10, 5.0     # fast step 1 s, slow step 3 s


def _plan(b, variants):
    pools = [b.model_pool(pid, tpot=t, max_num_seqs=64)
             for pid, t in (("a_fast", FAST_TPOT), ("a_slow", SLOW_TPOT), ("b_fast", FAST_TPOT), ("b_slow", SLOW_TPOT))]
    steps = [b.llm_step("a", [("a_fast", 0.5), ("a_slow", 0.5)], out_p50=TOKENS),
             b.llm_step("b", [("b_fast", 0.5), ("b_slow", 0.5)], out_p50=TOKENS)]
    r = b.route(steps, [("a", "b")], threshold=SLO).model_copy(update={"variants": variants})
    return b.plan([r], pools)


def _arrivals(n):
    return [(10.0 * i, "wf", "latency:good") for i in range(n)]    # far apart: nobody shares an instance


def test_variants_keep_every_request_within_the_slo_where_mixed_choices_miss(b):
    # each variant is fast+slow = 4 s <= 5 s; a per-step mix can give slow+slow = 6 s > 5 s
    variants = [RouteVariant(share=0.5, pools={"a": "a_fast", "b": "b_slow"}),
                RouteVariant(share=0.5, pools={"a": "a_slow", "b": "b_fast"})]
    res = simulate(_plan(b, variants), _arrivals(40), horizon_s=400.0, resolver=plan_point_curve)
    assert len(res.requests) == 40
    assert all(r.latency_s == pytest.approx(4.0) and r.slo_met for r in res.requests)
    # both variants are used, half each: summed step latency = 20 fast (1 s) + 20 slow (3 s) per step
    for task in ("a", "b"):
        assert res.steps[("wf", "latency:good", task)][1] == pytest.approx(20 * 1.0 + 20 * 3.0)


def test_without_variants_the_same_marginals_miss_the_slo(b):
    # control: identical per-step shares, independent round-robin per step -> fast+fast and slow+slow
    res = simulate(_plan(b, []), _arrivals(40), horizon_s=400.0, resolver=plan_point_curve)
    lat = sorted(round(r.latency_s, 6) for r in res.requests)
    assert lat == [2.0] * 20 + [6.0] * 20
    assert sum(r.slo_met for r in res.requests) == 20


def test_variant_shares_are_followed(b):
    variants = [RouteVariant(share=0.75, pools={"a": "a_fast", "b": "b_slow"}),
                RouteVariant(share=0.25, pools={"a": "a_slow", "b": "b_fast"})]
    res = simulate(_plan(b, variants), _arrivals(40), horizon_s=400.0, resolver=plan_point_curve)
    # step a latency sum: 30 requests on the fast pool (1 s) + 10 on the slow (3 s)
    assert res.steps[("wf", "latency:good", "a")][1] == pytest.approx(30 * 1.0 + 10 * 3.0)
    assert all(r.slo_met for r in res.requests)


def test_variant_naming_a_pool_outside_the_step_is_rejected(b):
    bad = [RouteVariant(share=1.0, pools={"a": "b_fast", "b": "b_slow"})]
    with pytest.raises(MurakkabError, match=r"variant 0 gives step 'a' pool 'b_fast'"):
        simulate(_plan(b, bad), _arrivals(1), horizon_s=10.0, resolver=plan_point_curve)
    missing = [RouteVariant(share=1.0, pools={"a": "a_fast"})]
    with pytest.raises(MurakkabError, match=r"step 'b' pool None"):
        simulate(_plan(b, missing), _arrivals(1), horizon_s=10.0, resolver=plan_point_curve)
