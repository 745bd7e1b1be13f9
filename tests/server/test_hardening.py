"""Hostile and careless input gets a 4xx with a message, never a 500; an unexpected 500 leaves the
keep-alive connection usable; no backend address reaches a tenant; a backend's 400 is the client's."""

import http.client
import json

import pytest
from fastapi.testclient import TestClient

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.service import RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds
from tests.runtime.faulty_server import FaultyServer
from tests.server.live import InThread

DEMAND = {"workflow": "reasoning", "tier": "accuracy:good", "peak_rps": 1.0, "avg_rps": 0.5}


def test_an_unexpected_500_keeps_the_keep_alive_connection(tmp_path):
    app = create_app(ServerConfig(auth=False, runtime=RuntimeConfig(db_path=str(tmp_path / "j.db"),
                                                                     plan=worlds.hand_plan())))

    @app.get("/boom")                 # stands in for any bug that escapes a route
    async def boom():
        raise RuntimeError("a bug")

    with InThread(app) as base:
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=10)
        for _ in range(3):
            conn.request("GET", "/boom")
            r = conn.getresponse()
            body = json.loads(r.read())
            assert r.status == 500 and body["error"]["type"] == "internal_error"
            assert "a bug" not in body["error"]["message"]          # details go to the log
            sock = conn.sock
            assert sock is not None, "the server closed the connection after its 500"
            conn.request("GET", "/healthz")                          # the same connection, reused
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["status"] == "ok"
            assert conn.sock is sock
        conn.close()


@pytest.mark.parametrize("raw, needle", [
    ('{"demand": [{"workflow": "reasoning", "tier": "accuracy:good", "peak_rps": Infinity, "avg_rps": 1}]}',
     "peak_rps"),
    ('{"demand": [{"workflow": "reasoning", "tier": "accuracy:good", "peak_rps": NaN, "avg_rps": 1}]}', "peak_rps"),
    ('{"demand": [{"workflow": "reasoning", "tier": "accuracy:good", "peak_rps": 1e308, "avg_rps": 1}]}',
     "any budget could hold"),
    ('{"demand": [{"workflow": "reasoning", "tier": "accuracy:good", "peak_rps": 0, "avg_rps": 0}]}', "peak_rps"),
    ('{"demand": [{"workflow": "reasoning", "tier": "accuracy:good", "peak_rps": 1, "avg_rps": 2}]}', "above peak"),
])
def test_bad_demand_is_a_4xx(server, raw, needle):
    r = server.post("/v1/plans", content=raw, headers={**server.hdr("admin"), "content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert needle in r.json()["error"]["message"]
    assert server.get("/v1/plans", headers=server.hdr("admin")).json()["plans"][-1]["version"] == 1   # nothing stored


def test_duplicate_demand_entries_are_refused_not_merged(server):
    r = server.post("/v1/plans", json={"demand": [DEMAND, DEMAND]}, headers=server.hdr("admin"))
    assert r.status_code == 422 and "reasoning accuracy:good more than once" in r.json()["error"]["message"]


@pytest.mark.parametrize("version", ["99999999999999999999999", "0", "-1", "9223372036854775807"])
def test_deploying_an_impossible_plan_version_is_a_4xx(server, version):
    r = server.post(f"/v1/plans/{version}/deploy", headers=server.hdr("admin"))
    assert r.status_code in (404, 422), r.text
    assert server.get("/healthz").json()["plan_version"] == 1


def test_a_deeply_nested_spec_is_a_4xx(server):
    spec = "name: deep\ninputs: " + "[" * 500 + "]" * 500 + "\ntasks: []\noutput: x\n"
    r = server.post("/v1/workflows", json={"spec": spec}, headers=server.hdr("acme"))
    assert r.status_code == 422 and "nested" in r.json()["error"]["message"]
    spec = "name: deep\ninputs: " + "[" * 40 + "]" * 40 + "\ntasks: []\noutput: x\n"
    r = server.post("/v1/workflows", json={"spec": spec}, headers=server.hdr("acme"))
    assert r.status_code == 422 and "nested more than 32 levels" in r.json()["error"]["message"]


def test_a_chunked_body_over_the_limit_is_413(server):
    def chunks():
        yield b'{"inputs": {"problem": "'
        for _ in range(30):
            yield b"x" * 1000
        yield b'"}, "tier": "accuracy:good"}'
    r = server.post("/v1/workflows/reasoning/invoke", content=chunks(),
                    headers={**server.hdr("acme"), "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "body_too_large"


def _remote(tmp_path, backend):
    return ServerConfig(auth=False, runtime=RuntimeConfig(
        db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(),
        backends=parse_backends(f"defaults: {{retries: 1, backoff_s: 0}}\nmodels:\n"
                                f"  qwen3-8b:\n    - {{base_url: '{backend.base_url}'}}\n")))


def test_a_backend_400_is_the_clients_400_and_no_backend_address_leaks(tmp_path):
    with FaultyServer("400") as backend, TestClient(create_app(_remote(tmp_path, backend))) as c:
        r = c.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "2+2"}, "tier": "accuracy:good"})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["type"] == "backend_rejected" and "HTTP 400" in r.json()["error"]["message"]
        chat = c.post("/v1/chat/completions", json={"model": "reasoning:accuracy:good",
                                                    "messages": [{"role": "user", "content": "2+2"}]})
        assert chat.status_code == 400
        for text in (r.text, chat.text):
            assert "127.0.0.1" not in text and str(backend.port) not in text


def test_unreachable_and_failing_backends_do_not_leak_their_address(tmp_path):
    with FaultyServer("500") as backend, TestClient(create_app(_remote(tmp_path, backend))) as c:
        r = c.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "2+2"}, "tier": "accuracy:good"})
        assert r.status_code == 503, r.text
        assert "127.0.0.1" not in r.text and str(backend.port) not in r.text
    gone = FaultyServer("ok")            # never started: its port refuses connections
    (tmp_path / "b").mkdir()
    with TestClient(create_app(_remote(tmp_path / "b", gone))) as c:
        r = c.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "2+2"}, "tier": "accuracy:good"})
        assert r.status_code == 503 and "cannot connect" in r.text
        assert str(gone.port) not in r.text and "127.0.0.1" not in r.text


def test_a_failed_composite_answers_with_its_failed_steps_status_not_500(tmp_path):
    # the matcher composes one reasoning step; its backend refuses the call with a 400, which is the
    # client's to fix exactly as on invoke (was a blanket 500 on both composite surfaces)
    with FaultyServer("400") as backend, TestClient(create_app(_remote(tmp_path, backend))) as c:
        r = c.post("/v1/requests", json={"query": "solve this math problem: what is 2+2?", "data": {}})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["error"]["type"] == "backend_rejected" and body["result"]["status"] == "failed"
        chat = c.post("/v1/chat/completions", json={"model": "auto", "messages": [
            {"role": "user", "content": "solve this math problem: what is 2+2?"}]})
        assert chat.status_code == 400, chat.text
        for text in (r.text, chat.text):
            assert "127.0.0.1" not in text and str(backend.port) not in text
