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


# ---- deviation trigger ----------------------------------------------------------------------------
def _trigger(maker, **kw):
    kw = {"epoch_s": 3600, "provisioning_delay_s": 60, "check_s": 600, **kw}
    return EpochReoptimizer(maker, initial_forecast={("wf", "latency:good"): 1.0}, **kw)


def test_a_rise_beyond_the_trigger_replans_before_the_epoch_ends():
    seen = []
    reopt = _trigger(lambda f: seen.append(f) or _plan({"A": 2}))
    view = FakeView({"A": 1})
    for _ in range(900):                       # 1.5/s over 600 s against a plan for 1/s
        reopt.record_arrival("wf", "latency:good")
    view.t = 600
    assert reopt.deviating(600) == ["wf"]
    assert reopt.on_tick(view) is not None
    assert reopt.early == [(600, "wf")]
    assert seen == [{("wf", "latency:good"): pytest.approx(0.5 * 1.5 + 0.5 * 1.0)}]   # an ordinary EWMA close
    view.t = 1200                              # the new epoch began at 600: nothing counted since
    assert reopt.on_tick(view) is None and len(seen) == 1


def test_trigger_thresholds_by_hand():
    # planned 1/s over 600 s: expected 600 arrivals; deviation 0.15 -> more than 690; z = 3 -> more than
    # 600 + 3·√600 = 673.5; both must hold
    reopt = _trigger(lambda f: _plan({}))
    for _ in range(690):
        reopt.record_arrival("wf", "latency:good")
    assert reopt.deviating(600) == []          # exactly 15 % more: not beyond
    reopt.record_arrival("wf", "latency:good")
    assert reopt.deviating(600) == ["wf"]
    assert reopt.deviating(599) == []          # checks start check_s into the epoch
    noisy = _trigger(lambda f: _plan({}), deviation=0.01)
    for _ in range(670):                       # 11.7 % more, but inside 3 Poisson standard deviations
        noisy.record_arrival("wf", "latency:good")
    assert noisy.deviating(600) == []


def test_a_fall_never_triggers_and_the_epoch_still_closes_on_time():
    seen = []
    reopt = _trigger(lambda f: seen.append(f) or _plan({"A": 1}))
    view = FakeView({"A": 1})
    for k in range(1, 6):
        view.t = 600 * k
        assert reopt.on_tick(view) is None     # no arrivals at all
    view.t = 3600
    assert reopt.on_tick(view) is not None and seen == [{("wf", "latency:good"): pytest.approx(0.5)}]
    assert reopt.early == []


def test_tick_driver_gives_the_event_loop_the_check_cadence():
    from murakkab.policy.reoptimizer import TickDriver
    reopt = _trigger(lambda f: _plan({"A": 1}))
    driver = TickDriver(reopt)
    assert driver.epoch_s == 600 and driver.history is reopt.history
    plain = TickDriver(EpochReoptimizer(lambda f: _plan({"A": 1}), {("wf", "latency:good"): 1.0}, epoch_s=100))
    assert plain.epoch_s == 100
    view = FakeView({"A": 1})
    view.t = 100
    assert plain.on_epoch(view) is not None    # without checks every tick is an epoch


def test_bad_check_interval():
    with pytest.raises(MurakkabError, match="check interval"):
        _trigger(lambda f: _plan({}), epoch_s=300)          # checks less often than epochs
    with pytest.raises(MurakkabError, match="deviation"):
        _trigger(lambda f: _plan({}), deviation=0)


def test_simulated_ramp_replans_early_and_meets_more_of_its_slo():
    """A tool pool sized for the forecast; the rate triples 10 minutes into a one-hour epoch. With the
    trigger the fleet follows within checks; without it, it waits for the epoch and the queue grows."""
    import math
    from murakkab.plan.schema import PoolShare, StepPlan
    from murakkab.sim.engine import simulate
    from murakkab.sim.report import summarize
    from murakkab.policy.reoptimizer import TickDriver, forecast_of

    service_s, slots = 2.0, 4

    def make(forecast):
        rate = sum(forecast.values())
        n = max(1, math.ceil(rate * service_s / slots / 0.7))     # toy sizing: 70 % busy at the forecast
        p = _plan({"t": n}, rate=rate)
        pool = p.pools[0].model_copy(update={"kind": "tool", "tool": "toy_tool", "concurrency": slots,
                                             "max_num_seqs": None, "hardware": "CPU-64C"})
        step = StepPlan(task="x", capability="extract", executor="toy_tool", kind="tool", calls_sequential=1,
                        calls_parallel=1, pools=[PoolShare(pool="t", share=1.0, latency_p50_s=service_s,
                                                           latency_p90_s=service_s, busy_s_per_request=service_s)])
        route = p.routes[0].model_copy(update={"steps": [step], "edges": []})
        return p.model_copy(update={"pools": [pool], "routes": [route]})

    import random
    rng = random.Random(3)
    arrivals, t = [], 0.0
    while t < 3600:
        t += rng.expovariate(1.0 if t < 600 else 3.0)
        arrivals.append((t, "wf", "latency:good"))
    first = make({("wf", "latency:good"): 1.0})
    results = {}
    for check in (None, 300.0):
        reopt = EpochReoptimizer(make, forecast_of(first), epoch_s=3600, provisioning_delay_s=120, check_s=check)
        res = simulate(first, arrivals[:-1], horizon_s=3600, reoptimizer=TickDriver(reopt))
        results[check] = (summarize(res).slo_attainment, reopt.early)
    assert results[None][1] == []
    assert results[300.0][1] and results[300.0][1][0][0] < 3600      # re-planned inside the epoch
    assert results[300.0][0] > results[None][0] + 0.2
