"""The OpenAI-compatible surface: GET /v1/models and POST /v1/chat/completions (plain and streamed).

A model is 'workflow:tier' (e.g. 'reasoning:accuracy:good'); /v1/models lists those the key may
call: the deployed plan's routes of chat-shaped workflows (one text input) that are built in or the
tenant's own. The last user message (text, or its text content parts joined) is the workflow's
input; the reply is the model's text unchanged (a vote's winning reply, not its normalised answer).
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from murakkab.errors import MurakkabError
from murakkab.plan.ids import TenantWorkflow
from murakkab.runtime.composite import output_text, run_composite
from murakkab.runtime.errors import NotFound
from murakkab.runtime.journal import Tenant
from murakkab.runtime.service import Runtime
from murakkab.server.auth import Access
from murakkab.server.models import ChatBody
from murakkab.server.replies import (as_text, composite_failure_response, failure_status, result_response,
                                    wait_unless_gone)


def chat_input(wf) -> str | None:
    """The one text input of a chat-shaped workflow, else None."""
    text = [k for k, typ in wf.inputs.items() if typ == "text"]
    return text[0] if len(wf.inputs) == 1 and len(text) == 1 else None


def models_for(rt: Runtime, tenant: str) -> list[dict]:
    if rt.cluster is None:
        return []
    reg, out = rt.registry, []
    created = int(rt.journal.plan_created(rt.plan_version) or 0)
    for route in rt.cluster.current_plan().routes:
        if "/" in route.workflow:
            key = TenantWorkflow.parse(route.workflow)
            if key.tenant != tenant:
                continue
            short = key.name
        else:
            short = route.workflow
        try:
            wf = reg.get(tenant, short)
        except NotFound:
            continue
        if chat_input(wf) is not None:
            out.append({"id": f"{short}:{route.tier.key}", "object": "model", "created": created,
                        "owned_by": "murakkab"})
    return sorted(out, key=lambda m: m["id"])


def router(rt: Runtime, access: Access) -> APIRouter:
    api = APIRouter(tags=["openai"])

    @api.get("/v1/models")
    async def list_models(t: Tenant = Depends(access.tenant)):
        return {"object": "list", "data": models_for(rt, t.name)}

    @api.get("/v1/models/{model:path}")
    async def get_model(model: str, t: Tenant = Depends(access.tenant)):
        found = next((m for m in models_for(rt, t.name) if m["id"] == model), None)
        if found is None:
            raise NotFound(f"no model '{model}' (fix: GET /v1/models lists the ones this key may call)")
        return found

    @api.post("/v1/chat/completions")
    async def chat(body: ChatBody, request: Request, t: Tenant = Depends(access.tenant)):
        workflow, _, tier = body.model.partition(":")
        if workflow == "auto":      # no workflow named: the orchestrator composes one from the message
            return await _chat_auto(rt, t, body, tier or "accuracy:good")
        if not tier:
            raise MurakkabError(f"model '{body.model}' must be 'workflow:tier', e.g. 'reasoning:accuracy:good'")
        wf = rt.workflow(t.name, workflow)
        port = chat_input(wf)
        if port is None:
            raise MurakkabError(f"workflow '{workflow}' is not chat-shaped: it takes {dict(wf.inputs)}, "
                                "chat needs exactly one text input (fix: use /v1/workflows/{name}/invoke)")
        users = [text for m in body.messages if m.role == "user" and (text := m.text())]
        if not users:
            raise MurakkabError("messages need at least one user message with content")
        options = {"max_tokens": body.max_tokens, "temperature": body.temperature}
        if body.stream:
            return _stream(rt, t, body, workflow, tier, {port: users[-1]}, options)
        rid = rt.submit(t.name, workflow, tier, {port: users[-1]}, mode="sync", max_concurrency=t.max_concurrency,
                        options=options)
        res = await wait_unless_gone(rt, rid, request)
        if res.status != "completed":
            return result_response(res, rid, shutting_down=rt.shutting_down)
        return JSONResponse({"id": f"chatcmpl-{rid}", "object": "chat.completion", "created": int(time.time()),
                             "model": body.model, "usage": _usage(res), "murakkab": _extra(res, rid),
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": as_text(res.output)}}]},
                            headers={"X-Request-Id": rid})

    return api


async def _chat_auto(rt: Runtime, t: Tenant, body: ChatBody, tier: str):
    """model 'auto' or 'auto:<tier>': the last user message is a composite request with no data; the
    answer is the composite's output, `murakkab.dag` says which DAG ran and why."""
    users = [text for m in body.messages if m.role == "user" and (text := m.text())]
    if not users:
        raise MurakkabError("messages need at least one user message with content")
    res = await run_composite(rt, t.name, users[-1], {}, tier, max_concurrency=t.max_concurrency)
    if res.status != "completed":
        return composite_failure_response(res, rt.shutting_down)
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


def _usage(res) -> dict:
    return {"prompt_tokens": res.tokens_in, "completion_tokens": res.tokens_out,
            "total_tokens": res.tokens_in + res.tokens_out}


def _extra(res, rid: str) -> dict:
    return {"request_id": rid, "energy_wh": res.energy_wh, "energy_basis": res.energy_basis,
            "cost_usd": res.cost_usd, "latency_s": res.latency_s}


def _stream(rt: Runtime, t: Tenant, body: ChatBody, workflow: str, tier: str, inputs: dict,
            options: dict) -> StreamingResponse:
    """OpenAI-style SSE: a role chunk, then the output step's tokens as the backend streams them
    (compositions, whose answer exists only after the vote, send it as one chunk), then a chunk with
    finish_reason, usage and murakkab's accounting, then `data: [DONE]`. A client that disconnects
    cancels the request, which closes the backend's stream. Validation errors come before the stream
    starts, as JSON 4xx."""
    queue: asyncio.Queue = asyncio.Queue()
    live = rt.streams_tokens(t.name, workflow, tier)
    rid = rt.submit(t.name, workflow, tier, inputs, mode="sync", max_concurrency=t.max_concurrency,
                    on_token=(lambda d: queue.put_nowait(("delta", d))) if live else None, options=options)
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
                code, kind = failure_status(res, rt.shutting_down)
                yield "data: " + json.dumps({"error": {"type": kind, "code": code, "message": res.error,
                                                       "job_id": rid}}) + "\n\n"
            else:
                if not sent:
                    yield chunk({"content": as_text(res.output)})
                yield chunk({}, "stop", usage=_usage(res), murakkab=_extra(res, rid))
            yield "data: [DONE]\n\n"
        finally:
            if not done:       # the client went away (or the server stops): stop the backend call
                rt.cancel(rid)
            waiter.cancel()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Request-Id": rid})
