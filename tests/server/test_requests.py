"""POST /v1/requests and chat with model 'auto': a request that names no workflow is decomposed by
the orchestrator (here an LLM behind the scripted OpenAI-compatible server, see
tests/orchestrator/scripted_server.py, or the matcher), type-checked, and run on the running plan's
routes on the simulated backend; the result says which DAG ran and why."""

import pytest
from fastapi.testclient import TestClient

from murakkab.orchestrator.backend import BackendConfig
from murakkab.plan.schema import Route
from murakkab.runtime.service import RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.orchestrator.scripted_server import ScriptedServer
from tests.orchestrator.test_compose import CODE, WATCH, composite
from tests.runtime import worlds
from tests.server.live import free_port

QUERY = "verify a student's coding solution from a video"
VIDEO = {"video": {"type": "video", "value": "lecture.mp4"}}


def plan_with_code_gen():
    """The hand plan plus a code_gen route on model pool "m" (debate 2x2, tester, ranker), latency p90 3 s."""
    plan = worlds.hand_plan()
    video = plan.route("video_qa", "accuracy:good")
    code = Route(**{**video.model_dump(), "workflow": "code_gen", "tier": {**video.tier.model_dump(), "workflow": "code_gen"},
                    "latency_p90_s": 3.0, "steps": [
                        worlds.llm_step("debate", "llm_debate", parallel=2, sequential=2, kind="composition"),
                        worlds.llm_step("tests", "llm_tester", kind="composition"),
                        worlds.llm_step("pick", "llm_ranker")],
                    "edges": [("debate", "tests"), ("debate", "pick"), ("tests", "pick")]})
    return plan.model_copy(update={"routes": [*plan.routes, code]})


def client(tmp_path, orchestrator: str | None = None, tries: int = 3):
    cfg = RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=plan_with_code_gen(), time_scale=0.001,
                        orchestrator=BackendConfig(base_url=orchestrator, model="scripted", timeout_s=10)
                        if orchestrator else None, orchestrator_tries=tries)
    return TestClient(create_app(ServerConfig(runtime=cfg, auth=False)))


def test_a_composite_request_runs_video_qa_then_code_gen_and_says_which_dag_ran(tmp_path):
    looping = composite(("watch", "video_qa", {"video": "request.video", "question": "code"}),
                        ("code", "code_gen", {"problem": "watch"}))
    right = composite(WATCH, CODE, why="watch the video for the solution, then generate and test code")
    with ScriptedServer([looping, right]) as llm, client(tmp_path, llm.base_url) as c:
        r = c.post("/v1/requests", json={"query": QUERY, "data": VIDEO, "slo_s": 3600})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "completed" and body["decomposed_by"] == "orchestrator LLM scripted"
        assert [(s["name"], s["uses"]) for s in body["dag"]["steps"]] == [("watch", "video_qa"), ("code", "code_gen")]
        assert body["dag"]["edges"] == [["watch", "code"]] and body["dag"]["output"] == "code"
        assert body["why"].startswith("watch the video") and len(body["rejected"]) == 1
        assert "type mismatch" in body["rejected"][0] or "loops" in body["rejected"][0]
        # each step ran as a journalled request on the plan's route
        for step in body["steps"]:
            job = c.get(f"/v1/jobs/{step['request_id']}").json()
            assert job["status"] == "completed" and job["workflow"] == step["uses"] and step["kind"] == "workflow"
        watch, code = body["steps"]
        assert code["output"] is not None and body["output"] == code["output"]
        assert body["energy_wh"] == pytest.approx(watch["energy_wh"] + code["energy_wh"]) and body["energy_wh"] > 0
        # the plan's routes predict 1 s (video_qa) then 3 s (code_gen) along the chain
        assert body["predicted_latency_p90_s"] == pytest.approx(4.0)
        assert body["model_critical_path_s"] == pytest.approx(watch["model_latency_s"] + code["model_latency_s"])
        assert body["slo_s"] == 3600 and body["slo_met"] is True
        # the second request of the same shape (another video) skips decomposition; its SLO of 10 ms
        # cannot hold (every tool step alone takes 0.5 s of model time)
        again = c.post("/v1/requests", json={"query": QUERY, "slo_s": 0.01,
                                             "data": {"video": {"type": "video", "value": "b.mp4"}}})
        assert again.status_code == 200 and again.json()["decomposed_by"] == "cache (first decomposed by orchestrator LLM scripted)"
        assert again.json()["status"] == "completed" and again.json()["slo_met"] is False
        assert len(llm.requests) == 2


def test_chat_with_model_auto_composes_from_the_message(tmp_path):
    solve = composite(("solve", "reasoning", {"problem": "request.query"}), output="solve", why="a math problem")
    with ScriptedServer([solve]) as llm, client(tmp_path, llm.base_url) as c:
        r = c.post("/v1/chat/completions", json={"model": "auto", "messages": [{"role": "user", "content": "2+2?"}]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
        assert body["murakkab"]["dag"]["steps"][0]["uses"] == "reasoning"
        with c.stream("POST", "/v1/chat/completions", json={"model": "auto:accuracy:good", "stream": True,
                                                          "messages": [{"role": "user", "content": "3+3?"}]}) as s:
            lines = [ln for ln in s.iter_lines() if ln.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and '"finish_reason": "stop"' in lines[-2]


def test_without_an_orchestrator_the_matcher_composes_one_workflow(tmp_path):
    with client(tmp_path) as c:
        r = c.post("/v1/requests", json={"query": "what happens in this video?", "data": VIDEO})
        assert r.status_code == 200, r.text
        assert r.json()["decomposed_by"] == "matcher" and r.json()["dag"]["steps"][0]["uses"] == "video_qa"
        bad = c.post("/v1/requests", json={"query": "bake a chocolate cake"})
        assert bad.status_code == 422 and "closest:" in bad.json()["error"]["message"]


def test_bad_composite_requests_get_clear_errors_and_run_nothing(tmp_path):
    with client(tmp_path, f"http://127.0.0.1:{free_port()}/v1") as c:
        r = c.post("/v1/requests", json={"query": QUERY, "data": VIDEO})
        assert r.status_code == 503 and "unreachable" in r.json()["error"]["message"]
        r = c.post("/v1/requests", json={"query": QUERY, "data": {"video": {"type": "movie", "value": "x"}}})
        assert r.status_code == 400 and "unknown type 'movie'" in r.json()["error"]["message"]
        r = c.post("/v1/requests", json={"query": QUERY, "data": VIDEO, "tier": "latency:best"})
        assert r.status_code == 422 and "can serve this request's tier" in r.json()["error"]["message"]
        assert c.get("/healthz").json()["journal"].get("completed", 0) == 0
    looping = composite(("a", "reasoning", {"problem": "b"}), ("b", "reasoning", {"problem": "a"}), output="b")
    (tmp_path / "second").mkdir()
    with ScriptedServer([looping]) as llm, client(tmp_path / "second", llm.base_url, tries=2) as c:
        r = c.post("/v1/requests", json={"query": "solve 2+2", "data": {}})
        assert r.status_code == 422 and "in 2 tries" in r.json()["error"]["message"]
        assert "loops: a -> b -> a" in r.json()["error"]["message"] and len(llm.requests) == 2


def test_an_executor_step_runs_on_the_plan_route_that_uses_it(tmp_path):
    debate = composite(WATCH, ("debate", "llm_debate", {"problem": "watch"}), output="debate",
                       why="only candidate programs are asked for")
    with ScriptedServer([debate]) as llm, client(tmp_path, llm.base_url) as c:
        r = c.post("/v1/requests", json={"query": QUERY, "data": VIDEO})
        assert r.status_code == 200, r.text
        body = r.json()
        watch, step = body["steps"]
        assert (step["uses"], step["kind"], step["route"]) == ("llm_debate", "executor", "code_gen/accuracy:good/debate")
        assert step["status"] == "completed" and step["request_id"] is None and step["energy_wh"] > 0
        # the code_gen route debates 2 rounds of 2 debaters: the candidates are the last round's 2 answers
        assert isinstance(body["output"], list) and len(body["output"]) == 2
        assert body["energy_wh"] == pytest.approx(watch["energy_wh"] + step["energy_wh"])
        # the executors on offer are those the running plan's routes run at the tier
        system = llm.requests[0]["messages"][0]["content"]
        assert "Executors (one step each)" in system and "- llm_debate (problem: text) -> code_candidates" in system
        assert "python_interpreter" not in system


def test_serve_refuses_a_bad_orchestrator_setting_before_starting(tmp_path):
    from typer.testing import CliRunner

    from murakkab.cli import app
    runner = CliRunner()
    db = str(tmp_path / "j.db")
    r = runner.invoke(app, ["serve", "--db", db, "--orchestrator", "ftp://127.0.0.1/v1"])
    assert r.exit_code == 2 and "is not http(s)" in r.output
    r = runner.invoke(app, ["serve", "--db", db, "--orchestrator", "http://127.0.0.1:1/v1", "--orchestrator-mode", "xml"])
    assert r.exit_code == 2 and "mode 'xml' is unknown" in r.output
