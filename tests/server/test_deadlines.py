"""Deadlines and cancellation: no backend can hold a request past its call timeout or its request's
deadline (SSE keep-alive comments included); a sync client that leaves cancels its request; a job is
cancelled with its event stream only when asked; SIGTERM stops the server within --shutdown-timeout
and leaves the interrupted request journalled for the next start."""

import os
import signal
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.journal import Journal
from murakkab.runtime.service import Runtime, RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds
from tests.runtime.faulty_server import FaultyServer
from tests.server.live import InThread, free_port, start_server

PROBLEM = {"inputs": {"problem": "2+2"}, "tier": "accuracy:good"}


def _cfg(tmp_path, backend, defaults="retries: 0, backoff_s: 0", **runtime):
    return ServerConfig(auth=False, runtime=RuntimeConfig(
        db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(), backends=parse_backends(
            f"defaults: {{{defaults}}}\nmodels:\n  qwen3-8b:\n    - {{base_url: '{backend.base_url}'}}\n"), **runtime))


def _wait_for(predicate, within_s=10.0):
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_backend_sending_only_keep_alives_is_cut_at_the_call_timeout(tmp_path):
    with FaultyServer("keepalive") as backend, \
            TestClient(create_app(_cfg(tmp_path, backend, "retries: 0, backoff_s: 0, call_timeout_s: 0.5"))) as c:
        t0 = time.monotonic()
        r = c.post("/v1/workflows/reasoning/invoke", json=PROBLEM)
        assert time.monotonic() - t0 < 10
        assert r.status_code == 503 and "call timeout (0.5 s)" in r.json()["error"]["message"], r.text
        assert _wait_for(lambda: backend.disconnected_at is not None)
        assert c.get("/healthz").json()["journal"] == {"failed": 1}      # the tenant's slot is free again


def test_a_request_deadline_ends_the_request_with_504(tmp_path):
    with FaultyServer("keepalive") as backend, TestClient(create_app(_cfg(tmp_path, backend))) as c:
        r = c.post("/v1/workflows/reasoning/invoke", json={**PROBLEM, "deadline_s": 0.5})
        assert r.status_code == 504 and r.json()["error"]["type"] == "deadline_exceeded", r.text
        assert "0.5 s deadline" in r.json()["error"]["message"]
        assert _wait_for(lambda: backend.disconnected_at is not None)
        bad = c.post("/v1/workflows/reasoning/invoke", json={**PROBLEM, "deadline_s": 10 ** 6})
        assert bad.status_code == 400 and "at most 3600 s" in bad.json()["error"]["message"]


def test_default_deadlines_come_from_the_tier(tmp_path):
    from murakkab.runtime.service import Deadlines
    rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), deadlines=Deadlines(request_s=120, latency_factor=3)))
    latency = worlds._route("reasoning", [], [], tier="latency:good")
    latency = latency.model_copy(update={"tier": latency.tier.model_copy(update={"threshold": 2.5})})
    assert rt.deadline_for(latency) == pytest.approx(7.5)                 # 3 x the 2.5 s target
    assert rt.deadline_for(worlds._route("reasoning", [], [])) == 120     # accuracy tier: the server's default
    assert rt.deadline_for(latency, 30) == 30                             # the client's own
    rt.cfg.time_scale = 4.0                                               # a 4x slower simulation stretches it
    assert rt.deadline_for(latency) == pytest.approx(30.0)
    rt.journal.close()


def test_a_sync_client_that_leaves_cancels_its_request(tmp_path):
    with FaultyServer("slow") as backend:
        app = create_app(_cfg(tmp_path, backend))
        with InThread(app) as base:
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(f"{base}/v1/workflows/reasoning/invoke", json=PROBLEM, timeout=0.5)
            j = Journal(str(tmp_path / "j.db"))
            assert _wait_for(lambda: j.counts() == {"cancelled": 1}), j.counts()
            assert _wait_for(lambda: backend.disconnected_at is not None)
            assert backend.slow_tokens_sent < 150          # the backend stopped long before its 200 tokens
            j.close()


@pytest.mark.parametrize("cancel", [True, False])
def test_a_job_is_cancelled_with_its_event_stream_only_when_asked(tmp_path, cancel):
    with FaultyServer("slow") as backend:
        with InThread(create_app(_cfg(tmp_path, backend))) as base:
            r = httpx.post(f"{base}/v1/workflows/reasoning/invoke",
                           json={**PROBLEM, "mode": "job", "cancel_on_disconnect": cancel})
            jid = r.json()["job_id"]
            with httpx.stream("GET", f"{base}/v1/jobs/{jid}/events", timeout=10) as s:
                next(s.iter_lines())                                  # the first event, then hang up
            status = lambda: httpx.get(f"{base}/v1/jobs/{jid}").json()["status"]  # noqa: E731
            if cancel:
                assert _wait_for(lambda: status() == "cancelled")
            else:
                time.sleep(1.0)
                assert status() == "running"
                httpx.delete(f"{base}/v1/jobs/{jid}")


def test_sigterm_stops_a_server_with_a_hung_request_within_the_shutdown_timeout(tmp_path):
    with FaultyServer("keepalive") as backend:
        db, plan = tmp_path / "j.db", tmp_path / "plan.json"
        plan.write_text(worlds.hand_plan().to_json())
        (tmp_path / "b.yaml").write_text(f"models:\n  qwen3-8b:\n    - {{base_url: '{backend.base_url}'}}\n")
        port = free_port()
        log = open(tmp_path / "server.log", "w")
        proc = start_server(["--db", str(db), "--plan", str(plan), "--backends", str(tmp_path / "b.yaml"),
                             "--no-auth", "--shutdown-timeout", "1"], port, log)
        try:
            hung = threading.Thread(target=lambda: httpx.post(f"http://127.0.0.1:{port}/v1/workflows/reasoning/invoke",
                                                              json=PROBLEM, timeout=30), daemon=True)
            hung.start()
            assert _wait_for(lambda: backend.hits >= 1)
            t0 = time.monotonic()
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
            assert time.monotonic() - t0 < 1 + 5
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        assert "listening on http://127.0.0.1" in open(tmp_path / "server.log").read()
    j = Journal(str(db))
    assert j.counts() == {"running": 1}      # left open: the next start runs it again
    j.close()
