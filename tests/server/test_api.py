"""The HTTP API on the hand plan: what a client sees."""

import json

import pytest

from murakkab.spec.load import builtin_text

VIDEO_IN = {"video": "clip.mp4", "question": "what happens?"}


def test_health_metrics_and_openapi(server):
    assert server.get("/healthz").json()["status"] == "ok"
    doc = server.get("/openapi.json").json()
    assert "/v1/workflows/{name}/invoke" in doc["paths"] and "/v1/chat/completions" in doc["paths"]
    assert "murakkab_requests_in_flight" in server.get("/metrics").text


def test_sync_invoke_reports_per_step_and_total_accounting(server):
    r = server.post("/v1/workflows/video_qa/invoke", json={"inputs": VIDEO_IN, "tier": "accuracy:good"},
                    headers=server.hdr("acme"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed" and r.headers["x-request-id"] == body["request_id"]
    steps = {s["task"]: s for s in body["steps"]}
    assert set(steps) == {"scenes", "frames", "transcript", "detections", "answer"}
    assert steps["answer"]["tokens_out"] == 100 and steps["answer"]["calls"] == 1
    for key in ("energy_wh", "cost_usd", "tokens_out"):
        assert body[key] == pytest.approx(sum(s[key] for s in body["steps"]))
    assert body["energy_basis"] == "modelled" and body["energy_wh"] > 0 and body["cost_usd"] > 0
    # the DAG's order shows in the step start offsets: answer starts after all three of its producers end
    end = {t: s["started_s"] + s["latency_s"] for t, s in steps.items()}
    assert steps["answer"]["started_s"] >= max(end["frames"], end["transcript"], end["detections"])
    metrics = server.get("/metrics").text
    assert 'murakkab_requests_total{status="completed",tier="accuracy:good",workflow="video_qa"} 1.0' in metrics


def test_jobs_stream_their_step_events_and_are_private(server):
    r = server.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "2+2"}, "tier": "accuracy:good",
                                                            "mode": "job"}, headers=server.hdr("acme"))
    assert r.status_code == 202
    jid = r.json()["job_id"]
    with server.stream("GET", f"/v1/jobs/{jid}/events", headers=server.hdr("acme")) as s:
        kinds = [ln.split(": ", 1)[1] for ln in s.iter_lines() if ln.startswith("event: ")]
    assert kinds[0] == "accepted" and "step" in kinds and kinds[-1] == "completed"
    job = server.get(f"/v1/jobs/{jid}", headers=server.hdr("acme")).json()
    assert job["status"] == "completed" and job["result"]["steps"][0]["calls"] == 3   # 3 chains
    assert job["result"]["output"]["samples"] == 3
    other = server.get(f"/v1/jobs/{jid}", headers=server.hdr("beta"))
    assert other.status_code == 404 and "error" in other.json()


def test_auth_is_required_and_errors_are_json(server):
    assert server.get("/v1/workflows").status_code == 401
    assert server.get("/v1/workflows", headers={"Authorization": "Bearer nope"}).json()["error"]["message"] \
        .startswith("unknown API key")
    h = server.hdr("acme")
    r = server.post("/v1/workflows/nope/invoke", json={"inputs": {}, "tier": "accuracy:good"}, headers=h)
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
    r = server.post("/v1/workflows/reasoning/invoke", json={"inputs": {"question": "x"}, "tier": "accuracy:good"},
                    headers=h)
    assert r.status_code == 400 and "missing ['problem']" in r.json()["error"]["message"]
    r = server.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "x"}, "tier": "latency:best"},
                    headers=h)
    assert r.status_code == 409 and "no route" in r.json()["error"]["message"]
    r = server.post("/v1/workflows/reasoning/invoke", content=b"{not json", headers=h)
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request"
    r = server.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "x" * 30_000},
                                                            "tier": "accuracy:good"}, headers=h)
    assert r.status_code == 413 and "exceeds 20000 bytes" in r.json()["error"]["message"]
    assert server.get("/v1/healthz-typo").json()["error"]["type"] == "http_error"


def test_uploaded_workflows_are_validated_and_visible_only_to_their_tenant(server):
    spec = builtin_text("reasoning").replace("name: reasoning", "name: my_reasoning")
    r = server.post("/v1/workflows", json={"spec": spec}, headers=server.hdr("acme"))
    assert r.status_code == 201 and r.json()["name"] == "my_reasoning"
    assert "my_reasoning" in server.get("/v1/workflows", headers=server.hdr("acme")).json()["workflows"]
    assert "my_reasoning" not in server.get("/v1/workflows", headers=server.hdr("beta")).json()["workflows"]
    bad = server.post("/v1/workflows", json={"spec": spec.replace("capability: reasoning", "capability: reasonin")},
                      headers=server.hdr("acme"))
    assert bad.status_code == 422 and "reasonin" in bad.json()["error"]["message"]
    code = server.post("/v1/workflows", json={"spec": "!!python/object/apply:os.system ['touch /tmp/pwned']"},
                       headers=server.hdr("acme"))
    assert code.status_code == 422
    big = "name: big\ninputs: {problem: text}\ntasks:\n" + "".join(
        f"  - name: t{i}\n    capability: reasoning\n    inputs: {{problem: inputs.problem}}\n" for i in range(9)) \
        + "output: t0\n"
    r = server.post("/v1/workflows", json={"spec": big}, headers=server.hdr("acme"))
    assert r.status_code == 400 and "limit is 8" in r.json()["error"]["message"]


@pytest.mark.parametrize("server", [1.0], indirect=True)   # real time: the first job is still running
def test_per_tenant_concurrency_limit(server):
    h = server.hdr("beta")   # beta may have 1 request in flight
    body = {"inputs": {"problem": "x"}, "tier": "accuracy:good", "mode": "job"}
    first = server.post("/v1/workflows/reasoning/invoke", json=body, headers=h)
    second = server.post("/v1/workflows/reasoning/invoke", json=body, headers=h)
    assert first.status_code == 202
    assert second.status_code == 429 and "limit" in second.json()["error"]["message"]
    other = server.post("/v1/workflows/reasoning/invoke", json=body, headers=server.hdr("acme"))
    assert other.status_code == 202


def test_openai_chat_completions_on_a_chat_shaped_workflow(server):
    h = server.hdr("acme")
    r = server.post("/v1/chat/completions", json={"model": "reasoning:accuracy:good",
                                                  "messages": [{"role": "user", "content": "2+2?"}]}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
    assert body["usage"]["completion_tokens"] == 300 and body["murakkab"]["energy_wh"] > 0
    with server.stream("POST", "/v1/chat/completions", headers=h,
                       json={"model": "reasoning:accuracy:good", "stream": True,
                             "messages": [{"role": "user", "content": "2+2?"}]}) as s:
        data = [ln[6:] for ln in s.iter_lines() if ln.startswith("data: ")]
    assert data[-1] == "[DONE]" and json.loads(data[-2])["choices"][0]["finish_reason"] == "stop"
    r = server.post("/v1/chat/completions", json={"model": "video_qa:accuracy:good",
                                                  "messages": [{"role": "user", "content": "hi"}]}, headers=h)
    assert r.status_code == 400 and "not chat-shaped" in r.json()["error"]["message"]


def test_only_admins_change_plans_and_plans_are_versioned(server):
    assert server.post("/v1/plans/1/deploy", headers=server.hdr("acme")).status_code == 403
    r = server.post("/v1/plans/1/deploy", headers=server.hdr("admin"))
    assert r.status_code == 200
    plans = server.get("/v1/plans", headers=server.hdr("acme")).json()["plans"]
    assert [p["version"] for p in plans] == [1] and plans[0]["active"]
    active = server.get("/v1/plan", headers=server.hdr("acme")).json()
    pools = {p["pool"]: p for p in active["pools"]}
    assert pools["m"]["backend"] == "simulated" and pools["m"]["ready"] == pools["m"]["planned"] == 1
