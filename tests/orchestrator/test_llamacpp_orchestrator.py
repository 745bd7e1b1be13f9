"""The orchestrator's request format against a real llama.cpp server (llama-cpp-python, on
loopback, serving the tiny random-weight GGUF model the test writes). The server turns the forced
function call's schema, or a json_object response format's schema, into a grammar, so even random
weights return JSON of the asked shape; whether it binds the steps sensibly is up to the weights,
and the type checker must accept or reject it cleanly. Nothing is scripted here."""

import pytest

from murakkab.orchestrator.backend import BackendConfig, ChatBackend
from murakkab.orchestrator.loop import Rejected
from murakkab.orchestrator.resolve import answer_schema, compile_spec, question, SYSTEM
from murakkab.orchestrator.library import library_text
from murakkab.catalog import load_catalog
from murakkab.spec import parse_spec
from tests.orchestrator.test_resolve import sentences
from tests.runtime.tiny_gguf import tiny_llama_server

pytest.importorskip("gguf", reason="LOUD SKIP: gguf is not installed; it is in the test extra (pip install gguf)")
pytest.importorskip("llama_cpp.server", reason="LOUD SKIP: llama-cpp-python[server] is not installed; it is in "
                                               "the test extra and builds from source in ~7 min")


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    # the prompt lists the whole executor library; the tiny model's vocabulary spells most text
    # byte by byte, so it needs a longer context than the runtime tests' 2048 tokens
    with tiny_llama_server(tmp_path_factory.mktemp("llama"), n_ctx=16384) as base:
        yield base


@pytest.mark.parametrize("mode", ["tools", "json_object"])
def test_grammar_constrained_answer_has_the_schema_shape(llama, mode):
    spec, _ = parse_spec(sentences("code_gen"))
    cat = load_catalog()
    b = ChatBackend(BackendConfig(base_url=llama, model="tiny", mode=mode, max_tokens=800, timeout_s=120))
    try:
        reply = b.ask([{"role": "system", "content": SYSTEM.format(library=library_text(cat))},
                       {"role": "user", "content": question(spec, cat)}], "bind_steps", "bind", answer_schema(spec, cat))
    finally:
        b.close()
    # the grammar admits only the schema's shape, with bounded arrays, so even random weights give
    # parseable JSON naming known steps and executors (whether they fit is the type checker's call)
    assert reply.problem is None, reply.raw
    assert set(reply.data) == {"steps"} and len(reply.data["steps"]) == 3
    for step in reply.data["steps"]:
        assert step["task"] in {"debate", "tests", "pick"} and step["executor"] in cat.executors
        assert 1 <= len(step["inputs"]) <= 4


def test_random_weights_are_accepted_only_if_they_type_check(llama):
    spec, _ = parse_spec(sentences("code_gen"))
    b = ChatBackend(BackendConfig(base_url=llama, model="tiny", max_tokens=800, timeout_s=120))
    try:
        compiled = compile_spec(spec, backend=b, tries=2)
    except Rejected as exc:                # the expected outcome for random weights: a clean refusal
        assert len(exc.rejected) == 2 and "closest" in str(exc)
    else:                                  # a lucky draw must still be a fully type-checked workflow
        assert set(compiled.workflow.tasks) == {"debate", "tests", "pick"}
    finally:
        b.close()


def test_request_decomposition_against_the_real_server_type_checks_or_is_refused_cleanly(llama):
    from murakkab.orchestrator.compose import Component, decompose_with_llm
    from murakkab.spec import builtin_names, load_builtin
    registry = {n: Component.of_workflow(n, load_builtin(n)) for n in builtin_names()}
    b = ChatBackend(BackendConfig(base_url=llama, model="tiny", max_tokens=600, timeout_s=120))
    try:
        got = decompose_with_llm("verify a student's coding solution from a video", {"video": "video"}, registry,
                                 b, tries=2)
    except Rejected as exc:
        assert len(exc.rejected) == 2 and "closest:" in str(exc)
    else:
        assert got.composite.steps and all(s.uses in registry for s in got.composite.steps)
    finally:
        b.close()
