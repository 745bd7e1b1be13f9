"""The OpenAI-compatible surface as common clients use it: the `openai` client and LangChain's ChatOpenAI
list models, send content-part messages, and get the model's text unchanged; a backend's 400 comes
back as a 4xx."""

import httpx
import openai
import pytest

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.journal import Journal
from murakkab.runtime.service import RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds
from tests.runtime.faulty_server import FaultyServer
from tests.server.live import InThread

REPLY = "The answer is 391."


@pytest.fixture
def live(tmp_path):
    """A real murakkab server whose model pool is a backend answering REPLY, with tenants acme (whose
    chat_bot upload the plan routes) and beta."""
    db = str(tmp_path / "j.db")
    j = Journal(db)
    keys = {t: j.add_tenant(t) for t in ("acme", "beta")}
    j.close()
    plan = worlds.chat_plan()
    plan = plan.model_copy(update={"routes": [r.model_copy(update={"workflow": "acme/chat_bot"})
                                              if r.workflow == "default/chat_bot" else r for r in plan.routes]})
    with FaultyServer("ok", reply=REPLY) as backend:
        cfg = ServerConfig(runtime=RuntimeConfig(db_path=db, plan=plan, backends=parse_backends(
            f"models:\n  qwen3-8b:\n    - {{base_url: '{backend.base_url}'}}\n")))
        with InThread(create_app(cfg)) as base:
            client = openai.OpenAI(base_url=f"{base}/v1", api_key=keys["acme"], max_retries=0)
            up = httpx.post(f"{base}/v1/workflows", json={"spec": worlds.CHAT_SPEC},
                            headers={"Authorization": f"Bearer {keys['acme']}"})
            assert up.status_code == 201, up.text
            yield base, keys, client


def test_models_are_the_routes_a_key_may_call(live):
    base, keys, client = live
    ids = [m.id for m in client.models.list()]
    # reasoning (one text input) and acme's chat_bot are chat-shaped; video_qa (video + question) is not
    assert ids == ["chat_bot:accuracy:good", "reasoning:accuracy:good"]
    assert client.models.retrieve("chat_bot:accuracy:good").owned_by == "murakkab"
    other = openai.OpenAI(base_url=f"{base}/v1", api_key=keys["beta"], max_retries=0)
    assert [m.id for m in other.models.list()] == ["reasoning:accuracy:good"]       # not acme's upload
    with pytest.raises(openai.NotFoundError):
        other.models.retrieve("chat_bot:accuracy:good")


def test_the_models_text_comes_back_unchanged(live):
    _, _, client = live
    for model in ("chat_bot:accuracy:good", "reasoning:accuracy:good"):      # one call; a 3-chain vote
        out = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "17 * 23?"}])
        assert out.choices[0].message.content == REPLY
        streamed = client.chat.completions.create(model=model, stream=True,
                                                  messages=[{"role": "user", "content": "17 * 23?"}])
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == REPLY


def test_content_part_messages_are_accepted(live):
    _, _, client = live
    out = client.chat.completions.create(model="chat_bot:accuracy:good", messages=[
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "text", "text": "17 * 23"}, {"type": "text", "text": "= ?"}]}])
    assert out.choices[0].message.content == REPLY
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="chat_bot:accuracy:good", messages=[
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}])
    assert "image_url" in str(err.value)


def test_langchain_chat_openai(live):
    import langchain_openai
    base, keys, _ = live
    llm = langchain_openai.ChatOpenAI(model="chat_bot:accuracy:good", base_url=f"{base}/v1", api_key=keys["acme"],
                                      max_retries=0)
    assert llm.invoke("17 * 23?").content == REPLY
    assert "".join(c.content for c in llm.stream("17 * 23?")) == REPLY


def test_a_backend_400_is_a_client_error(tmp_path):
    with FaultyServer("400") as backend:
        cfg = ServerConfig(auth=False, runtime=RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=worlds.chat_plan(),
                                                             backends=parse_backends(
            f"models:\n  qwen3-8b:\n    - {{base_url: '{backend.base_url}'}}\n")))
        with InThread(create_app(cfg)) as base:
            client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
            with pytest.raises(openai.BadRequestError):
                client.chat.completions.create(model="reasoning:accuracy:good",
                                               messages=[{"role": "user", "content": "hi"}])
