"""Integration with a real OpenAI-compatible server on the CPU: llama-cpp-python's server, started on
loopback by the test, serving a tiny random-weight GGUF model the test writes (nothing downloaded).
Streaming, token usage and cancellation through the runtime's OpenAI-compatible backend, then the
reasoning workflow end to end through murakkab's own /v1/chat/completions."""

import asyncio

import httpx
import pytest

pytest.importorskip("gguf", reason="LOUD SKIP: gguf is not installed; it is in the test extra (pip install gguf)")
pytest.importorskip("llama_cpp.server", reason="LOUD SKIP: llama-cpp-python[server] is not installed; it is in "
                                               "the test extra and builds from source in ~7 min")

from murakkab.runtime.backends import parse_backends  # noqa: E402
from murakkab.runtime.calls import CallRequest  # noqa: E402
from murakkab.runtime.cluster import RuntimeCluster  # noqa: E402
from tests.runtime import worlds  # noqa: E402
from tests.runtime.tiny_gguf import tiny_llama_server  # noqa: E402

MSG = [{"role": "user", "content": "what is two plus two?"}]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    with tiny_llama_server(tmp_path_factory.mktemp("llama")) as base:
        yield base


def _cluster(base):
    cfg = parse_backends(f"defaults: {{read_timeout_s: 30, retries: 1}}\n"
                         f"models:\n  qwen3-8b:\n    - {{base_url: '{base}', served_model: tiny}}\n")
    return RuntimeCluster(worlds.hand_plan(), cfg)


def test_streaming_delivers_every_token_and_counts_them(llama):
    cluster = _cluster(llama)
    deltas = []

    async def go():
        try:
            return await cluster.call("m", CallRequest(call_id="s", messages=MSG, max_tokens=8,
                                                       on_token=deltas.append))
        finally:
            await cluster.aclose()

    out = asyncio.run(go())
    assert 1 <= out.tokens_out <= 9           # chunk count when the stream carries no usage, +-1
    assert "".join(deltas) == out.text and len(deltas) <= out.tokens_out
    assert out.energy_basis == "modelled" and out.energy_wh > 0 and not out.simulated
    # the server's non-streamed usage for the same budget: llama-cpp-python 0.3 reports one more
    # completion token than it streams when it stops on the length limit, so bound it, not equal it
    r = httpx.post(f"{llama}/chat/completions", json={"model": "tiny", "messages": MSG, "max_tokens": 8}, timeout=30)
    usage = r.json()["usage"]
    assert 1 <= usage["completion_tokens"] <= 9 and usage["prompt_tokens"] > 0


def test_cancelling_a_stream_stops_the_call_and_frees_the_instance(llama):
    cluster = _cluster(llama)
    inst = cluster.pools["m"].instances[0]
    first = asyncio.Event()

    async def go():
        task = asyncio.create_task(cluster.call("m", CallRequest(call_id="long", messages=MSG, max_tokens=1900,
                                                                 on_token=lambda _: first.set())))
        await asyncio.wait_for(first.wait(), 30)
        assert inst.load == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert inst.load == 0
        after = await cluster.call("m", CallRequest(call_id="next", messages=MSG, max_tokens=4))
        await cluster.aclose()
        return after

    after = asyncio.run(go())
    # no usage in llama-cpp-python's stream: tokens are counted as chunks (see openai_backend), +-1
    assert 1 <= after.tokens_out <= 5


def test_reasoning_workflow_through_murakkab_chat_completions(llama, tmp_path):
    from fastapi.testclient import TestClient

    from murakkab.runtime.service import RuntimeConfig
    from murakkab.server.app import ServerConfig, create_app
    cfg = ServerConfig(auth=False, runtime=RuntimeConfig(
        db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(samples=3), max_tokens=6,
        backends=parse_backends(f"models:\n  qwen3-8b:\n    - {{base_url: '{llama}', served_model: tiny}}\n")))
    with TestClient(create_app(cfg)) as c:
        # greedy decoding: the random model's output is then the same on every run
        r = c.post("/v1/chat/completions", json={"model": "reasoning:accuracy:good", "messages": MSG,
                                                 "temperature": 0})
        assert r.status_code == 200, r.text
        body = r.json()
        job = c.get(f"/v1/jobs/{body['murakkab']['request_id']}").json()
    step = job["result"]["steps"][0]
    assert step["calls"] == 3 and not step["simulated"] and step["pools"] == ["m"]
    assert body["usage"]["completion_tokens"] == step["tokens_out"] and 3 <= step["tokens_out"] <= 21
    assert body["choices"][0]["message"]["content"] == job["result"]["output"]["answer"]
    assert sum(job["result"]["output"]["votes"].values()) == 3


def test_chat_workflow_streams_llamacpp_tokens_through_murakkab(llama, tmp_path):
    """An uploaded one-call chat workflow: murakkab forwards llama.cpp's streamed tokens as OpenAI chunks."""
    import json

    from fastapi.testclient import TestClient

    from murakkab.runtime.service import RuntimeConfig
    from murakkab.server.app import ServerConfig, create_app
    cfg = ServerConfig(auth=False, runtime=RuntimeConfig(
        db_path=str(tmp_path / "j.db"), plan=worlds.chat_plan(), max_tokens=12,
        backends=parse_backends(f"models:\n  qwen3-8b:\n    - {{base_url: '{llama}', served_model: tiny}}\n")))
    with TestClient(create_app(cfg)) as c:
        assert c.post("/v1/workflows", json={"spec": worlds.CHAT_SPEC}).status_code == 201
        with c.stream("POST", "/v1/chat/completions", json={"model": "chat_bot:accuracy:good", "stream": True,
                                                             "messages": MSG}) as r:
            assert r.status_code == 200
            lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
        job = c.get(f"/v1/jobs/{r.headers['x-request-id']}").json()
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(ln[6:]) for ln in lines[:-1]]
    deltas = [e["choices"][0]["delta"]["content"] for e in events[1:] if e["choices"][0]["delta"].get("content")]
    step = job["result"]["steps"][0]
    assert not step["simulated"] and step["pools"] == ["m"]
    assert len(deltas) >= 2 and "".join(deltas) == job["result"]["output"]
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["usage"]["completion_tokens"] == step["tokens_out"] and 1 <= step["tokens_out"] <= 13


def test_chat_max_tokens_reaches_llamacpp(llama, tmp_path):
    """A chat request's max_tokens caps what llama.cpp generates (no server-wide cap here)."""
    from fastapi.testclient import TestClient

    from murakkab.runtime.service import RuntimeConfig
    from murakkab.server.app import ServerConfig, create_app
    cfg = ServerConfig(auth=False, runtime=RuntimeConfig(
        db_path=str(tmp_path / "j.db"), plan=worlds.chat_plan(),
        backends=parse_backends(f"models:\n  qwen3-8b:\n    - {{base_url: '{llama}', served_model: tiny}}\n")))
    with TestClient(create_app(cfg)) as c:
        assert c.post("/v1/workflows", json={"spec": worlds.CHAT_SPEC}).status_code == 201
        r = c.post("/v1/chat/completions", json={"model": "chat_bot:accuracy:good", "messages": MSG,
                                                 "max_tokens": 3, "temperature": 0.0})
    assert r.status_code == 200, r.text
    # llama-cpp-python sends no usage in streams: tokens are counted as chunks, +-1 (see openai_backend)
    assert 1 <= r.json()["usage"]["completion_tokens"] <= 4
