"""The simulated backend against hand calculations on the hand-built pool (see worlds.py)."""

import asyncio

import pytest

from murakkab.runtime.calls import CallRequest
from murakkab.runtime.cluster import RuntimeCluster
from tests.runtime import worlds as w

SCALE = 0.05   # 1.1 model-seconds per call -> 55 ms of wall time


def _req(i=0):
    return CallRequest(call_id=f"c{i}", input_tokens=50, out_p50=100, out_p90=100)


def test_one_call_alone_takes_ttft_plus_tokens_times_tpot_and_draws_p1_power():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)
    out = asyncio.run(cluster.call("m", _req()))
    assert out.tokens_out == 100 and out.tokens_in == 50       # p50 = p90: the draw is exactly 100
    model_s = w.TTFT + 100 * w.TPOT                              # 1.1 s
    # never faster than the model says; slower only by timer overshoot (loose: shared, loaded CI cores)
    assert model_s * 0.98 <= out.latency_s / SCALE <= model_s * 1.6
    # alone on the instance: P(1) = 100 + 300 * 1/4 = 175 W for the whole call, times PUE
    t = out.latency_s / SCALE
    assert out.energy_wh == pytest.approx(175 * t * w.PUE / 3600, rel=0.03)
    assert out.cost_usd == pytest.approx(0.001 * t, rel=0.03)
    assert out.energy_basis == "modelled" and out.simulated


def test_two_concurrent_calls_split_p2_power_evenly():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)

    async def both():
        return await asyncio.gather(cluster.call("m", _req(1)), cluster.call("m", _req(2)))

    a, b = asyncio.run(both())
    t = max(a.latency_s, b.latency_s) / SCALE
    # P(2) = 250 W shared by two calls with equal decode rates
    assert a.energy_wh + b.energy_wh == pytest.approx(250 * t * w.PUE / 3600, rel=0.05)
    assert a.energy_wh == pytest.approx(b.energy_wh, rel=0.05)


def test_calls_beyond_the_slots_queue():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)
    inst = cluster.pools["m"].instances[0]
    seen = []

    async def run():
        tasks = [asyncio.create_task(cluster.call("m", _req(i))) for i in range(6)]
        await asyncio.sleep(0.01)
        seen.append((inst.meter.in_flight, cluster.instances("m")[0].load))
        await asyncio.gather(*tasks)

    asyncio.run(run())
    assert seen == [(w.SLOTS, 6)]       # 4 in flight, 2 queued at the router (its load counts both)


def test_tool_call_takes_its_service_time():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)
    out = asyncio.run(cluster.call("t-det", CallRequest(call_id="x", service_s=w.TOOL_S)))
    t = out.latency_s / SCALE
    assert w.TOOL_S * 0.98 <= t <= w.TOOL_S * 1.6
    # one of two slots busy: idle + (busy - idle) x 1/2 = 50 + 150 / 2 = 125 W (the simulator's tool power)
    assert out.energy_wh == pytest.approx(125.0 * t * w.PUE / 3600, rel=0.03)


def test_autoscaler_actuates_simulated_pools_for_real():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)
    cluster.add_instances("m", 2, ready_at=cluster.now())
    assert len(cluster.pools["m"].instances) == 3 and cluster.pools["m"].desired == 3
    cluster.remove_instances("m", 1)
    assert len(cluster.pools["m"].instances) == 2 and cluster.pools["m"].desired == 2
