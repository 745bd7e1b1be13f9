"""The composite checker, the matcher's single-workflow composition and the shape cache, on the
built-in workflows' interfaces."""

import pytest

from murakkab.catalog import load_catalog
from murakkab.orchestrator.compose import (Component, Composer, CompositionError, check_composite,
                                           decompose_with_matcher, shape_key)
from murakkab.spec import builtin_names, load_builtin

CAT = load_catalog()
WORKFLOWS = {n: Component.of_workflow(n, load_builtin(n)) for n in builtin_names()}
EXECUTORS = {e.name: Component.of_executor(e, CAT.capabilities[e.capability]) for e in CAT.executors.values()}
REGISTRY = {**WORKFLOWS, **EXECUTORS}
VIDEO = {"video": "video"}


def composite(*steps, output="code", why="video then code"):
    return {"steps": [{"name": n, "uses": w, "inputs": [{"port": p, "source": s} for p, s in ins.items()]}
                      for n, w, ins in steps], "output": output, "why": why}


WATCH = ("watch", "video_qa", {"video": "request.video", "question": "request.query"})
CODE = ("code", "code_gen", {"problem": "watch"})


def test_interfaces_of_the_builtins_are_their_typed_inputs_and_output():
    assert REGISTRY["whisper_stt"].inputs == {"scenes": "scenes"} and REGISTRY["whisper_stt"].output_type == "transcript"
    assert REGISTRY["video_qa"].inputs == {"video": "video", "question": "text"}
    assert REGISTRY["video_qa"].output_type == "text" and REGISTRY["code_gen"].output_type == "code"


def test_a_right_composite_is_ordered_by_data_flow():
    c = check_composite(composite(CODE, WATCH), REGISTRY, VIDEO)
    assert [s.name for s in c.steps] == ["watch", "code"] and c.edges == [("watch", "code")]
    assert c.shape()["steps"][1] == {"name": "code", "uses": "code_gen", "kind": "workflow",
                                     "inputs": {"problem": "watch"}, "output_type": "code"}


def test_executors_are_steps_too_and_their_optional_ports_may_stay_unfed():
    assert EXECUTORS["vlm_answer"].optional == ("transcript", "detections")
    c = check_composite(composite(("scenes", "opencv_scene_detector", {"video": "request.video"}),
                                  ("frames", "opencv_frame_extractor", {"scenes": "scenes"}),
                                  ("answer", "vlm_answer", {"question": "request.query", "frames": "frames"}),
                                  output="answer"), REGISTRY, VIDEO)
    assert [(s.uses, s.kind) for s in c.steps] == [("opencv_scene_detector", "executor"),
                                                   ("opencv_frame_extractor", "executor"), ("vlm_answer", "executor")]
    with pytest.raises(CompositionError, match="input.s. frames of executor 'vlm_answer' are not fed"):
        check_composite(composite(("answer", "vlm_answer", {"question": "request.query"}), output="answer"),
                        REGISTRY, {})


@pytest.mark.parametrize("steps,output,data,says", [
    ((("watch", "video_qa", {"video": "request.video", "question": "code"}), CODE), "code", VIDEO,
     "type mismatch on 'question': 'code' gives 'code'"),
    ((("a", "reasoning", {"problem": "b"}), ("b", "reasoning", {"problem": "a"})), "b", {}, "loops: a -> b -> a"),
    ((("watch", "video_qa", {"question": "request.query"}),), "watch", VIDEO, "video of workflow 'video_qa' are not fed"),
    ((("watch", "video_qa", {"video": "request.clip", "question": "request.query"}),), "watch", VIDEO,
     "unknown source 'request.clip'"),
    ((("x", "cooking", {}),), "x", {}, "no registered workflow or executor 'cooking'"),
    ((WATCH, ("solve", "reasoning", {"problem": "request.query"})), "watch", VIDEO, "solve feed nothing"),
    ((WATCH,), "nope", VIDEO, "output names unknown step 'nope'"),
    ((WATCH, ("watch", "reasoning", {"problem": "request.query"})), "watch", VIDEO, "used twice"),
])
def test_bad_composites_are_refused_with_the_reason(steps, output, data, says):
    with pytest.raises(CompositionError) as e:
        check_composite(composite(*steps, output=output), REGISTRY, data)
    assert says in str(e.value) and "fix:" in str(e.value)


def test_matcher_composes_the_one_workflow_the_request_fits():
    d = decompose_with_matcher("what happens in this video?", VIDEO, REGISTRY)
    assert [(s.uses, s.inputs) for s in d.composite.steps] == \
        [("video_qa", {"video": "request.video", "question": "request.query"})]
    # the reasoning workflow and its one executor cover the query alike: a workflow goes first, an
    # executor only when no workflow fits
    d = decompose_with_matcher("solve this math problem: 2 + 3 * 4", {}, REGISTRY)
    assert d.composite.steps[0].uses == "reasoning" and d.how == "matcher" and d.confidence >= 0.3
    d = decompose_with_matcher("solve this math problem: 2 + 3 * 4", {}, EXECUTORS)
    assert d.composite.steps[0].uses == "self_consistency" and d.composite.steps[0].kind == "executor"


def test_matcher_refuses_what_no_workflow_fits_and_names_the_closest():
    with pytest.raises(CompositionError) as e:
        decompose_with_matcher("bake a chocolate cake", {}, REGISTRY)
    assert "under the threshold" in str(e.value) and "closest:" in str(e.value)
    with pytest.raises(CompositionError) as e:       # a video attachment no text-only workflow can take
        decompose_with_matcher("solve this math problem", {"clip": "video", "other": "video"}, REGISTRY)
    assert "no registered workflow or executor can take this request's query and data" in str(e.value)


def test_the_cache_keys_on_shape_not_wording_details():
    a = shape_key("What happens in this video?", VIDEO, REGISTRY)
    assert a == shape_key("what HAPPENS in the video", VIDEO, REGISTRY)        # function words, case
    assert a != shape_key("what happens in this video?", {"clip": "video"}, REGISTRY)   # other data
    assert a != shape_key("who speaks in this video?", VIDEO, REGISTRY)
    composer = Composer()
    first = composer.decompose("what happens in this video?", VIDEO, REGISTRY, "acme")
    again = composer.decompose("What happens in the video", VIDEO, REGISTRY, "acme")
    other_tenant = composer.decompose("what happens in this video?", VIDEO, REGISTRY, "beta")
    assert first.how == "matcher" and again.how == "cache (first decomposed by matcher)"
    assert again.composite == first.composite and other_tenant.how == "matcher"
    assert (composer.hits, composer.misses) == (1, 2)


def test_bad_requests_are_refused_before_decomposing():
    composer = Composer()
    with pytest.raises(CompositionError, match="no query"):
        composer.decompose("  ", {}, REGISTRY)
    with pytest.raises(CompositionError, match="attachment name 'query'"):
        composer.decompose("x", {"query": "text"}, REGISTRY)
    with pytest.raises(CompositionError, match="no registered workflow can serve"):
        composer.decompose("x", {}, {})
