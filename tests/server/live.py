"""Start `murakkab serve` as a real process on loopback for tests that need one."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from murakkab.runtime.journal import Journal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], port: int, log) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "murakkab.cli", "serve", "--port", str(port), *args],
                            stdout=log, stderr=log, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {open(log.name).read()[-2000:]}")
    proc.kill()
    raise AssertionError("server did not come up in 90 s")


def tenant_headers(db, name: str, max_concurrency: int | None = None) -> dict[str, str]:
    """Add tenant `name` to the journal at `db` (before the server opens it) and return the HTTP
    headers that authenticate as it."""
    j = Journal(str(db))
    key = j.add_tenant(name) if max_concurrency is None else j.add_tenant(name, max_concurrency=max_concurrency)
    j.close()
    return {"Authorization": f"Bearer {key}"}


class InThread:
    """Serve an ASGI app with uvicorn on a loopback port in a background thread (a real HTTP server,
    real connections): `with InThread(app) as base_url: ...`."""

    def __init__(self, app):
        import threading

        import uvicorn
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error",
                                                    timeout_keep_alive=75))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise AssertionError("server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=20)
