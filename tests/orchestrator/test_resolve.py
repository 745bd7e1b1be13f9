"""Sentence steps (`does:`) resolved by the matcher and by an orchestrator LLM behind a scripted
OpenAI-compatible server (a real HTTP server; see scripted_server.py for why it is scripted)."""

from importlib import resources

import pytest

from murakkab.errors import SpecError
from murakkab.orchestrator.backend import BackendConfig, ChatBackend, OrchestratorUnavailable
from murakkab.orchestrator.loop import Rejected
from murakkab.orchestrator.resolve import compile_spec
from murakkab.spec import load_builtin, parse_spec
from murakkab.spec.load import load_workflow
from tests.orchestrator.scripted_server import ScriptedServer
from tests.server.live import free_port

BUILTINS = ("video_qa", "code_gen", "reasoning")


def sentences(name: str) -> str:
    return resources.files("murakkab.spec.builtin.sentences").joinpath(f"{name}.yaml").read_text()


def backend(url: str, mode: str = "tools") -> ChatBackend:
    return ChatBackend(BackendConfig(base_url=url, model="scripted", mode=mode, timeout_s=10))


# A right answer for the video_qa sentences, as the hand-written video_qa.yaml binds them.
RIGHT = {"steps": [
    {"task": "scenes", "executor": "opencv_scene_detector", "inputs": [{"port": "video", "source": "inputs.video"}]},
    {"task": "frames", "executor": "opencv_frame_extractor", "inputs": [{"port": "scenes", "source": "scenes"}]},
    {"task": "transcript", "executor": "whisper_stt", "inputs": [{"port": "scenes", "source": "scenes"}]},
    {"task": "detections", "executor": "omdet_detector", "inputs": [{"port": "frames", "source": "frames"}]},
    {"task": "answer", "executor": "vlm_answer", "inputs": [
        {"port": "question", "source": "inputs.question"}, {"port": "frames", "source": "frames"},
        {"port": "transcript", "source": "transcript"}, {"port": "detections", "source": "detections"}]}]}


def wrong_types() -> dict:
    """RIGHT with transcript bound to the frame extractor: frames flow where a transcript is expected."""
    steps = [dict(s) for s in RIGHT["steps"]]
    steps[2] = {"task": "transcript", "executor": "opencv_frame_extractor",
                "inputs": [{"port": "scenes", "source": "scenes"}]}
    return {"steps": steps}


@pytest.mark.parametrize("name", BUILTINS)
def test_matcher_resolves_the_builtin_sentences_to_the_hand_written_workflows(name):
    spec, src = parse_spec(sentences(name), f"{name}.yaml")
    compiled = compile_spec(spec, source=src)
    assert compiled.resolver == "matcher"
    assert compiled.workflow == load_builtin(name)        # same capabilities, ports, edges, candidates
    assert all(r.confidence >= 0.3 for r in compiled.resolutions)
    assert all(compiled.workflow.tasks[t].does for t in compiled.workflow.tasks)   # sentences kept for review


def test_written_spec_loads_without_a_resolver_and_keeps_the_sentences():
    spec, src = parse_spec(sentences("video_qa"))
    text = compile_spec(spec, source=src).spec.to_yaml()
    wf = load_workflow(text)
    assert wf == load_builtin("video_qa")
    assert wf.tasks["transcript"].does == "transcribe the scenes' audio"
    assert wf.tasks["transcript"].executor == "whisper_stt" and "reads" not in text


def test_an_unresolved_sentence_is_a_clear_error_when_loaded_directly():
    with pytest.raises(SpecError) as e:
        load_workflow(sentences("reasoning"), "r.yaml")
    assert "not resolved" in str(e.value) and "murakkab compile" in e.value.fix and e.value.line == 8


def test_matcher_refuses_a_sentence_that_matches_nothing_and_names_the_closest():
    text = sentences("reasoning").replace("solve the math problem and return the final answer",
                                          "bake a chocolate cake for the party")
    spec, src = parse_spec(text, "r.yaml")
    with pytest.raises(SpecError) as e:
        compile_spec(spec, source=src)
    assert "no executor matches 'bake a chocolate cake for the party'" in str(e.value)
    assert e.value.task == "solve" and "closest:" in e.value.fix and "self_consistency" in e.value.fix


def test_matcher_refuses_sources_no_capability_takes():
    text = sentences("reasoning").replace("reads: [inputs.problem]", "reads: [inputs.problem, inputs.clip]") \
        .replace("problem: text", "problem: text\n  clip: video")
    spec, src = parse_spec(text)
    with pytest.raises(SpecError) as e:
        compile_spec(spec, source=src)
    assert "does not fit" in e.value.fix


def test_matcher_refuses_sentence_steps_that_read_each_other_in_a_cycle():
    text = sentences("code_gen").replace("reads: [inputs.problem]\n", "reads: [inputs.problem, pick]\n", 1)
    spec, src = parse_spec(text, "c.yaml")
    with pytest.raises(SpecError) as e:
        compile_spec(spec, source=src)
    assert "cycle" in str(e.value) and "debate -> tests -> pick -> debate" in str(e.value)


def test_llm_wrong_then_right_is_regenerated_with_the_type_error():
    spec, src = parse_spec(sentences("video_qa"), "v.yaml")
    with ScriptedServer([wrong_types(), RIGHT]) as srv:
        compiled = compile_spec(spec, source=src, backend=backend(srv.base_url))
    assert compiled.workflow == load_builtin("video_qa")
    assert len(srv.requests) == 2 and len(compiled.rejected) == 1
    assert "type mismatch" in compiled.rejected[0] and "transcript" in compiled.rejected[0]
    # the second question carries the first answer and the checker's error
    second = srv.requests[1]["messages"]
    assert second[-2]["role"] == "assistant" and "opencv_frame_extractor" in second[-2]["content"]
    assert "rejected" in second[-1]["content"] and "type mismatch" in second[-1]["content"]
    # the request: a forced function call whose schema enumerates the library and the steps
    first = srv.requests[0]
    assert first["tool_choice"]["function"]["name"] == first["tools"][0]["function"]["name"]
    params = first["tools"][0]["function"]["parameters"]
    item = params["properties"]["steps"]["items"]["properties"]
    assert set(item["task"]["enum"]) == {"scenes", "frames", "transcript", "detections", "answer"}
    assert "whisper_stt" in item["executor"]["enum"]
    assert "whisper_stt [speech_to_text] (scenes: scenes) -> transcript" in first["messages"][0]["content"]
    assert compiled.resolutions[0].how == "orchestrator LLM, answer 2"


def test_llm_json_schema_mode_sends_a_response_format():
    spec, _ = parse_spec(sentences("video_qa"))
    with ScriptedServer([RIGHT]) as srv:
        compile_spec(spec, backend=backend(srv.base_url, mode="json_schema"))
    body = srv.requests[0]
    assert "tools" not in body and body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["steps"]


def test_llm_that_never_type_checks_is_bounded_and_names_the_closest_executors():
    spec, src = parse_spec(sentences("video_qa"), "v.yaml")
    with ScriptedServer([wrong_types()]) as srv:
        with pytest.raises(Rejected) as e:
            compile_spec(spec, source=src, backend=backend(srv.base_url), tries=3)
    assert len(srv.requests) == 3 and len(e.value.rejected) == 3
    msg = str(e.value)
    assert "in 3 tries" in msg and "task 'answer'" in msg or "task 'transcript'" in msg
    assert "closest" in msg and "whisper_stt" in msg


def test_llm_answers_that_are_not_json_or_change_the_data_flow_are_sent_back():
    spec, _ = parse_spec(sentences("video_qa"))
    flow = {"steps": [dict(s) for s in RIGHT["steps"]]}
    flow["steps"][4] = {"task": "answer", "executor": "vlm_answer", "inputs": [
        {"port": "question", "source": "inputs.question"}, {"port": "frames", "source": "frames"}]}
    with ScriptedServer(["{not json", flow, {"steps": "none"}, RIGHT]) as srv:
        compiled = compile_spec(spec, backend=backend(srv.base_url), tries=4)
    r = compiled.rejected
    assert "not valid JSON" in r[0]
    assert "changes the step's data flow" in r[1] and "transcript" in r[1] and "detections" in r[1]
    assert "required shape" in r[2]
    assert compiled.workflow == load_builtin("video_qa")


def test_unreachable_backend_is_a_clear_error():
    spec, _ = parse_spec(sentences("reasoning"))
    with pytest.raises(OrchestratorUnavailable) as e:
        compile_spec(spec, backend=backend(f"http://127.0.0.1:{free_port()}/v1"))
    assert "unreachable" in str(e.value) and "fix:" in str(e.value)


def test_tries_are_bounded_by_the_caller():
    spec, _ = parse_spec(sentences("reasoning"))
    with pytest.raises(Exception) as e:
        compile_spec(spec, backend=backend("http://127.0.0.1:9/v1"), tries=0)
    assert "tries must be 1..10" in str(e.value)


def test_the_python_builder_writes_sentence_steps_that_compile_like_the_yaml():
    from murakkab.spec import WorkflowBuilder
    wf = WorkflowBuilder("reasoning", inputs={"problem": "text"},
                         description=load_builtin("reasoning").description)
    solve = wf.step("solve", "solve the math problem and return the final answer", wf.input("problem"))
    spec = wf.build(output=solve)
    assert compile_spec(spec).workflow == load_builtin("reasoning")
    assert spec == parse_spec(sentences("reasoning"))[0]
