"""An OpenAI-compatible streaming chat server with scripted token timing, for the profiler's tests.

Every request streams `max_tokens` one-token chunks: the first at TTFT after the request arrived,
then one every TPOT, each scheduled on the absolute clock (start + TTFT + k x TPOT) so that delays
do not add up; the usage chunk reports the tokens sent. Modes: "ok"; "ignore-max-tokens" (sends 3x
the asked tokens); "ignore-eos" (stops after a quarter of them with finish_reason "stop");
"fail-after=N" (chat requests after the N-th answer HTTP 500). Run as its own process (its event loop must
not share a CPU thread with the client's): python -m tests.profiling.scripted_server PORT TTFT TPOT MODE
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx
import uvicorn


def make_app(ttft: float, tpot: float, mode: str):
    state = {"hits": 0}
    fail_after = int(mode.split("=")[1]) if mode.startswith("fail-after=") else None

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        arrived = time.monotonic()
        path = scope["path"]
        if scope["method"] == "GET" and path == "/v1/models":
            body = json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        raw = b""
        while True:
            msg = await receive()
            raw += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        if path == "/v1/chat/completions":
            state["hits"] += 1
        if path != "/v1/chat/completions" or (fail_after is not None and state["hits"] > fail_after):
            await send({"type": "http.response.start", "status": 500 if path.endswith("completions") else 404,
                        "headers": []})
            await send({"type": "http.response.body", "body": b"scripted failure"})
            return
        req = json.loads(raw)
        n = int(req.get("max_tokens", 16))
        finish = "length"
        if mode == "ignore-max-tokens":
            n *= 3
        elif mode == "ignore-eos":
            n, finish = max(1, n // 4), "stop"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})

        def chunk(delta, reason=None, usage=None):
            d = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}
            if usage:
                d = {"object": "chat.completion.chunk", "choices": [], "usage": usage}
            return b"data: " + json.dumps(d).encode() + b"\n\n"
        await send({"type": "http.response.body", "body": chunk({"role": "assistant"}), "more_body": True})
        for k in range(n):
            delay = arrived + ttft + k * tpot - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": chunk({"content": f" t{k}"}), "more_body": True})
        await send({"type": "http.response.body", "body": chunk({}, finish), "more_body": True})
        await send({"type": "http.response.body", "more_body": True,
                    "body": chunk(None, usage={"prompt_tokens": 10, "completion_tokens": n, "total_tokens": n + 10})})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
    return app


class Scripted:
    """The scripted server in a child process on loopback (a context manager)."""

    def __init__(self, port: int, ttft: float, tpot: float, mode: str = "ok"):
        self.port, self.args = port, [str(port), str(ttft), str(tpot), mode]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def __enter__(self) -> "Scripted":
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.profiling.scripted_server", *self.args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.proc.kill()
        raise AssertionError("scripted server did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


if __name__ == "__main__":
    port, ttft, tpot, mode = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    uvicorn.run(make_app(ttft, tpot, mode), host="127.0.0.1", port=port, log_level="error", backlog=4096,
                timeout_keep_alive=75)
