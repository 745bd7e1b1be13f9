"""The one re-plan path: settings refused once with the reason, the peak rule, the trigger's reasons,
and a plan made by the shared maker sized by its peak rule."""

import pytest

from murakkab.errors import MurakkabError
from murakkab.policy.reoptimizer import EpochReoptimizer
from murakkab.policy.replan import PlanShape, ReplanSettings, peak_rates, plan_maker
from tests.runtime import worlds


@pytest.mark.parametrize("kw, words", [
    ({"epoch_s": 0}, "epoch must be > 0"), ({"alpha": 0}, "alpha must be in (0, 1]"),
    ({"provisioning_delay_s": -1}, "provisioning delay must be >= 0"), ({"peak_factor": 0.9}, "peak factor must be >= 1"),
    ({"check_s": 7200}, "check interval must be in (0, epoch 3600"), ({"deviation": 0}, "deviation > 0"),
    ({"time_limit_s": 0}, "time_limit_s > 0"),
])
def test_bad_settings_are_refused_with_the_reason(kw, words):
    with pytest.raises(MurakkabError) as err:
        ReplanSettings(**kw)
    assert words in str(err.value)


def test_the_peak_rule():
    forecast = {("reasoning", "accuracy:good"): 2.0, ("new", "latency:good"): 1.0}
    # a factor multiplies every forecast rate
    assert peak_rates(forecast, ReplanSettings(peak_factor=1.5), None) == {("reasoning", "accuracy:good"): 3.0,
                                                                           ("new", "latency:good"): 1.5}
    # without one: the running plan's peak/average per route (hand plan: peak 1.0 over average 0.5 = 2),
    # 1 for a route the plan does not have
    plan = worlds.hand_plan()
    plan = plan.model_copy(update={"routes": [r.model_copy(update={"rate_avg_rps": 0.5}) for r in plan.routes]})
    assert peak_rates(forecast, ReplanSettings(), plan) == {("reasoning", "accuracy:good"): 4.0,
                                                            ("new", "latency:good"): 1.0}


def test_the_trigger_says_why_it_fires():
    ro = EpochReoptimizer(lambda f: None, {("wf", "t"): 1.0}, epoch_s=100.0, check_s=10.0)
    assert ro.due(5.0) is None
    for _ in range(10):                       # 10 arrivals in 10 s against 1/s planned: no rise
        ro.record_arrival("wf", "t")
    assert ro.due(10.0) is None
    for _ in range(20):                       # 30 in 10 s: > 1.15 x 10 and 20 > 3 sqrt(10)
        ro.record_arrival("wf", "t")
    assert ro.due(10.0) == "deviation: wf" and ro.early == [(10.0, "wf")]
    assert ro.due(100.0) == "epoch"


def test_the_shared_maker_sizes_routes_by_its_peak_rule():
    make = plan_maker(ReplanSettings(peak_factor=2.0), PlanShape(policy="joint"))
    plan = make({("reasoning", "accuracy:good"): 0.5})
    (route,) = plan.routes
    assert (route.rate_avg_rps, route.rate_peak_rps) == pytest.approx((0.5, 1.0))
    assert plan.policy == "joint"
