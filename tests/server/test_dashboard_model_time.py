"""Latency tiers are judged in model time: at --time-scale 0.01 a request that takes 11 ms of wall clock
took 1.1 model seconds, and that is what its tier's threshold means."""

import asyncio

import pytest

from murakkab.runtime.service import Runtime, RuntimeConfig
from murakkab.server.dashboard import runtime_state
from murakkab.policy.slo import SloRule
from murakkab.server.dashboard_state import JobRow, TierRule, slo_met
from tests.runtime import worlds

SCALE = 0.01


def _plan():
    """Hand plan plus reasoning on two latency tiers. One step: 3 parallel calls on pool "m" (4 slots, so no
    queueing), each TTFT 0.1 s + 100 tokens x TPOT 0.01 s = 1.1 model s (tests/runtime/worlds.py)."""
    plan = worlds.hand_plan()
    routes = []
    for name, threshold in (("good", 1.0), ("fair", 3.0)):
        r = worlds._route("reasoning", [worlds.llm_step("solve", "self_consistency", parallel=3, kind="composition")],
                          [], tier=f"latency:{name}")
        routes.append(r.model_copy(update={"tier": r.tier.model_copy(update={"threshold": threshold})}))
    return plan.model_copy(update={"routes": [*plan.routes, *routes]})


def test_latency_attainment_uses_model_time(tmp_path):
    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=_plan(), time_scale=SCALE))
        await rt.start()
        try:
            results = []
            for tier in ("latency:good", "latency:fair"):
                for _ in range(2):
                    results.append(await rt.wait(rt.submit("acme", "reasoning", tier, {"problem": "2+2"})))
            return results, runtime_state(rt)()
        finally:
            await rt.stop()
    results, state = asyncio.run(go())
    for res in results:
        assert res.status == "completed" and res.time_scale == SCALE
        step = res.steps[0]
        assert step.model_latency_s == pytest.approx(step.latency_s / SCALE)
        assert 1.1 <= res.model_latency_s < 2.5          # 1.1 model s; timer overshoot x 100 stays well below
        assert res.latency_s < 1.0                        # wall clock: far inside either threshold
    tiers = {t["tier"]: t for t in state["tiers"] if t["workflow"] == "reasoning"}
    assert (tiers["latency:good"]["finished"], tiers["latency:good"]["met"]) == (2, 0)   # 1.1 > 1.0 model s
    assert (tiers["latency:fair"]["finished"], tiers["latency:fair"]["met"]) == (2, 2)   # 1.1 <= 3.0


def test_results_without_model_time_fall_back_to_wall_clock():
    rule = TierRule("wf", "latency:good", SloRule("latency", 2.0, None, 70.0))
    job = lambda result: JobRow("j", "wf", "latency:good", "completed", 0.0, 1.0, result, None)  # noqa: E731
    assert not slo_met(job({"latency_s": 0.02, "model_latency_s": 2.5}), rule)
    assert slo_met(job({"latency_s": 1.5}), rule)                                     # an older journal entry
