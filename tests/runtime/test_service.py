"""The runtime service without HTTP: variants, outputs wired along the DAG, accounting totals."""

import asyncio

from murakkab.plan.schema import RouteVariant
from murakkab.runtime.service import Runtime, RuntimeConfig
from tests.runtime import worlds as w


def _plan_with_variants():
    plan = w.hand_plan()
    pools = plan.pools + [w.model_pool("m2")]
    video = plan.routes[1]
    both = {t: p for t, p in (("scenes", "t-scenes"), ("frames", "t-frames"), ("transcript", "t-stt"),
                              ("detections", "t-det"))}
    video = video.model_copy(update={"variants": [RouteVariant(share=0.5, pools={**both, "answer": "m"}),
                                                  RouteVariant(share=0.5, pools={**both, "answer": "m2"})]})
    return plan.model_copy(update={"pools": pools, "routes": [plan.routes[0], video]})


def test_route_variants_pick_one_joint_pool_map_per_request(tmp_path):
    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=_plan_with_variants(), time_scale=0.001))
        await rt.start()
        try:
            ids = [rt.submit("t", "video_qa", "accuracy:good", {"video": "v.mp4", "question": "q"}) for _ in range(4)]
            return [await rt.wait(i) for i in ids]
        finally:
            await rt.stop()

    results = asyncio.run(go())
    answer_pools = [next(s for s in r.steps if s.task == "answer").pools for r in results]
    # smooth weighted round-robin over two equal shares alternates
    assert sorted(p[0] for p in answer_pools) == ["m", "m", "m2", "m2"]
    for r in results:
        assert r.status == "completed"
        assert r.latency_s >= max(s.started_s + s.latency_s for s in r.steps) - 1e-9
