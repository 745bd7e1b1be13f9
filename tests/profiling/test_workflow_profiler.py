"""The workflow profiler on 20 GSM8K problems against a scripted OpenAI-compatible backend that answers a
known subset right; scoring and interval maths against hand calculations; bad configurations."""

import json
import socket
import threading
import time

import pytest
import uvicorn

from murakkab.catalog.user import ENV
from murakkab.errors import MurakkabError
from murakkab.profiling.datasets import Item, final_answer, is_correct, load_dataset
from murakkab.profiling.stats import ci_half_width_rel
from murakkab.profiling.workflow_profiler import profile_workflow, wilson_interval

MODELS = """models:
  scripted-solver:
    name: scripted solver
    hf_id: local/scripted
    total_params_b: 1
    active_params_b: 1
    modality: [text]
    precision: bfloat16
    profiled_as: scripted-solver
    profile_basis: measured
    source: "a test server"
    executors: [self_consistency]
"""


class AnsweringServer:
    """Streams 'Answer: <reference>' for the questions in `right`, 'Answer: 0.5' (never a GSM8K answer)
    otherwise, one word per chunk; reports usage: prompt tokens = words in the messages, completion
    tokens = chunks sent. Records what it sent per question."""

    def __init__(self, answers: dict[str, str], right: set[str]):
        self.answers, self.right, self.sent = answers, right, {}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error",
                                                    interface="asgi3"))

    async def app(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        raw = b""
        while True:
            msg = await receive()
            raw += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        req = json.loads(raw)
        user = req["messages"][-1]["content"]
        question = next(q for q in self.answers if q in user)
        words = f"Let me think. Answer: {self.answers[question] if question in self.right else '0.5'}".split(" ")
        prompt = sum(len(m["content"].split()) for m in req["messages"])
        self.sent[question] = (prompt, len(words))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for i, w in enumerate(words):
            chunk = {"choices": [{"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}]}
            await send({"type": "http.response.body", "body": f"data: {json.dumps(chunk)}\n\n".encode(), "more_body": True})
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": prompt, "completion_tokens": len(words), "total_tokens": prompt + len(words)}}
        await send({"type": "http.response.body", "body": f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode()})

    def __enter__(self):
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "")          # restored after the test: the profiler selects its --out catalogue
    d = tmp_path / "cat"
    d.mkdir()
    (d / "models.yaml").write_text(MODELS)
    return d


def test_measured_accuracy_and_tokens_are_what_the_backend_did(catalogue, tmp_path):
    data = load_dataset("gsm8k", limit=20)
    answers = {it.question: it.reference for it in data.items}
    right = {it.question for i, it in enumerate(data.items) if i % 4 == 0 or i in (3, 7, 11)}   # 8 of 20
    backends = tmp_path / "backends.yaml"
    with AnsweringServer(answers, right) as srv:
        backends.write_text(f"models:\n  scripted-solver:\n    - {{base_url: '{srv.base_url}'}}\n")
        res = profile_workflow("reasoning", data, backends, ["samples=1", "model=scripted-solver"], catalogue)
    assert res.n == 20 and res.correct == 8 and res.profile.accuracy_percent == pytest.approx(40.0)
    sent = [srv.sent[it.question] for it in data.items]
    import numpy as np
    tok = res.profile.tokens["solve"]
    assert tok.input_tokens == pytest.approx(np.mean([p for p, _ in sent]))
    outs = [o for _, o in sent]
    assert (tok.output_p50, tok.output_p90, tok.output_p99) == pytest.approx(
        (np.percentile(outs, 50), np.percentile(outs, 90), np.percentile(outs, 99)))
    # written, and read back through the catalogue's checks with file:row provenance
    from murakkab.catalog.load import build_catalog
    from murakkab.profiles.user import read_workflow_profiles
    [row] = read_workflow_profiles(catalogue / "workflow_profiles.jsonl", build_catalog(str(catalogue)))
    assert row.accuracy_source.basis == "measured" and row.accuracy_source.row == 1
    assert "8/20 right" in row.accuracy_source.note and row.benchmark == "gsm8k"


def test_bad_configurations_are_refused_before_any_request(catalogue, tmp_path):
    data = load_dataset("gsm8k", limit=2)
    backends = tmp_path / "b.yaml"
    backends.write_text("models:\n  scripted-solver:\n    - {base_url: 'http://127.0.0.1:1/v1'}\n")
    cases = [(["samples=1"], "no model for task 'solve'"), (["samples=2", "model=scripted-solver"], "samples must be"),
             (["model=scripted-solver"], "missing ['samples']"), (["samples=1", "model=qwen3-8b"], "no endpoint"),
             (["samples=1", "model=nope"], "unknown model 'nope'"), (["frames=3"], "has no knob 'frames'")]
    for config, message in cases:
        with pytest.raises(MurakkabError, match=message.replace("[", r"\[").replace("]", r"\]")):
            profile_workflow("reasoning", data, backends, config, catalogue)
    with pytest.raises(MurakkabError, match="does not take one text input"):
        profile_workflow("video_qa", data, backends, ["model=scripted-solver"], catalogue)
    with pytest.raises(MurakkabError, match="tool step"):
        profile_workflow("code_gen", data, backends, ["debaters=2", "rounds=2", "model=scripted-solver"], catalogue)
    assert not (catalogue / "workflow_profiles.jsonl").exists()


def test_scoring_rules():
    gsm = Item("q", "1234", True)
    assert is_correct(gsm, "so 1,234 apples.\nAnswer: 1,234") and is_correct(gsm, "it is \\boxed{1234}")
    assert not is_correct(gsm, "Answer: 1235") and not is_correct(gsm, "no number")
    math = Item("q", "\\frac{\\pi}{2}", False)
    assert is_correct(math, "thus $\\boxed{\\dfrac{\\pi}{2}}$.") and not is_correct(math, "\\boxed{\\pi}")
    assert final_answer("x \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)} y") == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert load_dataset("gsm8k", limit=1).items[0].reference == "18"      # Janet's ducks: '#### 18'
    assert len(load_dataset("math500").items) == 500 and len(load_dataset("gsm8k").items) == 1319


def test_intervals_against_hand_calculations():
    # Wilson, 8 of 20, z = 1.96: centre (0.4 + 0.0960)/1.1921 = 0.4161, half 0.1973 -> [21.9, 61.3] %
    lo, hi = wilson_interval(8, 20)
    assert lo == pytest.approx(21.88, abs=0.02) and hi == pytest.approx(61.34, abs=0.02)
    # Student t, samples 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.3027 -> 4.3027 / sqrt(3) / 2 = 1.2421
    assert ci_half_width_rel([1, 2, 3]) == pytest.approx(1.2421, abs=1e-4)
