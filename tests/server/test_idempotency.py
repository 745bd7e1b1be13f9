"""Idempotency-Key on invoke: a retry returns the first request's job (sync: its result) and starts
nothing; the key is journalled, so this holds across a restart; another request under a used key is
refused."""

from fastapi.testclient import TestClient

from murakkab.runtime.journal import Journal
from murakkab.runtime.service import RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds

JOB = {"inputs": {"problem": "2+2"}, "tier": "accuracy:good", "mode": "job"}


def test_a_retried_job_returns_the_first_job(server):
    h = {**server.hdr("acme"), "Idempotency-Key": "order-17"}
    first = server.post("/v1/workflows/reasoning/invoke", json=JOB, headers=h)
    again = server.post("/v1/workflows/reasoning/invoke", json=JOB, headers=h)
    assert first.status_code == again.status_code == 202
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert sum(server.get("/healthz").json()["journal"].values()) == 1
    # the key is per tenant: beta's order-17 is its own request
    other = server.post("/v1/workflows/reasoning/invoke", json=JOB, headers={**server.hdr("beta"),
                                                                                "Idempotency-Key": "order-17"})
    assert other.status_code == 202 and other.json()["job_id"] != first.json()["job_id"]


def test_a_retried_sync_request_returns_the_first_result(server):
    h = {**server.hdr("acme"), "Idempotency-Key": "k1"}
    body = {"inputs": {"problem": "2+2"}, "tier": "accuracy:good"}
    first = server.post("/v1/workflows/reasoning/invoke", json=body, headers=h)
    again = server.post("/v1/workflows/reasoning/invoke", json=body, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.json()["request_id"] == first.json()["request_id"]
    assert again.json()["energy_wh"] == first.json()["energy_wh"]
    assert server.get("/healthz").json()["journal"] == {"completed": 1}


def test_a_used_key_with_another_request_is_refused(server):
    h = {**server.hdr("acme"), "Idempotency-Key": "k2"}
    assert server.post("/v1/workflows/reasoning/invoke", json=JOB, headers=h).status_code == 202
    r = server.post("/v1/workflows/reasoning/invoke", json={**JOB, "inputs": {"problem": "3+3"}}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["type"] == "KeyReused"
    assert "new key" in r.json()["error"]["message"]


def test_the_key_holds_across_a_restart(tmp_path):
    db = str(tmp_path / "j.db")
    j = Journal(db)
    h = {"Authorization": f"Bearer {j.add_tenant('acme')}", "Idempotency-Key": "after-crash"}
    j.close()
    cfg = ServerConfig(runtime=RuntimeConfig(db_path=db, plan=worlds.hand_plan(), time_scale=0.001))
    with TestClient(create_app(cfg)) as c:
        first = c.post("/v1/workflows/reasoning/invoke", json=JOB, headers=h).json()["job_id"]
    with TestClient(create_app(cfg)) as c:
        again = c.post("/v1/workflows/reasoning/invoke", json=JOB, headers=h)
        assert again.json()["job_id"] == first and again.headers["idempotent-replayed"] == "true"
        assert sum(c.get("/healthz").json()["journal"].values()) == 1
