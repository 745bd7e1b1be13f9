"""Instances behind OpenAI-compatible HTTP endpoints: chat completions (streamed) and
`/v1/audio/transcriptions`.

Each call is one HTTP request; the router (`cluster.py`) retries and fails over. A 5xx, a
timeout (between two bytes, or of the whole call: a server that sends only keep-alive comments
cannot hold a call past `call_timeout_s`) or a connection closed mid-stream raises a retryable
`BackendError`; a refused connection
also marks the instance down for a while; a 4xx is not retried (the request itself is wrong).
Cancelling the awaiting task closes the stream, which tells the server to stop generating.
Errors name the instance, never the endpoint's URL (they reach tenants); the URL goes to the log.
Energy is modelled from the pool's profile through the instance meter (no power counters here): a call
prefills until its first streamed token, then decodes.
Tokens come from the stream's `usage` when the server sends it (`stream_options.include_usage`);
servers that omit it (llama-cpp-python 0.3) get a count of streamed content chunks instead, which
can be off by one either way (a multi-byte character's byte tokens may arrive as one chunk).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from dataclasses import dataclass

import httpx

from murakkab.runtime.calls import BackendError, CallRequest
from murakkab.runtime.meter import InstanceMeter
from murakkab.runtime.results import CallOutcome

log = logging.getLogger("murakkab.backend")


@dataclass(frozen=True)
class Endpoint:
    base_url: str                     # e.g. http://127.0.0.1:8080/v1
    served_model: str                 # the `model` field sent to the server
    api_key_env: str | None = None    # environment variable holding the key (never the key itself)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0      # between two streamed chunks
    call_timeout_s: float = 300.0     # the whole call

    def headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}


def _classify(exc: Exception, where: str) -> BackendError:
    # httpx's own text can carry the address: it goes to the log (`_logged`), not into the error
    if isinstance(exc, httpx.ConnectError):
        return BackendError(f"{where}: cannot connect ({type(exc).__name__})", instance_down=True)
    if isinstance(exc, httpx.TimeoutException):
        return BackendError(f"{where}: timed out ({type(exc).__name__})")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return BackendError(f"{where}: connection closed mid-stream ({type(exc).__name__})")
    return BackendError(f"{where}: {type(exc).__name__}")


class RemoteInstance:
    """One replica behind an OpenAI-compatible endpoint."""

    def __init__(self, iid: str, pool: str, endpoint: Endpoint, meter: InstanceMeter, *, kind: str = "chat",
                 ready_at: float = 0.0):
        self.id, self.pool, self.endpoint, self.meter, self.kind = iid, pool, endpoint, meter, kind
        self.ready_at, self.draining, self.down_until = ready_at, False, 0.0
        self._client: httpx.AsyncClient | None = None
        self._ids = itertools.count()

    @property
    def load(self) -> int:
        return self.meter.in_flight

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            ep = self.endpoint
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(ep.read_timeout_s, connect=ep.connect_timeout_s),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def call(self, req: CallRequest) -> CallOutcome:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        cid = f"{req.call_id}#{next(self._ids)}"
        self.meter.enter(cid, req.input_tokens)
        try:
            async with asyncio.timeout(self.endpoint.call_timeout_s):
                if self.kind == "transcription":
                    text, t_in, t_out = await self._transcribe(req)
                else:
                    text, t_in, t_out = await self._chat(req, cid)
        except TimeoutError:
            raise self._logged(BackendError(f"instance {self.id}: no complete answer within the call timeout "
                                            f"({self.endpoint.call_timeout_s:g} s)")) from None
        except BackendError as exc:
            raise self._logged(exc)
        finally:
            energy = self.meter.leave(cid)
        return CallOutcome(text=text, tokens_in=t_in, tokens_out=t_out, latency_s=loop.time() - t0,
                           energy_wh=energy.facility_wh, energy_basis=energy.basis, cost_usd=energy.cost_usd,
                           pool=self.pool, instance=self.id)

    def _logged(self, exc: BackendError) -> BackendError:
        log.warning("backend %s at %s: %s%s", self.id, self.endpoint.base_url, exc,
                    f" ({exc.__cause__})" if exc.__cause__ is not None else "")
        return exc

    async def _chat(self, req: CallRequest, cid: str) -> tuple[str, int, int]:
        ep = self.endpoint
        body = {"model": ep.served_model, "messages": req.messages, "stream": True,
                "stream_options": {"include_usage": True}}
        if req.max_tokens:
            body["max_tokens"] = req.max_tokens
        if req.temperature is not None:
            body["temperature"] = req.temperature
        where = f"instance {self.id}"
        parts: list[str] = []
        usage = None
        chunks = 0
        finished = False
        reason = None
        try:
            async with self.client().stream("POST", f"{ep.base_url}/chat/completions", json=body,
                                            headers=ep.headers()) as resp:
                if resp.status_code >= 400:
                    detail = (await resp.aread()).decode("utf-8", "replace")[:300]
                    raise BackendError(f"{where}: HTTP {resp.status_code}: {detail}",
                                       retryable=resp.status_code >= 500 or resp.status_code == 429,
                                       status=resp.status_code)
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        finished = True
                        break
                    try:
                        event = json.loads(data)
                    except json.JSONDecodeError:
                        raise BackendError(f"{where}: malformed stream chunk {data[:80]!r}") from None
                    if event.get("usage"):
                        usage = event["usage"]
                    for choice in event.get("choices") or ():
                        delta = (choice.get("delta") or {}).get("content")
                        if delta is not None:
                            # one streamed chunk per generated token (an incomplete UTF-8 byte
                            # token arrives as ""): the count stands in for usage when absent
                            if not chunks:
                                self.meter.decode(cid)   # first token out: the prefill is over
                            chunks += 1
                            if delta:
                                parts.append(delta)
                                if req.on_token is not None:
                                    req.on_token(delta)
                        if choice.get("finish_reason"):
                            finished = True
                            reason = choice["finish_reason"]
        except BackendError:
            raise
        except httpx.HTTPError as exc:
            raise _classify(exc, where) from exc
        if not finished:
            raise BackendError(f"{where}: stream ended before the completion finished "
                               f"(connection closed mid-stream after {chunks} chunks)")
        t_in = int(usage.get("prompt_tokens", 0)) if usage else 0
        t_out = int(usage.get("completion_tokens", chunks)) if usage else chunks
        if not usage and reason == "length" and req.max_tokens and chunks >= req.max_tokens:
            # stopped at the limit: exactly max_tokens were generated (llama.cpp sometimes splits one
            # token's bytes over several chunks, so the chunk count would over-count)
            t_out = req.max_tokens
        return "".join(parts), t_in, t_out

    async def _transcribe(self, req: CallRequest) -> tuple[str, int, int]:
        """payload: (filename, bytes) of one audio file."""
        ep = self.endpoint
        where = f"instance {self.id}"
        name, audio = req.payload
        try:
            resp = await self.client().post(f"{ep.base_url}/audio/transcriptions", headers=ep.headers(),
                                            data={"model": ep.served_model}, files={"file": (name, audio)})
        except httpx.HTTPError as exc:
            raise _classify(exc, where) from exc
        if resp.status_code >= 400:
            raise BackendError(f"{where}: HTTP {resp.status_code}: {resp.text[:300]}",
                               retryable=resp.status_code >= 500, status=resp.status_code)
        try:
            text = resp.json()["text"]
        except (ValueError, KeyError):
            raise BackendError(f"{where}: transcription response has no 'text' field") from None
        return text, 0, 0
