"""The FastAPI app: workflows, tiers, plans, invocation (sync and jobs with streamed step events),
an OpenAI-compatible /v1/chat/completions, /metrics, /healthz. Every error is JSON.

Tenancy: every /v1 route needs `Authorization: Bearer <api key>` (keys stored hashed in the
journal) unless the server runs with auth off (one tenant, 'default'). A tenant sees only its own
uploaded workflows and jobs (others' are 404, not 403, so ids do not leak); plans are the
operator's: only admin tenants may create or deploy them.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from murakkab.errors import MurakkabError
from murakkab.runtime.journal import Tenant
from murakkab.runtime.service import NoProfile, NotFound, Runtime, RuntimeConfig
from murakkab.server import errors
from murakkab.server.dashboard import mount_dashboard, runtime_state
from murakkab.runtime.composite import output_text, run_composite
from murakkab.server.models import ChatBody, ComposeBody, InvokeBody, PlanBody, WorkflowUpload

TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class ServerConfig:
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    auth: bool = True
    admin_tenants: frozenset[str] = frozenset({"admin"})


class BodyLimit:
    """ASGI middleware: refuse bodies over `limit` bytes with a JSON 413, before the app reads them."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(send)
        seen = 0

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return msg

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send):
        body = json.dumps({"error": {"type": "body_too_large",
                                     "message": f"request body exceeds {self.limit} bytes (fix: send less)"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


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

    def tenant(request: Request) -> Tenant:
        if not config.auth:
            return Tenant("default", config.runtime.limits.default_tenant_concurrency)
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise _http(401, "missing API key (fix: send 'Authorization: Bearer <key>')")
        t = rt.journal.tenant_for_key(auth[7:].strip())
        if t is None:
            raise _http(401, "unknown API key (fix: use a key from 'murakkab tenant add')")
        return t

    def admin(t: Tenant = Depends(tenant)) -> Tenant:
        if config.auth and t.name not in config.admin_tenants:
            raise _http(403, f"tenant '{t.name}' may not change plans (admin tenants only)")
        return t

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "plan_version": rt.plan_version,
                "plan_id": rt.cluster.plan.plan_id if rt.cluster else None, "journal": rt.journal.counts()}

    @app.get("/metrics")
    async def metrics():
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        rt.publish_pools()
        return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # ---- workflows -----------------------------------------------------------------------
    @app.get("/v1/workflows")
    async def list_workflows(t: Tenant = Depends(tenant)):
        return {"workflows": rt.workflow_names(t.name)}

    @app.post("/v1/workflows", status_code=201)
    async def upload_workflow(body: WorkflowUpload, t: Tenant = Depends(tenant)):
        wf = rt.register_workflow(t.name, body.spec)
        out = {"name": wf.name, "tasks": list(wf.tasks), "inputs": wf.inputs,
               "plan_name": rt.plan_name(t.name, wf.name)}
        try:
            out["profiles"] = rt.profiles_of(t.name, wf.name)
            out["note"] = (f"same tasks, capabilities and edges as the built-in '{out['profiles']}': tiers and plans "
                           "use its workflow profiles")
        except NoProfile as exc:
            out["profiles"] = None
            out["note"] = f"stored, but it cannot be tiered, planned or invoked yet: {exc}"
        return out

    @app.get("/v1/workflows/{name}")
    async def get_workflow(name: str, t: Tenant = Depends(tenant)):
        wf = rt.workflow(t.name, name)
        return {"name": wf.name, "description": wf.description, "inputs": wf.inputs, "output": wf.output,
                "tasks": {n: {"capability": x.capability, "after": list(x.predecessors)} for n, x in wf.tasks.items()}}

    @app.get("/v1/workflows/{name}/tiers")
    async def get_tiers(name: str, t: Tenant = Depends(tenant)):
        wf = rt.workflow(t.name, name)
        profiles = rt.profiles_of(t.name, name)
        from murakkab.optimizer import tiers_for
        tiers = await asyncio.to_thread(tiers_for, wf, profiles) if profiles else await asyncio.to_thread(tiers_for, name)
        out = {"workflow": name, "tiers": [dict(ts.model_dump(), key=ts.key) for ts in tiers]}
        if profiles:
            out["profiles"] = profiles
        return out

    # ---- plans ---------------------------------------------------------------------------
    @app.post("/v1/plans", status_code=201)
    async def create_plan(body: PlanBody, t: Tenant = Depends(admin)):
        from murakkab.optimizer import make_plan
        from murakkab.optimizer.api import Demand, PlanRequest
        demand, reused = {}, {}
        for d in body.demand:
            name, rw = rt.plan_workflow(t.name, d.workflow, any_tenant=True)   # admins may plan any tenant's
            demand[(name, d.tier)] = Demand(d.peak_rps, d.avg_rps)
            if rw is not None:
                reused[name] = rw
        req = PlanRequest(demand=demand, objective=body.objective, policy=body.policy, budgets=body.budgets,
                          cost_budget_usd=body.cost_budget_usd, workflows=reused)
        plan = await asyncio.to_thread(make_plan, req)
        version = rt.deploy(plan, activate=body.deploy)
        out = {"version": version, "plan_id": plan.plan_id, "deployed": body.deploy,
               "totals": plan.totals.model_dump()}
        if reused:
            out["workflows"] = {n: {"profiles": rw.profiles} for n, rw in sorted(reused.items())}
        return out

    @app.get("/v1/plans")
    async def list_plans(t: Tenant = Depends(tenant)):
        return {"plans": [{"version": v, "plan_id": p, "created_unix": c, "active": bool(a)}
                          for v, p, c, a in rt.journal.plan_versions()]}

    @app.post("/v1/plans/{version}/deploy")
    async def deploy_plan(version: int, t: Tenant = Depends(admin)):
        rt.activate(version)
        return {"version": version, "active": True}

    @app.get("/v1/plan")
    async def active_plan(t: Tenant = Depends(tenant)):
        if rt.cluster is None:
            raise NotFound("no plan is deployed (fix: POST /v1/plans)")
        plan = rt.cluster.current_plan()
        pools = []
        for pid, ps in rt.cluster.pools.items():
            infos = rt.cluster.instances(pid)
            pools.append({"pool": pid, "backend": ps.mode, "planned": ps.plan.instances, "desired": ps.desired,
                          "ready": sum(1 for i in infos if i.ready and not i.draining),
                          "load": sum(i.load for i in infos)})
        out = {"version": rt.plan_version, "plan": json.loads(plan.to_json()), "pools": pools}
        if rt.reoptimizer is not None:
            ro = rt.reoptimizer
            out["reoptimizer"] = {"epoch_s": ro.epoch_s, "alpha": ro.alpha,
                                  "provisioning_delay_s": ro.provisioning_delay_s,
                                  "forecast_rps": {f"{w}/{t}": v for (w, t), v in sorted(ro.forecast.items())},
                                  "epochs": rt.epochs}
        return out

    # ---- invocation ----------------------------------------------------------------------
    @app.post("/v1/workflows/{name}/invoke")
    async def invoke(name: str, body: InvokeBody, t: Tenant = Depends(tenant)):
        rid = rt.submit(t.name, name, body.tier, body.inputs, mode=body.mode, max_concurrency=t.max_concurrency)
        if body.mode == "job":
            return JSONResponse({"job_id": rid, "status": "accepted", "events": f"/v1/jobs/{rid}/events"},
                                status_code=202, headers={"X-Request-Id": rid})
        res = await rt.wait(rid)
        return _result_response(res, rid)

    @app.get("/v1/jobs/{rid}")
    async def get_job(rid: str, t: Tenant = Depends(tenant)):
        row = _own_row(rid, t)
        res = rt.result_of(row)
        return {"job_id": rid, "status": row.status, "workflow": row.workflow, "tier": row.tier,
                "attempts": row.attempts, "error": row.error,
                "result": res.model_dump(mode="json") if res is not None and row.status == "completed" else None}

    @app.delete("/v1/jobs/{rid}")
    async def cancel_job(rid: str, t: Tenant = Depends(tenant)):
        _own_row(rid, t)
        return {"job_id": rid, "cancelled": rt.cancel(rid)}

    @app.get("/v1/jobs/{rid}/events")
    async def job_events(rid: str, t: Tenant = Depends(tenant)):
        _own_row(rid, t)
        queue = rt.listen(rid)    # subscribe before replaying so nothing falls between the two

        async def stream():
            for _seq, ts, kind, data in rt.journal.events(rid):
                yield _sse(kind, {"t": ts, **data})
                if kind in TERMINAL:
                    return
            if queue is None:
                row = rt.journal.request(rid)
                yield _sse(row.status, {"error": row.error} if row.error else {})
                return
            while True:
                kind, data = await queue.get()
                yield _sse(kind, data)
                if kind in TERMINAL:
                    return

        return StreamingResponse(stream(), media_type="text/event-stream")

    def _own_row(rid: str, t: Tenant):
        row = rt.journal.request(rid)
        if row is None or row.tenant != t.name:
            raise NotFound(f"no job '{rid}'")
        return row

    # ---- composite requests (no workflow named) ------------------------------------------
    @app.post("/v1/requests")
    async def compose(body: ComposeBody, t: Tenant = Depends(tenant)):
        res = await run_composite(rt, t.name, body.query, body.data, body.tier, slo_s=body.slo_s,
                                  max_concurrency=t.max_concurrency)
        return JSONResponse(res.model_dump(mode="json"), status_code=200 if res.status == "completed" else 500)

    # ---- OpenAI-compatible ---------------------------------------------------------------
    @app.post("/v1/chat/completions")
    async def chat(body: ChatBody, t: Tenant = Depends(tenant)):
        workflow, _, tier = body.model.partition(":")
        if workflow == "auto":      # no workflow named: the orchestrator composes one from the message
            return await _chat_auto(rt, t, body, tier or "accuracy:good")
        if not tier:
            raise MurakkabError(f"model '{body.model}' must be 'workflow:tier', e.g. 'reasoning:accuracy:good'")
        wf = rt.workflow(t.name, workflow)
        text_inputs = [k for k, typ in wf.inputs.items() if typ == "text"]
        if len(wf.inputs) != 1 or len(text_inputs) != 1:
            raise MurakkabError(f"workflow '{workflow}' is not chat-shaped: it takes {dict(wf.inputs)}, "
                                "chat needs exactly one text input (fix: use /v1/workflows/{name}/invoke)")
        users = [m.content for m in body.messages if m.role == "user" and m.content]
        if not users:
            raise MurakkabError("messages need at least one user message with content")
        if body.stream:
            return _chat_stream(rt, t, body, workflow, tier, {text_inputs[0]: users[-1]})
        rid = rt.submit(t.name, workflow, tier, {text_inputs[0]: users[-1]}, mode="sync",
                        max_concurrency=t.max_concurrency, options=_call_options(body))
        res = await rt.wait(rid)
        if res.status != "completed":
            return _result_response(res, rid)
        return JSONResponse({"id": f"chatcmpl-{rid}", "object": "chat.completion", "created": int(time.time()),
                             "model": body.model, "usage": _usage(res), "murakkab": _extra(res, rid),
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": output_text(res.output)}}]},
                            headers={"X-Request-Id": rid})

    mount_dashboard(app, runtime_state(rt), authorize=admin)   # /dashboard (operator view: admin tenants)
    return app


async def _chat_auto(rt: Runtime, t: Tenant, body, tier: str):
    """model 'auto' or 'auto:<tier>': the last user message is a composite request with no data; the
    answer is the composite's output, `murakkab.dag` says which DAG ran and why."""
    users = [m.content for m in body.messages if m.role == "user" and m.content]
    if not users:
        raise MurakkabError("messages need at least one user message with content")
    res = await run_composite(rt, t.name, users[-1], {}, tier, max_concurrency=t.max_concurrency)
    if res.status != "completed":
        return JSONResponse({"error": {"type": "request_failed", "message": res.error},
                             "result": res.model_dump(mode="json")}, status_code=500)
    text = output_text(res.output)
    extra = {"energy_wh": res.energy_wh, "cost_usd": res.cost_usd, "latency_s": res.latency_s,
             "request_ids": [s.request_id for s in res.steps], "dag": res.dag, "decomposed_by": res.decomposed_by,
             "why": res.why}
    cid, created = f"chatcmpl-{res.steps[0].request_id}", int(time.time())
    if not body.stream:
        return JSONResponse({"id": cid, "object": "chat.completion", "created": created, "model": body.model,
                             "murakkab": extra, "choices": [{"index": 0, "finish_reason": "stop",
                                                             "message": {"role": "assistant", "content": text}}]})

    def chunk(delta: dict, finish=None, **more) -> str:
        return "data: " + json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created,
                                      "model": body.model, "choices": [{"index": 0, "delta": delta,
                                                                        "finish_reason": finish}], **more}) + "\n\n"

    async def stream():   # the composite's answer exists only at its end: one content chunk
        yield chunk({"role": "assistant", "content": text})
        yield chunk({}, "stop", murakkab=extra)
        yield "data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


def _call_options(body) -> dict:
    """The chat request's settings for the output step's model calls."""
    return {"max_tokens": body.max_tokens, "temperature": body.temperature}


def _usage(res) -> dict:
    return {"prompt_tokens": res.tokens_in, "completion_tokens": res.tokens_out,
            "total_tokens": res.tokens_in + res.tokens_out}


def _extra(res, rid: str) -> dict:
    return {"request_id": rid, "energy_wh": res.energy_wh, "energy_basis": res.energy_basis,
            "cost_usd": res.cost_usd, "latency_s": res.latency_s}


def _chat_stream(rt: Runtime, t: Tenant, body, workflow: str, tier: str, inputs: dict) -> StreamingResponse:
    """OpenAI-style SSE: a role chunk, then the output step's tokens as the backend streams them
    (compositions, whose answer exists only after the vote, send it as one chunk), then a chunk with
    finish_reason, usage and murakkab's accounting, then `data: [DONE]`. A client that disconnects
    cancels the request, which closes the backend's stream. Validation errors come before the stream
    starts, as JSON 4xx."""
    queue: asyncio.Queue = asyncio.Queue()
    live = rt.streams_tokens(t.name, workflow, tier)
    rid = rt.submit(t.name, workflow, tier, inputs, mode="sync", max_concurrency=t.max_concurrency,
                    on_token=(lambda d: queue.put_nowait(("delta", d))) if live else None,
                    options=_call_options(body))
    created = int(time.time())

    def chunk(delta: dict, finish=None, **more) -> str:
        return "data: " + json.dumps({"id": f"chatcmpl-{rid}", "object": "chat.completion.chunk",
                                      "created": created, "model": body.model,
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                                      **more}) + "\n\n"

    async def finish():
        queue.put_nowait(("done", await rt.wait(rid)))

    async def stream():
        waiter = asyncio.create_task(finish())
        done = False
        try:
            yield chunk({"role": "assistant", "content": ""})
            sent = 0
            while True:
                kind, item = await queue.get()
                if kind == "delta":
                    sent += 1
                    yield chunk({"content": item})
                    continue
                res = item
                break
            done = True
            if res.status != "completed":
                yield "data: " + json.dumps({"error": {"type": f"request_{res.status}", "message": res.error,
                                                       "job_id": rid}}) + "\n\n"
            else:
                if not sent:
                    yield chunk({"content": output_text(res.output)})
                yield chunk({}, "stop", usage=_usage(res), murakkab=_extra(res, rid))
            yield "data: [DONE]\n\n"
        finally:
            if not done:       # the client went away (or the server stops): stop the backend call
                rt.cancel(rid)
            waiter.cancel()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Request-Id": rid})


def _result_response(res, rid: str) -> JSONResponse:
    body = res.model_dump(mode="json")
    if res.status == "completed":
        return JSONResponse(body, headers={"X-Request-Id": rid})
    error = res.error or ""
    # a failure caused by the request's own input (e.g. its video file) is the client's to fix: 422
    code, kind = (503, f"request_{res.status}") if error.startswith("no backend instance left") else \
        (422, "bad_input") if error.startswith("bad input") else (500, f"request_{res.status}")
    return JSONResponse({"error": {"type": kind, "message": res.error, "job_id": rid},
                         "result": body}, status_code=code, headers={"X-Request-Id": rid})


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


def _http(code: int, message: str):
    from fastapi import HTTPException
    return HTTPException(status_code=code, detail=message)
