"""The event core's inlined instance model equals the shared one (`murakkab.instance`) on recorded intervals.

The simulator keeps running integrals instead of intervals; with `record_intervals` every instance also
keeps each interval's occupancy (which calls prefill, with their input tokens, and which decode or are
in service). Rebuilding each interval with the shared model and splitting it with the shared rule
(`policy.accounting.attribute`) must give the power the core drew and every call's GPU energy, node
energy and cost. Tolerance 1e-12 relative: the core's figure for a call is a difference of two
readings of a running sum, which rounds differently from a sum over the call's own intervals.
"""

from __future__ import annotations

import random

import pytest

from murakkab.instance import InstanceCurve, instance_model, pool_charges
from murakkab.policy.accounting import attribute
from murakkab.sim.arrivals import poisson_times
from murakkab.sim.engine import SimConfig, Simulator

REL = 1e-12
CAP = 4
# TPOT and power rising with occupancy, so prefill/decode phases and P(b) both matter
CURVE = InstanceCurve(tuple(0.02 + 0.005 * max(k, 1) for k in range(CAP + 1)),
                      tuple(100.0 + 150.0 * k for k in range(CAP + 1)), "hand")


def _run(b, prefill_weight: float):
    route = b.route([b.tool_step("cut", "t", 0.4, par=3),
                     b.llm_step("a", [("m", 1.0)], out_p50=30, out_p90=80, inp=400, seq=2, par=2)],
                    [("cut", "a")])
    plan = b.plan([route], [b.model_pool(max_num_seqs=CAP, ttft=0.15, instances=2, node_w=50.0, price_h=7.2),
                            b.tool_pool("t", concurrency=2, busy_w=260.0, idle_w=60.0, node_w=20.0, price_h=1.8)],
                  pue=1.3)
    arrivals = [(t, "wf", "latency:good") for t in poisson_times(1.5, 60, random.Random(2))]
    cfg = SimConfig(seed=5, record_intervals=True, prefill_weight=prefill_weight)
    sim = Simulator(plan, arrivals, horizon_s=60.0, config=cfg, resolver=lambda pool: CURVE)
    res = sim.run()
    assert res.unfinished == 0 and len(res.requests) > 50
    return plan, sim, res


@pytest.mark.parametrize("prefill_weight", [0.1, 0.0])   # 0: prefill-only stretches split by prefill tokens
def test_core_equals_the_shared_instance_model_on_recorded_intervals(b, prefill_weight):
    plan, sim, res = _run(b, prefill_weight)
    checked = {"model": 0, "tool": 0}
    for rec in res.instances:
        pool = next(p for p in plan.pools if p.id == rec.pool)
        model = instance_model(pool, lambda _: CURVE)
        charges = pool_charges(pool, plan.pue, prefill_weight)
        ivs = []
        for t0, t1, power, prefilling, running in rec.intervals:
            iv = model.interval(t0, t1, prefilling, running)
            assert iv.power_w == power            # the same arithmetic: bit for bit
            ivs.append(iv)
        att = attribute(ivs, charges)
        assert att.idle.gpu_wh * 3600.0 == pytest.approx(rec.idle_j, rel=REL)
        for call, share in att.requests.items():
            assert call.gpu_j == pytest.approx(share.gpu_wh * 3600.0, rel=REL)
            assert pool.node_overhead_w * call.inst_s == pytest.approx(share.node_wh * 3600.0, rel=REL)
            assert call.inst_s * (pool.price_usd_per_hour / 3600.0) == pytest.approx(share.cost_usd, rel=REL)
            checked[rec.kind] += 1
    # both kinds of instance, many calls each (3 tool calls and 4 model calls per request)
    assert checked["tool"] > 100 and checked["model"] > 100


def test_a_request_is_charged_the_sum_of_its_calls(b):
    plan, sim, res = _run(b, 0.1)
    node = {p.id: p.node_overhead_w for p in plan.pools}
    by_req: dict[int, list[float]] = {}
    for rec in res.instances:
        for _, _, _, prefilling, running in rec.intervals:
            for call in (*prefilling, *running):
                by_req.setdefault(call.req.id, {})[call] = (call.gpu_j, node[rec.pool] * call.inst_s)
    for r in res.requests:
        calls = by_req[r.request_id].values()
        assert len(calls) == 7
        assert r.gpu_j == pytest.approx(sum(g for g, _ in calls), rel=1e-12)
        assert r.node_j == pytest.approx(sum(n for _, n in calls), rel=1e-12)
