"""Uploaded workflows: one with a built-in's DAG is tiered, planned (also by the admin, under the
tenant-scoped name) and invoked with that built-in's workflow profiles; one without a profile is stored
but tiers/plan/invoke answer 409 naming what is missing."""

from tests.runtime import worlds
from murakkab.spec.load import builtin_text

DEMAND = {"peak_rps": 1.0, "avg_rps": 0.5}


def test_a_copy_of_a_builtin_is_tiered_planned_and_invoked(server):
    acme, admin = server.hdr("acme"), server.hdr("admin")
    spec = builtin_text("reasoning").replace("name: reasoning", "name: my_reasoning")
    up = server.post("/v1/workflows", json={"spec": spec}, headers=acme).json()
    assert (up["profiles"], up["plan_name"]) == ("reasoning", "acme/my_reasoning") and "reasoning" in up["note"]

    mine = server.get("/v1/workflows/my_reasoning/tiers", headers=acme).json()
    theirs = server.get("/v1/workflows/reasoning/tiers", headers=acme).json()
    assert mine["profiles"] == "reasoning"
    assert [(t["key"], t["threshold"]) for t in mine["tiers"]] == [(t["key"], t["threshold"]) for t in theirs["tiers"]]

    # the operator plans acme's workflow by its tenant-scoped name, next to the built-in
    r = server.post("/v1/plans", headers=admin, json={"demand": [
        {"workflow": "acme/my_reasoning", "tier": "accuracy:good", **DEMAND},
        {"workflow": "reasoning", "tier": "accuracy:good", **DEMAND}]})
    assert r.status_code == 201, r.text
    assert r.json()["workflows"] == {"acme/my_reasoning": {"profiles": "reasoning", "version": 1}}
    plan = server.get("/v1/plan", headers=acme).json()["plan"]
    assert any("acme/my_reasoning" in n and "'reasoning'" in n for n in plan["notes"])
    routes = {r["workflow"]: r for r in plan["routes"]}
    # same profiles, same demand: the same configuration as the built-in
    assert routes["acme/my_reasoning"]["knobs"] == routes["reasoning"]["knobs"]

    res = server.post("/v1/workflows/my_reasoning/invoke", headers=acme,
                      json={"tier": "accuracy:good", "inputs": {"problem": "2+2"}})
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "completed" and res.json()["workflow"] == "my_reasoning"
    assert [s["task"] for s in res.json()["steps"]] == [s["task"] for s in routes["reasoning"]["steps"]]
    # another tenant neither sees it nor reaches its route
    assert server.post("/v1/workflows/my_reasoning/invoke", headers=server.hdr("beta"),
                       json={"tier": "accuracy:good", "inputs": {"problem": "2+2"}}).status_code == 404


def test_a_dag_without_a_profile_is_stored_but_not_plannable(server):
    acme = server.hdr("acme")
    up = server.post("/v1/workflows", json={"spec": worlds.CHAT_SPEC}, headers=acme)
    assert up.status_code == 201 and up.json()["profiles"] is None
    assert "no workflow profile" in up.json()["note"]
    for r in (server.get("/v1/workflows/chat_bot/tiers", headers=acme),
              server.post("/v1/workflows/chat_bot/invoke", headers=acme,
                          json={"tier": "accuracy:good", "inputs": {"prompt": "hi"}}),
              server.post("/v1/plans", headers=server.hdr("admin"),
                          json={"demand": [{"workflow": "acme/chat_bot", "tier": "accuracy:good", **DEMAND}]})):
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["type"] == "NoProfile"
        assert "no workflow profile for its DAG" in err["message"] and "reuse a built-in's structure" in err["message"]
        assert "nearest built-in" in err["message"]


def test_the_reoptimizer_replans_an_uploaded_workflow(tmp_path):
    """An epoch re-plan of a plan that routes a tenant's upload keeps planning it with the reused profiles."""
    import asyncio
    import dataclasses

    from murakkab.optimizer import make_plan
    from murakkab.optimizer.api import Demand, PlanRequest, ReusedWorkflow
    from murakkab.plan.schema import Plan
    from murakkab.policy.replan import ReplanSettings
    from murakkab.runtime.service import Runtime, RuntimeConfig
    from murakkab.spec import load_builtin

    name = "acme/my_reasoning"
    copy = dataclasses.replace(load_builtin("reasoning"), name="my_reasoning")
    plan = make_plan(PlanRequest(demand={(name, "accuracy:good"): Demand(1.0, 0.5)},
                                 workflows={name: ReusedWorkflow(copy, "reasoning")}))

    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=plan, time_scale=0.001, reoptimize=True,
                                   replan=ReplanSettings(epoch_s=1e9)))
        rt.journal.put_workflow("acme", "my_reasoning",
                                builtin_text("reasoning").replace("name: reasoning", "name: my_reasoning"))
        await rt.start()
        try:
            entry = await rt.replan_now()
            stored = Plan.from_json(rt.journal.plan(entry["version"]))
            return entry, [(r.workflow, r.tier.key) for r in stored.routes]
        finally:
            await rt.stop()
    entry, routes = asyncio.run(go())
    assert "error" not in entry, entry
    # EWMA, alpha 0.5: 0.5 x 0 observed + 0.5 x 0.5 planned = 0.25 req/s
    assert entry["version"] == 2 and entry["forecast_rps"] == {f"{name}/accuracy:good": 0.25}
    assert routes == [(name, "accuracy:good")]        # the stored new version still routes it
