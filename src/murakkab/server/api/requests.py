"""Invocation: POST /v1/workflows/{name}/invoke (sync, or a job), and /v1/jobs (status, events, cancel).

A sync request whose client disconnects is cancelled. A job runs on when its client leaves, unless it
was submitted with `cancel_on_disconnect`: then the client dropping its `/events` stream before the
job ends cancels it. An `Idempotency-Key` header makes a retry return the first request's job
instead of starting another (journalled, so it holds across restarts).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse

from murakkab.runtime.composite import run_composite
from murakkab.runtime.errors import NotFound
from murakkab.runtime.journal import Tenant
from murakkab.runtime.service import Runtime
from murakkab.server.auth import Access
from murakkab.server.models import IDEMPOTENCY_KEY, ComposeBody, InvokeBody
from murakkab.server.replies import TERMINAL, composite_failure_response, result_response, sse, wait_unless_gone


def router(rt: Runtime, access: Access) -> APIRouter:
    api = APIRouter(tags=["invocation"])

    @api.post("/v1/workflows/{name}/invoke")
    async def invoke(name: str, body: InvokeBody, request: Request, t: Tenant = Depends(access.tenant),
                     idempotency_key: str | None = Header(None, **IDEMPOTENCY_KEY)):
        known = rt.journal.request_by_key(t.name, idempotency_key) if idempotency_key else None
        rid = rt.submit(t.name, name, body.tier, body.inputs, mode=body.mode, max_concurrency=t.max_concurrency,
                        deadline_s=body.deadline_s, idempotency_key=idempotency_key,
                        cancel_on_disconnect=body.cancel_on_disconnect)
        replayed = known is not None and known.id == rid
        headers = {"X-Request-Id": rid, **({"Idempotent-Replayed": "true"} if replayed else {})}
        if body.mode == "job":
            return JSONResponse({"job_id": rid, "status": "accepted", "events": f"/v1/jobs/{rid}/events"},
                                status_code=202, headers=headers)
        res = await wait_unless_gone(rt, rid, request, cancel=not replayed)
        reply = result_response(res, rid, shutting_down=rt.shutting_down)
        reply.headers.update(headers)
        return reply

    @api.post("/v1/requests")
    async def compose(body: ComposeBody, t: Tenant = Depends(access.tenant)):
        """A request naming no workflow: decomposed into registered workflows (see runtime/composite.py)."""
        res = await run_composite(rt, t.name, body.query, body.data, body.tier, slo_s=body.slo_s,
                                  max_concurrency=t.max_concurrency)
        if res.status != "completed":
            return composite_failure_response(res, rt.shutting_down)
        return JSONResponse(res.model_dump(mode="json"))

    def own_row(rid: str, t: Tenant):
        row = rt.journal.request(rid)
        if row is None or row.tenant != t.name:
            raise NotFound(f"no job '{rid}'")
        return row

    @api.get("/v1/jobs/{rid}")
    async def get_job(rid: str, t: Tenant = Depends(access.tenant)):
        row = own_row(rid, t)
        res = rt.result_of(row)
        return {"job_id": rid, "status": row.status, "workflow": row.workflow, "tier": row.tier,
                "workflow_version": row.workflow_version, "deadline_s": row.deadline_s,
                "attempts": row.attempts, "error": row.error,
                "result": res.model_dump(mode="json") if res is not None and row.status == "completed" else None}

    @api.delete("/v1/jobs/{rid}")
    async def cancel_job(rid: str, t: Tenant = Depends(access.tenant)):
        own_row(rid, t)
        return {"job_id": rid, "cancelled": rt.cancel(rid)}

    @api.get("/v1/jobs/{rid}/events")
    async def job_events(rid: str, t: Tenant = Depends(access.tenant)):
        own_row(rid, t)
        queue = rt.listen(rid)    # subscribe before replaying so nothing falls between the two

        async def stream():
            ended = False
            try:
                for _seq, ts, kind, data in rt.journal.events(rid):
                    yield sse(kind, {"t": ts, **data})
                    if kind in TERMINAL:
                        ended = True
                        return
                if queue is None:
                    row = rt.journal.request(rid)
                    ended = True
                    yield sse(row.status, {"error": row.error} if row.error else {})
                    return
                while True:
                    kind, data = await queue.get()
                    yield sse(kind, data)
                    if kind in TERMINAL:
                        ended = True
                        return
            finally:
                if not ended:         # the client left (or the server stops) before the job ended
                    rt.abandoned(rid)

        return StreamingResponse(stream(), media_type="text/event-stream")

    return api
