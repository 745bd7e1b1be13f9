from __future__ import annotations

import pytest

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan, PlanTotals, Pool, Route, TierSpec
from murakkab.policy.reoptimizer import EpochReoptimizer, ewma, fleet_diff


def _plan(instances: dict[str, int], rate=1.0) -> Plan:
    pools = [Pool(id=k, kind="model", profile=k, profile_basis="estimate", hardware="H100-80GB", units_per_instance=1,
                  max_num_seqs=8, tpot_p50_s=0.02, power_busy_w=700, power_idle_w=100, node_overhead_w=0,
                  price_usd_per_hour=4, instances=n, busy_s_per_s_peak=0, busy_s_per_s_avg=0, utilisation_avg=0,
                  users=[]) for k, n in instances.items()]
    tier = TierSpec(workflow="wf", name="good", metric="latency", threshold=10)
    route = Route(workflow="wf", tier=tier, knobs={}, steps=[], edges=[], accuracy_percent=80, accuracy_basis="measured",
                  latency_p50_s=1, latency_p90_s=1, rate_peak_rps=rate, rate_avg_rps=rate, energy_wh_per_request=0,
                  cost_usd_per_request=0)
    return Plan(plan_id="p", created_unix=0, policy="joint", objective="energy", epoch_s=3600, pue=1.0,
                token_percentile_capacity="p90", routes=[route], pools=pools,
                totals=PlanTotals(gpus_by_type={}, energy_kwh_per_epoch=0, energy_wh_per_request=0, cost_usd_per_epoch=0,
                                  cost_usd_per_request=0, accuracy_percent_avg=0), solve=[])


class FakeView:
    def __init__(self, counts):
        self.t, self.counts = 0.0, dict(counts)
        self.calls = []

    def now(self):
        return self.t

    def pool_ids(self):
        return list(self.counts)

    def instances(self, pool):
        from murakkab.policy.view import InstanceInfo
        return [InstanceInfo(f"{pool}#{k}", pool, True, False, 0) for k in range(self.counts[pool])]

    def slots_per_instance(self, pool):
        return 8

    def add_instances(self, pool, n, ready_at):
        self.calls.append(("add", pool, n, ready_at))

    def remove_instances(self, pool, n, at=None):
        self.calls.append(("remove", pool, n, at))

    def install_plan(self, plan, switch_at):
        self.calls.append(("install", plan.plan_id, switch_at))


def test_ewma_by_hand():
    assert ewma({("a", "x"): 1.0}, {("a", "x"): 3.0, ("b", "y"): 2.0}, 0.5) == {("a", "x"): 2.0, ("b", "y"): 1.0}


def test_epochs_forecast_replan_and_actuate():
    seen = []

    def maker(forecast):
        seen.append(forecast)
        return _plan({"A": 3, "C": 1})

    reopt = EpochReoptimizer(maker, initial_forecast={("wf", "latency:good"): 1.0}, epoch_s=100,
                             provisioning_delay_s=60)
    view = FakeView({"A": 1, "B": 2})
    for _ in range(300):                       # 300 arrivals in the first 100 s: observed 3/s
        reopt.record_arrival("wf", "latency:good")
    view.t = 100
    reopt.on_epoch(view)
    assert seen[-1] == {("wf", "latency:good"): pytest.approx(0.5 * 3.0 + 0.5 * 1.0)}
    assert ("install", "p", 160) in view.calls
    assert ("add", "A", 2, 160) in view.calls and ("add", "C", 1, 160) in view.calls
    assert ("remove", "B", 2, 160) in view.calls
    view.t = 200                               # no arrivals in the second epoch
    reopt.on_epoch(view)
    assert seen[-1] == {("wf", "latency:good"): pytest.approx(0.5 * 0.0 + 0.5 * 2.0)}


def test_fleet_diff():
    assert fleet_diff({"A": 2, "B": 1}, _plan({"A": 1, "C": 2})) == ({"C": 2}, {"A": 1, "B": 1})


def test_bad_alpha():
    with pytest.raises(MurakkabError, match="alpha"):
        EpochReoptimizer(lambda f: _plan({}), {}, alpha=0)


def test_a_body_that_solves_off_its_clock_closes_then_actuates_from_when_the_plan_is_ready():
    """The runtime closes the epoch, solves in a thread while time runs on, then actuates: the
    provisioning delay counts from when the plan exists, and the epoch's rates are kept for reports."""
    reopt = EpochReoptimizer(lambda f: _plan({"A": 2}), initial_forecast={("wf", "latency:good"): 1.0},
                             epoch_s=100, provisioning_delay_s=60)
    view = FakeView({"A": 1})
    reopt.begin(40.0)                          # the body's clock read 40 s when the loop started
    for _ in range(120):
        reopt.record_arrival("wf", "latency:good")
    forecast = reopt.close_epoch(100.0)        # 120 arrivals over 60 s: 2/s
    assert reopt.last_observed == {("wf", "latency:good"): 2.0} and reopt.last_elapsed_s == 60.0
    assert forecast == {("wf", "latency:good"): pytest.approx(0.5 * 2.0 + 0.5 * 1.0)}
    view.t = 103.0                             # the solve took 3 s
    reopt.actuate(view, reopt.make_plan(forecast))
    assert view.calls == [("install", "p", 163.0), ("add", "A", 1, 163.0)]
