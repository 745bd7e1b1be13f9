"""/v1/workflows: list, upload (a new version each time), fetch, delete, tiers."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends

from murakkab.runtime.errors import NoProfile
from murakkab.runtime.journal import Tenant
from murakkab.runtime.service import Runtime
from murakkab.server.auth import Access
from murakkab.server.models import WorkflowUpload


def router(rt: Runtime, access: Access) -> APIRouter:
    api = APIRouter(tags=["workflows"])
    reg = rt.registry

    @api.get("/v1/workflows")
    async def list_workflows(t: Tenant = Depends(access.tenant)):
        return {"workflows": reg.names(t.name)}

    @api.post("/v1/workflows", status_code=201)
    async def upload_workflow(body: WorkflowUpload, t: Tenant = Depends(access.tenant)):
        """Store the spec as the next version of its workflow. A deployed plan that routes an earlier
        version keeps running that one until a plan made after this upload is deployed."""
        wf, version = reg.register(t.name, body.spec)
        plan_name = reg.plan_name(t.name, wf.name)
        out = {"name": wf.name, "version": version, "tasks": list(wf.tasks), "inputs": wf.inputs,
               "plan_name": plan_name}
        try:
            out["profiles"] = reg.profiles_of(t.name, wf.name, version)
            out["note"] = (f"same tasks, capabilities and edges as the built-in '{out['profiles']}': tiers and plans "
                           "use its workflow profiles")
        except NoProfile as exc:
            out["profiles"] = None
            out["note"] = f"stored, but it cannot be tiered, planned or invoked yet: {exc}"
        serving = reg.pinned.get(plan_name)
        if serving is not None and serving != version:
            out["serving_version"] = serving
            out["note"] += (f". The deployed plan (version {rt.plan_version}) keeps running version {serving} until a "
                            "plan made after this upload is deployed (POST /v1/plans)")
        return out

    @api.get("/v1/workflows/{name}")
    async def get_workflow(name: str, t: Tenant = Depends(access.tenant)):
        latest = reg.latest_version(t.name, name)
        wf = reg.get(t.name, name, latest)
        return {"name": wf.name, "version": latest, "serving_version": reg.serving_version(t.name, name),
                "description": wf.description, "inputs": wf.inputs, "output": wf.output,
                "tasks": {n: {"capability": x.capability, "after": list(x.predecessors)} for n, x in wf.tasks.items()}}

    @api.delete("/v1/workflows/{name}")
    async def delete_workflow(name: str, t: Tenant = Depends(access.tenant)):
        """Delete every version of an upload (refused with 409 while the deployed plan routes it)."""
        return {"name": name, "deleted": True, "versions": reg.delete(t.name, name, rt.plan_version)}

    @api.get("/v1/workflows/{name}/tiers")
    async def get_tiers(name: str, t: Tenant = Depends(access.tenant)):
        from murakkab.optimizer import tiers_for
        wf = reg.get(t.name, name)
        profiles = reg.profiles_of(t.name, name)
        tiers = await asyncio.to_thread(tiers_for, wf, profiles) if profiles else await asyncio.to_thread(tiers_for, name)
        out = {"workflow": name, "tiers": [dict(ts.model_dump(), key=ts.key) for ts in tiers]}
        if profiles:
            out["profiles"] = profiles
        return out

    return api
