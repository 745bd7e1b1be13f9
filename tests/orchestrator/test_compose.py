"""The composite checker, the matcher's single-workflow composition and the shape cache, on the
built-in workflows' interfaces."""

import pytest

from murakkab.orchestrator.compose import (Composer, CompositionError, WorkflowInterface, check_composite,
                                           decompose_with_matcher, shape_key)
from murakkab.spec import builtin_names, load_builtin

REGISTRY = {n: WorkflowInterface.of(n, load_builtin(n)) for n in builtin_names()}
VIDEO = {"video": "video"}


def composite(*steps, output="code", why="video then code"):
    return {"steps": [{"name": n, "workflow": w, "inputs": [{"port": p, "source": s} for p, s in ins.items()]}
                      for n, w, ins in steps], "output": output, "why": why}


WATCH = ("watch", "video_qa", {"video": "request.video", "question": "request.query"})
CODE = ("code", "code_gen", {"problem": "watch"})


def test_interfaces_of_the_builtins_are_their_typed_inputs_and_output():
    assert REGISTRY["video_qa"].inputs == {"video": "video", "question": "text"}
    assert REGISTRY["video_qa"].output_type == "text" and REGISTRY["code_gen"].output_type == "code"


def test_a_right_composite_is_ordered_by_data_flow():
    c = check_composite(composite(CODE, WATCH), REGISTRY, VIDEO)
    assert [s.name for s in c.steps] == ["watch", "code"] and c.edges == [("watch", "code")]
    assert c.shape()["steps"][1] == {"name": "code", "workflow": "code_gen", "inputs": {"problem": "watch"},
                                     "output_type": "code"}


@pytest.mark.parametrize("steps,output,data,says", [
    ((("watch", "video_qa", {"video": "request.video", "question": "code"}), CODE), "code", VIDEO,
     "type mismatch on 'question': 'code' gives 'code'"),
    ((("a", "reasoning", {"problem": "b"}), ("b", "reasoning", {"problem": "a"})), "b", {}, "loops: a -> b -> a"),
    ((("watch", "video_qa", {"question": "request.query"}),), "watch", VIDEO, "video of workflow 'video_qa' are not fed"),
    ((("watch", "video_qa", {"video": "request.clip", "question": "request.query"}),), "watch", VIDEO,
     "unknown source 'request.clip'"),
    ((("x", "cooking", {}),), "x", {}, "no registered workflow 'cooking'"),
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
    assert [(s.workflow, s.inputs) for s in d.composite.steps] == \
        [("video_qa", {"video": "request.video", "question": "request.query"})]
    d = decompose_with_matcher("solve this math problem: 2 + 3 * 4", {}, REGISTRY)
    assert d.composite.steps[0].workflow == "reasoning" and d.how == "matcher" and d.confidence >= 0.3


def test_matcher_refuses_what_no_workflow_fits_and_names_the_closest():
    with pytest.raises(CompositionError) as e:
        decompose_with_matcher("bake a chocolate cake", {}, REGISTRY)
    assert "under the threshold" in str(e.value) and "closest workflows" in str(e.value)
    with pytest.raises(CompositionError) as e:       # a video attachment no text-only workflow can take
        decompose_with_matcher("solve this math problem", {"clip": "video", "other": "video"}, REGISTRY)
    assert "no registered workflow can take this request's data" in str(e.value)


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
