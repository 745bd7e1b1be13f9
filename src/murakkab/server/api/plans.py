"""/v1/plans and /v1/plan: make, list and deploy plan versions (admin tenants), see the running one."""

from __future__ import annotations

import asyncio
import json
import threading

from fastapi import APIRouter, Depends, Path

from murakkab.runtime.errors import NotFound
from murakkab.runtime.journal import MAX_VERSION, Tenant
from murakkab.runtime.service import Runtime
from murakkab.server.auth import Access
from murakkab.server.models import PlanBody


async def in_daemon_thread(fn, *args):
    """`fn(*args)` on a daemon thread: unlike `asyncio.to_thread`, a solve still running when the server
    stops does not hold the process open (the default executor is joined at exit)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def work():
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request
            # bind exc now: Python unbinds an except clause's name when the block ends, and the callback
            # runs later on the loop (a late NameError there left the request waiting for ever)
            loop.call_soon_threadsafe(lambda e=exc: future.done() or future.set_exception(e))
        else:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(result))

    threading.Thread(target=work, name="murakkab-planner", daemon=True).start()
    return await future


def router(rt: Runtime, access: Access) -> APIRouter:
    api = APIRouter(tags=["plans"])

    @api.post("/v1/plans", status_code=201)
    async def create_plan(body: PlanBody, t: Tenant = Depends(access.admin)):
        """Plan for the demand (and deploy it unless `deploy` is false). A plan runs the newest
        version of each uploaded workflow it routes."""
        from murakkab.optimizer import make_plan
        from murakkab.optimizer.api import Demand, PlanRequest
        demand, reused, pins = {}, {}, {}
        for d in body.demand:
            name, rw, version = rt.registry.plan_workflow(t.name, d.workflow, any_tenant=True)   # admins: any tenant's
            demand[(name, d.tier)] = Demand(d.peak_rps, d.avg_rps)
            if rw is not None:
                reused[name], pins[name] = rw, version
        req = PlanRequest(demand=demand, objective=body.objective, policy=body.policy, budgets=body.budgets,
                          cost_budget_usd=body.cost_budget_usd, workflows=reused)
        plan = await in_daemon_thread(make_plan, req)
        version = rt.deploy(plan, activate=body.deploy, workflows=pins)
        out = {"version": version, "plan_id": plan.plan_id, "deployed": body.deploy,
               "totals": plan.totals.model_dump()}
        if reused:
            out["workflows"] = {n: {"profiles": rw.profiles, "version": pins[n]} for n, rw in sorted(reused.items())}
        return out

    @api.get("/v1/plans")
    async def list_plans(t: Tenant = Depends(access.tenant)):
        return {"plans": [{"version": v, "plan_id": p, "created_unix": c, "active": bool(a)}
                          for v, p, c, a in rt.journal.plan_versions()]}

    @api.post("/v1/plans/{version}/deploy")
    async def deploy_plan(version: int = Path(ge=1, le=MAX_VERSION), t: Tenant = Depends(access.admin)):
        rt.activate(version)
        return {"version": version, "active": True}

    @api.get("/v1/plan")
    async def active_plan(t: Tenant = Depends(access.tenant)):
        if rt.cluster is None:
            raise NotFound("no plan is deployed (fix: POST /v1/plans)")
        plan = rt.cluster.current_plan()
        pools = []
        for pid, ps in rt.cluster.pools.items():
            infos = rt.cluster.instances(pid)
            pools.append({"pool": pid, "backend": ps.mode, "planned": ps.plan.instances, "desired": ps.desired,
                          "ready": sum(1 for i in infos if i.ready and not i.draining),
                          "load": sum(i.load for i in infos)})
        out = {"version": rt.plan_version, "plan": json.loads(plan.to_json()), "pools": pools,
               "workflow_versions": dict(rt.registry.pinned)}
        if rt.reoptimizer is not None:
            ro = rt.reoptimizer
            out["reoptimizer"] = {"epoch_s": ro.epoch_s, "alpha": ro.alpha,
                                  "provisioning_delay_s": ro.provisioning_delay_s,
                                  "forecast_rps": {f"{w}/{tk}": v for (w, tk), v in sorted(ro.forecast.items())},
                                  "epochs": rt.epochs}
        return out

    return api
