"""Multiplexing over time slots: a shared pool is sized on the peak of its summed load."""

import pytest

from murakkab.errors import MurakkabError
from murakkab.optimizer import PlanRequest, make_plan
from murakkab.optimizer.api import Demand
from murakkab.optimizer.check import check_plan
from murakkab.optimizer.demand import demand_from_times
from murakkab.optimizer.milp import ConfigChoice, Group, PoolCandidate, Problem, StepOption, solve


def _pool():
    return PoolCandidate(id="p", hardware="H", units=1, power_busy_w=500, power_idle_w=100, node_overhead_w=0,
                         price_usd_per_hour=1)


def _group(gid, slots):
    opt = StepOption(pool="p", latency_s=1.0, busy_s=1.0, busy_s_avg=1.0)
    return Group(id=gid, rate_peak=max(slots), rate_avg=1.0, configs=(ConfigChoice("c", 70, {"t": (opt,)}),),
                 paths=(("t",),), slot_peaks=slots)


def test_hand_calculation_peaks_in_different_slots_share_instances():
    # 1 instance-s per request, alpha 1: slot loads 3 + 1 and 1 + 3 -> 4 instances, not 3 + 3
    apart = solve(Problem((_group("a", (3.0, 1.0)), _group("b", (1.0, 3.0))), {"p": _pool()}, alpha=1.0))
    assert apart.instances == {"p": 4}
    # the same peaks in the same slot: 6
    together = solve(Problem((_group("a", (3.0, 1.0)), _group("b", (3.0, 1.0))), {"p": _pool()}, alpha=1.0))
    assert together.instances == {"p": 6}


def test_groups_with_different_slot_counts_are_refused():
    with pytest.raises(MurakkabError, match="same number of slots"):
        solve(Problem((_group("a", (3.0, 1.0)), _group("b", (1.0, 3.0, 2.0))), {"p": _pool()}))


def test_demand_checks_its_slots():
    with pytest.raises(MurakkabError, match="largest slot peak"):
        Demand(5.0, 1.0, (1.0, 2.0))
    with pytest.raises(MurakkabError, match="finite"):
        Demand(2.0, 1.0, (2.0, -1.0))


def _plans(a, b):
    demand = {("video_qa#0", "accuracy:good"): Demand(max(a), 4.0, a),
              ("video_qa#1", "accuracy:good"): Demand(max(b), 4.0, b)}
    joint = make_plan(PlanRequest(demand=demand, mip_rel_gap=1e-3))
    alone = make_plan(PlanRequest(demand=demand, policy="per-workflow", mip_rel_gap=1e-3))
    return joint, alone


def _gpus(plan):
    return sum(plan.totals.gpus_by_type.values())


def test_joint_needs_fewer_instances_where_peaks_differ_and_is_never_worse():
    joint, alone = _plans((8.0, 1.0), (1.0, 8.0))
    assert check_plan(joint) == [] and check_plan(alone) == []
    # per-workflow sizes each copy for its own peak of 8; joint for 8 + 1 in either slot
    assert _gpus(joint) < 0.75 * _gpus(alone)
    assert joint.totals.energy_kwh_per_epoch <= alone.totals.energy_kwh_per_epoch * (1 + 2e-3)
    same_joint, same_alone = _plans((8.0, 1.0), (8.0, 1.0))
    assert same_joint.totals.energy_kwh_per_epoch <= same_alone.totals.energy_kwh_per_epoch * (1 + 2e-3)
    assert _gpus(joint) < _gpus(same_joint)        # only non-coincident peaks save the instances


def test_demand_from_times_gives_each_slot_its_busiest_minute():
    # 10 arrivals in minute 0, 2 in minute 3 of a 4-minute window cut in two slots
    times = [1.0 + i for i in range(10)] + [185.0, 190.0]
    d = demand_from_times("w", times, 240.0, tier_mix={"accuracy:good": 1.0}, slots=2)[("w", "accuracy:good")]
    assert d.slot_peaks == pytest.approx((10 / 60, 2 / 60))
    assert d.peak_rps == pytest.approx(10 / 60)
