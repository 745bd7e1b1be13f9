"""A plan deployed while the runtime runs gets instances for its new pools of every kind: endpoints from
the backends file, local tool workers, simulated instances; pools it drops are drained."""

import asyncio

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.calls import CallRequest
from murakkab.runtime.service import Runtime, RuntimeConfig
from tests.runtime import worlds
from tests.runtime.faulty_server import FaultyServer


def _second_plan():
    """The hand plan plus reasoning/latency:good on a pool "r" (gemma-3-27b, listed in the backends file)
    and a python_interpreter pool "t-py" (local)."""
    plan = worlds.hand_plan()
    remote = worlds.model_pool("r").model_copy(update={"model": "gemma-3-27b"})
    step = worlds.llm_step("solve", "llm_chat", pool="r").model_copy(update={"model": "gemma-3-27b"})
    route = worlds._route("reasoning", [step], [], tier="latency:good")
    return plan.model_copy(update={"plan_id": "second", "routes": [*plan.routes, route],
                                   "pools": [*plan.pools, remote, worlds.tool_pool("t-py", "python_interpreter", 2)]})


def test_pools_added_and_dropped_by_a_later_deploy(tmp_path):
    with FaultyServer("ok") as server:
        backends = parse_backends(f"models:\n  gemma-3-27b:\n    - {{base_url: '{server.base_url}', instances: 2}}\n"
                                  "tools:\n  python_interpreter: {local: true}\n")

        async def go():
            rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(), backends=backends,
                                       time_scale=0.001))
            await rt.start()
            try:
                assert "r" not in rt.cluster.pools
                rt.deploy(_second_plan())                               # what POST /v1/plans does
                cl = rt.cluster
                assert (cl.pools["r"].mode, len(cl.pools["r"].instances)) == ("remote", 2)   # 2 replicas in the file
                assert (cl.pools["t-py"].mode, len(cl.pools["t-py"].instances)) == ("local", 2)
                rid = rt.submit("acme", "reasoning", "latency:good", {"problem": "2+2"})
                res = await rt.wait(rid)
                assert res.status == "completed", res.error
                assert res.output == "hello world" and res.steps[0].pools == ["r"]       # the stand-in's reply
                out = await cl.call("t-py", CallRequest(call_id="c", payload={"candidates": ["x = 2 + 2"],
                                                                              "tests": "assert x == 4"}))
                assert out.data["results"][0]["passed"] is True
                rt.deploy(worlds.hand_plan())                            # back: "r" and "t-py" are dropped
                assert cl.pools["r"].instances == [] and cl.pools["t-py"].instances == []
                assert cl.pools["r"].desired == 0
                rt.deploy(_second_plan())                                # and added again
                assert len(cl.pools["r"].instances) == 2 and len(cl.pools["t-py"].instances) == 2
            finally:
                await rt.stop()
        asyncio.run(go())
    assert server.hits == 1
