"""Chat `max_tokens` and `temperature` reach the output step's model calls: the simulated backend caps its
draw, a real backend receives both (the smaller of the request's and the server's cap), and they are
journalled with the request so a restart keeps them."""

import pytest
from fastapi.testclient import TestClient

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.service import RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds
from tests.runtime.faulty_server import FaultyServer

MSG = [{"role": "user", "content": "2+2?"}]


def test_max_tokens_caps_every_output_call_on_the_simulated_backend(server):
    h = server.hdr("acme")
    # hand plan: reasoning = 3 self-consistency calls of exactly 100 tokens (p50 = p90 = 100)
    r = server.post("/v1/chat/completions", headers=h, json={"model": "reasoning:accuracy:good", "messages": MSG,
                                                             "max_tokens": 3, "temperature": 0.5})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] == 3 * 3
    rid = r.json()["murakkab"]["request_id"]
    row = server.app.state.runtime.journal.request(rid)
    assert row.options == {"max_tokens": 3, "temperature": 0.5}
    with server.stream("POST", "/v1/chat/completions", headers=h,
                       json={"model": "reasoning:accuracy:good", "messages": MSG, "stream": True, "max_tokens": 2}) as s:
        last = [ln for ln in s.iter_lines() if ln.startswith("data: {")][-1]
    assert '"completion_tokens": 6' in last
    plain = server.post("/v1/chat/completions", headers=h, json={"model": "reasoning:accuracy:good", "messages": MSG})
    assert plain.json()["usage"]["completion_tokens"] == 300


@pytest.mark.parametrize("bad", [{"max_tokens": 0}, {"temperature": -1}, {"temperature": 3}])
def test_out_of_range_options_are_refused(server, bad):
    r = server.post("/v1/chat/completions", headers=server.hdr("acme"),
                    json={"model": "reasoning:accuracy:good", "messages": MSG, **bad})
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request"


def test_a_real_backend_receives_max_tokens_and_temperature(tmp_path):
    with FaultyServer("ok") as backend:
        cfg = ServerConfig(auth=False, runtime=RuntimeConfig(
            db_path=str(tmp_path / "j.db"), plan=worlds.chat_plan(), max_tokens=4,
            backends=parse_backends(f"models:\n  qwen3-8b:\n    - {{base_url: '{backend.base_url}'}}\n")))
        with TestClient(create_app(cfg)) as c:
            assert c.post("/v1/workflows", json={"spec": worlds.CHAT_SPEC}).status_code == 201
            for body in ({"max_tokens": 9, "temperature": 0.2}, {"max_tokens": 2}, {}):
                r = c.post("/v1/chat/completions", json={"model": "chat_bot:accuracy:good", "messages": MSG, **body})
                assert r.status_code == 200, r.text
    sent = [(b.get("max_tokens"), b.get("temperature")) for b in backend.bodies]
    assert sent == [(4, 0.2), (2, None), (4, None)]         # the smaller of the request's and the server's cap
