"""The one SLO verdict, by hand, and the simulator's inlined copy of it on every request of a run."""

from __future__ import annotations

import random

import pytest

from murakkab.policy.slo import LATENCY_TOLERANCE_S, SloRule, attainment
from murakkab.sim.arrivals import poisson_times
from murakkab.instance import plan_point_curve
from murakkab.sim.engine import simulate
from tests.sim.conftest import Builders


def test_accuracy_tier_is_judged_on_the_route_not_the_latency():
    rule = SloRule("accuracy", 80.0, None, 85.0)
    assert rule.met(0.1) and rule.met(1e6)
    assert not SloRule("accuracy", 80.0, None, 79.9).met(0.1)
    assert not rule.met(None)                                 # did not finish


def test_latency_tier_needs_the_threshold_and_the_accuracy_floor():
    rule = SloRule("latency", 2.0, 60.0, 70.0)
    assert rule.met(2.0) and rule.met(2.0 + 0.5 * LATENCY_TOLERANCE_S) and not rule.met(2.0 + 1e-6)
    assert not SloRule("latency", 2.0, 75.0, 70.0).met(0.1)   # fast, but from a route below the floor
    assert SloRule("latency", 2.0, None, 10.0).met(1.0)       # no floor given: latency alone
    assert SloRule("latency", 2.0, 60.0, 70.0).describe() == "latency <= 2 s (accuracy >= 60%)"
    assert SloRule("accuracy", 80.0, None, 85.0).describe() == "accuracy >= 80%"


def test_the_float_slack_absorbs_a_sum_that_rounds_up():
    # 0.1 + 0.2 = 0.30000000000000004 in floats: a request taking exactly 0.3 s in exact arithmetic
    assert 0.1 + 0.2 > 0.3
    assert SloRule("latency", 0.3, None, 50.0).met(0.1 + 0.2)


def test_attainment_counts_unfinished_requests_as_missed():
    assert attainment(3, 4) == 0.75
    assert attainment(3, 4, unfinished=2) == 0.5
    assert attainment(0, 0) is None
    with pytest.raises(ValueError, match="more than finished"):
        attainment(5, 4)


def _with_floor(route, floor):
    return route.model_copy(update={"tier": route.tier.model_copy(update={"accuracy_floor": floor})})


@pytest.mark.parametrize("threshold,floor", [(0.3 + 40 * 0.05, None), (2.0, None), (10.0, 85.0), (10.0, 75.0)])
def test_the_simulators_verdicts_are_the_rules(threshold, floor):
    b = Builders()
    # latency = TTFT + 40 x TPOT exactly (infinite-server regime), so threshold 2.3 sits on the latency itself
    route = _with_floor(b.route([b.llm_step("a", [("m", 1.0)], out_p50=40)], threshold=threshold, accuracy=80.0), floor)
    p = b.plan([route], [b.model_pool(tpot=0.05, ttft=0.3, max_num_seqs=64)])
    arr = [(t, "wf", "latency:good") for t in poisson_times(2.0, 120, random.Random(1))]
    res = simulate(p, arr, horizon_s=120, resolver=plan_point_curve)
    rule = SloRule.of_route(p.routes[0])
    assert res.requests
    assert [r.slo_met for r in res.requests] == [rule.met(r.latency_s) for r in res.requests]
    expected = {(2.3, None): True, (2.0, None): False, (10.0, 85.0): False, (10.0, 75.0): True}
    assert all(r.slo_met == expected[(round(threshold, 6), floor)] for r in res.requests)
