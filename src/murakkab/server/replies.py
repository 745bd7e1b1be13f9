"""What a request's outcome looks like over HTTP: the status code of a failure, server-sent events, the
text of an output, and waiting for a result while watching for the client to leave."""

from __future__ import annotations

import asyncio
import json
import re

from fastapi import Request
from fastapi.responses import JSONResponse

from murakkab.runtime.composite import CompositeResult, CompositeStepResult, output_text
from murakkab.runtime.results import RequestResult
from murakkab.runtime.service import BACKEND_REJECTED, BAD_INPUT, DEADLINE_EXCEEDED, NO_INSTANCE, Runtime

TERMINAL = ("completed", "failed", "cancelled")
_BACKEND_STATUS = re.compile(re.escape(BACKEND_REJECTED) + r" \(HTTP (\d{3})\)")


def failure_status(res: RequestResult | CompositeStepResult, shutting_down: bool = False) -> tuple[int, str]:
    """(HTTP status, error type) of a request, or a composite's step, that did not complete (only its
    `status` and `error` are read). A backend's refusal of the
    request (400, 413, 422) is the client's to fix and keeps its code; other backend 4xx (a wrong key
    or model name in the backends file) are the operator's: 502."""
    error = res.error or ""
    if res.status == "cancelled":
        return (503, "server_shutting_down") if shutting_down else (409, "request_cancelled")
    if error.startswith(NO_INSTANCE):
        return 503, f"request_{res.status}"
    if error.startswith(BAD_INPUT):
        return 422, "bad_input"
    if error.startswith(DEADLINE_EXCEEDED):
        return 504, "deadline_exceeded"
    m = _BACKEND_STATUS.match(error)
    if m:
        code = int(m.group(1))
        return (code, "backend_rejected") if code in (400, 413, 422) else (502, "backend_misconfigured")
    return 500, f"request_{res.status}"


def result_response(res: RequestResult, rid: str, shutting_down: bool = False) -> JSONResponse:
    body = res.model_dump(mode="json")
    if res.status == "completed":
        return JSONResponse(body, headers={"X-Request-Id": rid})
    code, kind = failure_status(res, shutting_down)
    message = res.error
    if kind == "server_shutting_down":
        message = "the server is shutting down; the request is journalled and runs again when it restarts"
    return JSONResponse({"error": {"type": kind, "message": message, "job_id": rid}, "result": body},
                        status_code=code, headers={"X-Request-Id": rid})


def composite_failure_response(res: CompositeResult, shutting_down: bool = False) -> JSONResponse:
    """A composite that failed answers with its failed step's status (the rule of `failure_status`:
    a backend's 4xx stays the client's, a deadline is 504, ...), not a blanket 500."""
    failed = next((s for s in res.steps if s.status in ("failed", "cancelled")), None)
    code, kind = failure_status(failed, shutting_down) if failed is not None else (500, "request_failed")
    return JSONResponse({"error": {"type": kind, "message": res.error, "composite_id": res.composite_id},
                         "result": res.model_dump(mode="json")}, status_code=code)


def as_text(output) -> str:
    """A workflow's output as chat text: a model's reply unchanged; for a vote, its winning reply as the
    model wrote it (not the normalised answer the vote compared)."""
    if isinstance(output, dict) and isinstance(output.get("text"), str):
        return output["text"]
    return output_text(output)


def sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


async def until_disconnected(request: Request) -> None:
    """Returns when the client closes its connection (the body has been read by then)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def wait_unless_gone(rt: Runtime, rid: str, request: Request, cancel: bool = True) -> RequestResult:
    """The request's result; if the client leaves first, the request is cancelled (when `cancel`) and
    its cancelled result returned (nobody reads it)."""
    waiter = asyncio.ensure_future(rt.wait(rid))
    gone = asyncio.ensure_future(until_disconnected(request))
    try:
        await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not waiter.done() and not gone.done():      # this handler itself was cancelled
            waiter.cancel()
    if waiter.done():
        return waiter.result()
    if cancel:
        rt.cancel(rid)
    return await waiter
