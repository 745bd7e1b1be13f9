"""A fault-injecting OpenAI-compatible chat server for failover tests, run with uvicorn on loopback.

Behaviour per instance is set by `mode`: "ok" streams `reply` (default "hello world") as two chunks with usage;
"500"/"400" answer HTTP 500/400; "hang" never answers (the client's read timeout fires); "cut" sends one
chunk then drops the connection; "slow" streams "t0 t1 ..." one token per 50 ms for 10 s and records in
`disconnected_at` (monotonic s) when the client goes away; "keepalive" answers 200 and then sends only SSE
comments (": keep-alive"), forever, also recording `disconnected_at`. `hits` counts requests; `bodies` keeps their JSON. Real llama.cpp is used for the
integration test; this server exists because a real one cannot be made to fail on demand.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import uvicorn


class FaultyServer:
    def __init__(self, mode: str, reply: str = "hello world"):
        self.mode, self.hits, self.reply = mode, 0, reply
        self.bodies: list = []          # JSON request bodies received, in order
        self.disconnected_at: float | None = None
        self.slow_tokens_sent = 0
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error",
                                                     interface="asgi3"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def app(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.hits += 1
        raw = b""
        while True:
            msg = await receive()
            raw += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        try:
            self.bodies.append(json.loads(raw) if raw else None)
        except ValueError:
            self.bodies.append(None)
        if self.mode in ("500", "400"):
            await send({"type": "http.response.start", "status": int(self.mode), "headers": []})
            await send({"type": "http.response.body", "body": b'{"error": "injected"}'})
            return
        if self.mode == "hang":
            await asyncio.sleep(3600)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})

        def chunk(content=None, finish=None, usage=None):
            ev = {"choices": [{"index": 0, "delta": {"content": content} if content else {},
                               "finish_reason": finish}]}
            if usage:
                ev["usage"] = usage
            return {"type": "http.response.body", "body": f"data: {json.dumps(ev)}\n\n".encode(), "more_body": True}

        if self.mode == "keepalive":
            gone = asyncio.ensure_future(receive())
            while not gone.done():
                await send({"type": "http.response.body", "body": b": keep-alive\n\n", "more_body": True})
                await asyncio.sleep(0.05)
            self.disconnected_at = time.monotonic()
            return
        if self.mode == "slow":
            gone = asyncio.ensure_future(receive())      # resolves with http.disconnect when the client leaves
            for i in range(200):
                if gone.done():
                    self.disconnected_at = time.monotonic()
                    return
                await send(chunk(f"t{i} "))
                self.slow_tokens_sent += 1
                await asyncio.sleep(0.05)
            gone.cancel()
            await send(chunk(finish="stop"))
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
            return
        first, _, rest = self.reply.partition(" ")
        await send(chunk(first + " "))
        if self.mode == "cut":
            raise ConnectionResetError("injected: connection dropped mid-stream")
        await send(chunk(rest, "stop"))
        await send(chunk(usage={"prompt_tokens": 7, "completion_tokens": 2}))
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    def __enter__(self):
        self._thread.start()
        deadline = time.time() + 20
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("fault server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
