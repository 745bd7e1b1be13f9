"""The FastAPI app: workflows (versioned uploads), tiers, plans, invocation (sync and jobs with streamed
step events, deadlines, idempotency keys), the OpenAI-compatible /v1/models and /v1/chat/completions,
/metrics, /healthz and the operator's dashboard. Every error is JSON.

Tenancy: every /v1 route needs `Authorization: Bearer <api key>` unless the server runs with auth
off (see `auth`). A tenant sees only its own uploaded workflows and jobs (others' are 404, not 403,
so ids do not leak); plans are the operator's: only admin tenants may create or deploy them.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.responses import Response

from murakkab.runtime.service import Runtime, RuntimeConfig
from murakkab.server import errors
from murakkab.server.api import openai, plans, requests, workflows
from murakkab.server.auth import access
from murakkab.server.dashboard import mount_dashboard, runtime_state
from murakkab.server.middleware import BodyLimit, CatchAll


@dataclass
class ServerConfig:
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    auth: bool = True
    admin_tenants: frozenset[str] = frozenset({"admin"})


def create_app(config: ServerConfig) -> FastAPI:
    rt = Runtime(config.runtime)

    @asynccontextmanager
    async def lifespan(_app):
        await rt.start()
        yield
        await rt.stop()

    app = FastAPI(title="murakkab", version="0.1.0", lifespan=lifespan,
                  description="Serve agentic workflows at the least energy and cost that meets each SLO tier.")
    app.state.runtime = rt
    errors.install(app)
    app.add_middleware(BodyLimit, limit=config.runtime.limits.max_body_bytes)
    app.add_middleware(CatchAll)          # outermost: an unexpected error answers 500 and keeps the connection
    who = access(rt, auth=config.auth, admin_tenants=config.admin_tenants,
                 default_concurrency=config.runtime.limits.default_tenant_concurrency)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "plan_version": rt.plan_version,
                "plan_id": rt.cluster.plan.plan_id if rt.cluster else None, "journal": rt.journal.counts()}

    @app.get("/metrics")
    async def metrics():
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        rt.publish_pools()
        return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    for module in (workflows, plans, requests, openai):
        app.include_router(module.router(rt, who))
    mount_dashboard(app, runtime_state(rt), authorize=who.admin)   # /dashboard (operator view: admin tenants)
    return app
