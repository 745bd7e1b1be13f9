"""The runtime applies the shared placement decisions live (simulated backend, real asyncio timing):
waiting calls are dealt again when an instance becomes ready, a call waits for an instance being
provisioned, and a re-plan that retires a pool mid-request moves the request's later calls to the
new plan's pool instead of failing them."""

import asyncio

import pytest

from murakkab.policy.reoptimizer import EpochReoptimizer, forecast_of
from murakkab.runtime.calls import CallOrigin, CallRequest, NoInstanceLeft
from murakkab.runtime.cluster import RuntimeCluster
from murakkab.runtime.service import Runtime, RuntimeConfig
from tests.runtime import worlds as w

SCALE = 0.2     # model seconds -> wall seconds


def _tool(i):
    return CallRequest(call_id=f"c{i}", service_s=w.TOOL_S)


def test_a_new_instance_takes_its_share_of_the_queued_calls():
    # t-det: 2 slots, 0.5 s per call. Six calls at 0: c1, c2 run on A, c3..c6 queue at A. B is ready at
    # 0.25 s; the queue is dealt oldest first to the least loaded (A keeps 2 in service, B has 0):
    # c3 -> B, c4 -> B, c5 -> A (tie 2/2: A first), c6 -> B. So c3, c4 end at 0.75 s, c5 at 1.0 s (A's
    # slot frees at 0.5) and c6 at 1.25 s (B's at 0.75). Left queued at A they would end at 1.0 and 1.5.
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)

    async def go():
        t0 = cluster.now()
        cluster.add_instances("t-det", 1, ready_at=t0 + 0.25)

        async def one(i):
            out = await cluster.call("t-det", _tool(i))
            return out, cluster.now() - t0       # model seconds from the start to the call's end

        tasks = []
        for i in range(1, 7):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(0)               # submitted in order
        return await asyncio.gather(*tasks)

    done = asyncio.run(go())
    assert [o.instance for o, _ in done] == ["t-det/1", "t-det/1", "t-det/2", "t-det/2", "t-det/1", "t-det/2"]
    ends = [t for _, t in done]
    for got, want in zip(ends, [0.5, 0.5, 0.75, 0.75, 1.0, 1.25]):
        assert want - 0.02 <= got <= want + 0.2       # timers only overshoot (loaded CI cores)


def test_a_call_waits_for_an_instance_being_provisioned():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)

    async def go():
        cluster.remove_instances("t-det", 1)                       # the only instance drains (idle: gone)
        t0 = cluster.now()
        cluster.add_instances("t-det", 1, ready_at=t0 + 0.5)
        assert [i.ready for i in cluster.instances("t-det")] == [False]
        out = await cluster.call("t-det", _tool(0))
        return out, cluster.now() - t0

    out, end = asyncio.run(go())
    assert out.instance == "t-det/2"
    assert 0.5 + w.TOOL_S - 0.02 <= end <= 0.5 + w.TOOL_S + 0.2


def test_a_call_for_a_retired_pool_with_nowhere_to_go_fails_with_the_reason():
    cluster = RuntimeCluster(w.hand_plan(), time_scale=SCALE)

    async def go():
        cluster.remove_instances("t-det", 1)
        with pytest.raises(NoInstanceLeft, match="no instance left .* no other pool for task 'detections'"):
            await cluster.call("t-det", _tool(0), CallOrigin("video_qa", "accuracy:good", "detections"))

    asyncio.run(go())


def _moved_plan():
    """The hand plan with every model step on a new pool "m2"; pool "m" is gone."""
    plan = w.hand_plan()
    routes = []
    for r in plan.routes:
        steps = [s.model_copy(update={"pools": [p.model_copy(update={"pool": "m2"}) for p in s.pools]})
                 if s.kind != "tool" else s for s in r.steps]
        routes.append(r.model_copy(update={"steps": steps}))
    pools = [p for p in plan.pools if p.id != "m"] + [w.model_pool("m2")]
    return plan.model_copy(update={"plan_id": "moved", "routes": routes, "pools": pools})


def test_a_replan_landing_mid_request_moves_its_later_calls_to_the_new_pool(tmp_path):
    # video_qa's answer (on "m") starts 1.5 model s in (scenes, frames, detections: 0.5 s each). A re-plan
    # at ~0.1 s, with 0.4 s provisioning, switches to the plan without "m" at ~0.5 s and drains m's idle
    # instance: the answer call finds "m" retired and runs on "m2", the new plan's pool for the task.
    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=w.hand_plan(), time_scale=SCALE))
        await rt.start()
        try:
            rt.reoptimizer = EpochReoptimizer(lambda f: _moved_plan(), forecast_of(rt.cluster.plan),
                                              provisioning_delay_s=0.4)
            rt.reoptimizer.begin(rt.cluster.now())
            rid = rt.submit("acme", "video_qa", "accuracy:good", {"video": "v.mp4", "question": "q"})
            await asyncio.sleep(0.1 * SCALE)
            entry = await rt.replan_now()
            assert entry.get("plan_id") == "moved", entry
            res = await rt.wait(rid)
            assert "m" not in [i.pool for p in rt.cluster.pool_ids() for i in rt.cluster.instances(p)]
            return res
        finally:
            await rt.stop()

    res = asyncio.run(go())
    assert res.status == "completed", res.error
    answer = next(s for s in res.steps if s.task == "answer")
    assert answer.pools == ["m2"] and res.plan_id == "moved"
