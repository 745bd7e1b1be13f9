"""Validation of the instance model and DAG execution against closed forms and hand calculations."""

from __future__ import annotations

import random

import pytest

from murakkab.errors import MurakkabError
from murakkab.sim.arrivals import poisson_times
from murakkab.instance import InstanceCurve, constant_curve, plan_point_curve
from murakkab.sim.engine import SimConfig, Simulator, simulate


def _arr(times, wf="wf", tier="latency:good"):
    return [(t, wf, tier) for t in times]


def test_constant_throughput_matches_processor_sharing_closed_form(b):
    # TPOT(b) = b·τ: the instance emits 1/τ tokens/s shared by all sequences = an M/D/1-PS queue.
    # Closed form (insensitive to the service distribution): E[T] = E[S] / (1 − ρ).
    tau, n, lam, cap = 0.01, 100, 0.5, 200
    curve = InstanceCurve(tuple(max(k, 1) * tau for k in range(cap + 1)), (100.0,) + (700.0,) * cap, "hand")
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=n)])], [b.model_pool(max_num_seqs=cap)])
    horizon = 40_000.0
    res = simulate(p, _arr(poisson_times(lam, horizon, random.Random(3))), horizon_s=horizon,
                   resolver=lambda pool: curve)
    s = n * tau                      # 1 s of service alone
    expected = s / (1 - lam * s)     # 2 s
    mean = sum(r.latency_s for r in res.requests) / len(res.requests)
    assert len(res.requests) > 15_000
    assert mean == pytest.approx(expected, rel=0.05)


def test_constant_per_sequence_tpot_is_an_infinite_server(b):
    # Same TPOT at every batch size (below the cap): nobody slows anybody: latency = TTFT + n × TPOT exactly.
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=40)])],
               [b.model_pool(tpot=0.05, ttft=0.3, max_num_seqs=64)])
    res = simulate(p, _arr(poisson_times(2.0, 300, random.Random(1))), horizon_s=300, resolver=plan_point_curve)
    assert all(r.latency_s == pytest.approx(0.3 + 40 * 0.05) for r in res.requests)


def test_saturated_instance_delivers_profile_throughput_at_its_cap(b):
    cap = 8
    curve = InstanceCurve(tuple(0.01 + 0.001 * max(k, 1) for k in range(cap + 1)), (50.0,) + (600.0,) * cap, "hand")
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=100, out_p90=200)])],
               [b.model_pool(max_num_seqs=cap)])
    arrivals = _arr([i * 1e-3 for i in range(2000)])          # a burst far beyond capacity
    res = simulate(p, arrivals, horizon_s=1.0, resolver=lambda pool: curve)
    tokens = sum(r.tokens_out for r in res.requests)
    throughput = tokens / res.end_s
    assert throughput == pytest.approx(cap / (0.01 + 0.001 * cap), rel=0.02)   # 444.4 tok/s from the curve


def test_one_request_energy_by_hand(b):
    # one call of 100 tokens at TPOT 0.02 s: busy 2 s at 700 W; idle 100 W for the other 8 s of a 10 s horizon
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=100)])],
               [b.model_pool(tpot=0.02, max_num_seqs=4, node_w=200.0, price_h=36.0)], pue=1.5)
    curve = constant_curve(4, 0.02, 700.0, 100.0)
    res = simulate(p, _arr([1.0]), horizon_s=10.0, resolver=lambda pool: curve)
    (r,) = res.requests
    assert r.latency_s == pytest.approx(2.0)
    assert r.gpu_j == pytest.approx(1400.0)
    assert r.node_j == pytest.approx(400.0)
    assert r.cost_usd == pytest.approx(0.02)                   # 2 s × $36/h
    (inst,) = res.instances
    assert inst.idle_j == pytest.approx(800.0)
    from murakkab.sim.report import summarize
    s = summarize(res)
    assert s.facility_mwh == pytest.approx((2200.0 + 200.0 * 10) * 1.5 / 3.6e9)
    assert s.cost_usd == pytest.approx(0.1)                   # 10 s allocated × $36/h


def test_energy_is_conserved(b):
    # overlapping requests with prefill, queueing beyond the cap and a varying P(b); the per-call split is
    # checked against the shared instance model in test_instance_model.py
    cap = 4
    curve = InstanceCurve(tuple(0.02 + 0.005 * max(k, 1) for k in range(cap + 1)),
                          tuple(100.0 + 150.0 * k for k in range(cap + 1)), "hand")
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=30, out_p90=80, inp=400, seq=2, par=2)])],
               [b.model_pool(max_num_seqs=cap, ttft=0.15, instances=2, node_w=50.0)])
    cfg = SimConfig(seed=5, record_intervals=True)
    res = simulate(p, _arr(poisson_times(1.5, 60, random.Random(2))), horizon_s=60, config=cfg,
                   resolver=lambda pool: curve)
    assert res.unfinished == 0 and len(res.requests) > 50
    integral = sum(p_w * (t1 - t0) for i in res.instances for t0, t1, p_w, _, _ in i.intervals)
    assert sum(r.gpu_j for r in res.requests) + sum(i.idle_j for i in res.instances) == pytest.approx(integral, rel=1e-9)
    assert sum(i.energy_j for i in res.instances) == pytest.approx(integral, rel=1e-9)


def test_dag_latency_by_hand(b):
    # x (0.5 s tool) and y (0.8 s tool) in parallel -> a: 2 rounds of 3 parallel calls, each TTFT 0.1 +
    # 50 tokens at TPOT(3); skipped step s takes no time. One request alone.
    cap = 8
    curve = InstanceCurve(tuple(0.01 * max(k, 1) for k in range(cap + 1)), (100.0,) * (cap + 1), "hand")
    steps = [b.tool_step("x", "t", 0.5), b.tool_step("y", "t", 0.8),
             b.llm_step("s", [], skipped=True), b.llm_step("a", [("m", 1.0)], out_p50=50, seq=2, par=3)]
    edges = [("x", "s"), ("y", "s"), ("s", "a")]
    p = b.plan([b.route(steps, edges)], [b.model_pool(ttft=0.1, max_num_seqs=cap), b.tool_pool(concurrency=4)])
    res = simulate(p, _arr([0.0]), horizon_s=30, resolver=lambda pool: curve)
    (r,) = res.requests
    assert r.latency_s == pytest.approx(0.8 + 2 * (0.1 + 50 * 0.03))
    assert r.tokens_out == 2 * 3 * 50
    assert res.steps[("wf", "latency:good", "a")][0] == 1


def test_tool_slots_queue_fifo(b):
    # concurrency 2, 1 s service, 4 simultaneous requests: two finish at 1 s, two at 2 s
    p = b.plan([b.route([b.tool_step("x", "t", 1.0)])], [b.tool_pool(concurrency=2)])
    res = simulate(p, _arr([0.0] * 4), horizon_s=5, resolver=plan_point_curve)
    assert sorted(r.latency_s for r in res.requests) == pytest.approx([1.0, 1.0, 2.0, 2.0])


def test_planned_load_meets_slo_and_double_load_does_not(b):
    # Hand sizing: cap 16, TPOT(b) = 0.02 + 0.002 b, 200 tokens, TTFT 0.2 s. A call that finds a free slot
    # finishes within 0.2 + 200 × TPOT(16) = 10.6 s (the latency SLO). At 0.75 req/s per instance the mean
    # number in service is <= 0.75 × 10.6 ≈ 8 (Poisson), so P(all 16 slots busy) < 1 %: plan 2 instances
    # for 1.5 req/s. At 3 req/s an instance is offered 1.5 req/s against a full-batch capacity of
    # 16 / 10.4 s = 1.54 req/s: queues build and the SLO is missed.
    cap = 16
    curve = InstanceCurve(tuple(0.02 + 0.002 * max(k, 1) for k in range(cap + 1)), (80.0,) + (600.0,) * cap, "hand")
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=200)], threshold=10.6, rate=1.5)],
               [b.model_pool(ttft=0.2, max_num_seqs=cap, instances=2)])
    horizon = 3000.0
    ok = simulate(p, _arr(poisson_times(1.5, horizon, random.Random(11))), horizon_s=horizon,
                  resolver=lambda pool: curve)
    met = sum(r.slo_met for r in ok.requests) / len(ok.requests)
    assert met >= 0.99
    hot = simulate(p, _arr(poisson_times(3.0, horizon, random.Random(11))), horizon_s=horizon,
                   resolver=lambda pool: curve)
    met2 = sum(r.slo_met for r in hot.requests) / len(hot.requests)
    assert met2 < 0.9


def test_bad_plan_and_arrivals_are_rejected(b):
    p = b.plan([b.route([b.llm_step("a", [("nope", 1.0)])])], [b.model_pool()])
    with pytest.raises(MurakkabError, match="pool 'nope'"):
        simulate(p, _arr([0.0]), horizon_s=1, resolver=plan_point_curve)
    good = b.plan([b.route([b.llm_step("a", [("m", 1.0)])])], [b.model_pool()])
    with pytest.raises(MurakkabError, match="no route"):
        simulate(good, _arr([0.0], tier="accuracy:best"), horizon_s=1, resolver=plan_point_curve)
    with pytest.raises(MurakkabError, match="sorted"):
        simulate(good, _arr([1.0, 0.0]), horizon_s=1, resolver=plan_point_curve)


def test_calls_for_a_pool_a_replan_retired_run_on_the_current_routes_pool(b):
    # Plan A: x (5 s tool on t1) -> y (1 s tool on t2). At 1 s a re-plan moves y to t3 and retires t2.
    # Three requests that arrived at 0 reach y at 5 s, when t2 has no instance left: their y calls run
    # on t3 (ready since 1 s) and the requests finish at 5 + 1 s instead of never.
    steps_a = [b.tool_step("x", "t1", 5.0), b.tool_step("y", "t2", 1.0)]
    steps_b = [b.tool_step("x", "t1", 5.0), b.tool_step("y", "t3", 1.0)]
    pools = [b.tool_pool("t1"), b.tool_pool("t2")]
    plan_a = b.plan([b.route(steps_a, [("x", "y")])], pools)
    plan_b = b.plan([b.route(steps_b, [("x", "y")])], pools + [b.tool_pool("t3", instances=0)])
    sim = Simulator(plan_a, _arr([0.0] * 3), horizon_s=20)
    sim.install_plan(plan_b, switch_at=1.0)
    sim.add_instances("t3", 1, ready_at=1.0)
    sim.remove_instances("t2", 1, at=1.0)
    res = sim.run()
    assert res.unfinished == 0
    assert [r.latency_s for r in res.requests] == pytest.approx([6.0] * 3)


def test_a_new_instance_takes_its_share_of_the_queued_calls(b):
    # one 1-slot tool instance (1 s per call) and four calls at 0 s: one runs, three queue. A second
    # instance is ready at 0.5 s and the queue is dealt again, oldest first, to the least loaded:
    # B takes the 2nd call at 0.5 (done 1.5), A keeps the 3rd (done 2), B the 4th (done 2.5).
    # Left where they queued, the calls would finish at 1, 2, 3, 4 s with B idle.
    p = b.plan([b.route([b.tool_step("x", "t", 1.0)])], [b.tool_pool(concurrency=1)])
    sim = Simulator(p, _arr([0.0] * 4), horizon_s=10)
    sim.add_instances("t", 1, ready_at=0.5)
    res = sim.run()
    assert sorted(r.latency_s for r in res.requests) == pytest.approx([1.0, 1.5, 2.0, 2.5])
