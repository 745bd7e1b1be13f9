"""The packaged workflows: names, shapes and candidates as the task brief and the catalogue define them."""

import pytest

from murakkab.errors import SpecError
from murakkab.spec import builtin_names, load_builtin, parse_spec
from murakkab.spec.load import builtin_text


def test_builtin_names():
    assert builtin_names() == ["code_gen", "reasoning", "video_qa"]


def test_video_qa_shape():
    wf = load_builtin("video_qa")
    assert list(wf.tasks) == ["scenes", "frames", "transcript", "detections", "answer"]
    assert wf.inputs == {"video": "video", "question": "text"} and wf.output == "answer"
    assert wf.predecessors("answer") == ("frames", "transcript", "detections")
    assert wf.successors("scenes") == ("frames", "transcript")
    assert wf.topological_order() == ["scenes", "frames", "transcript", "detections", "answer"]
    # transcript (from scenes) runs beside frames -> detections, so three paths reach the answer.
    assert sorted(wf.paths()) == sorted([("scenes", "frames", "detections", "answer"),
                                         ("scenes", "frames", "answer"),
                                         ("scenes", "transcript", "answer")])
    assert wf.tasks["answer"].bindings["question"].source == "inputs.question"


def test_video_qa_knobs_come_from_executors():
    wf = load_builtin("video_qa")
    [frames] = wf.tasks["frames"].candidates
    assert frames.executor == "opencv_frame_extractor" and frames.knobs == {"frames_per_scene": (1, 5, 10)}
    [stt] = wf.tasks["transcript"].candidates
    assert stt.knobs == {"stt": ("on", "off")}
    [vlm] = wf.tasks["answer"].candidates
    assert vlm.models == ("gemma-3-27b", "llava-onevision-7b", "nvlm-d-72b", "qwen3-omni-30b-a3b",
                          "nemotron-nano-12b-v2-vl")
    # Tools go where they have placements: the scene detector is CPU-only.
    assert wf.tasks["scenes"].candidates[0].hardware == ("CPU-64C",)
    # Model executors may run on any catalogue hardware, GPUs and CPU hosts (a user's llama.cpp box);
    # the optimizer then places a model only where it has a profile (no packaged CPU profile exists).
    assert "H100-80GB" in vlm.hardware and "CPU-64C" in vlm.hardware


def test_code_gen_and_reasoning_shapes():
    cg = load_builtin("code_gen")
    assert list(cg.tasks) == ["debate", "tests", "pick"] and cg.output == "pick"
    assert cg.predecessors("tests") == ("debate",) and cg.predecessors("pick") == ("debate", "tests")
    assert cg.tasks["debate"].candidates[0].knobs == {"debaters": (2, 4), "rounds": (2, 4)}
    rs = load_builtin("reasoning")
    assert list(rs.tasks) == ["solve"] and rs.paths() == [("solve",)]
    assert rs.tasks["solve"].candidates[0].knobs == {"samples": (1, 3, 5, 8, 16)}


def test_critical_path_over_video_qa():
    wf = load_builtin("video_qa")
    lat = {"scenes": 2.0, "frames": 1.0, "transcript": 6.0, "detections": 1.5, "answer": 3.0}
    # scenes+transcript+answer = 11 beats scenes+frames+detections+answer = 7.5
    assert wf.critical_path(lat) == (11.0, ("scenes", "transcript", "answer"))
    with pytest.raises(SpecError, match="no latency given for task"):
        wf.critical_path({"scenes": 1.0})


@pytest.mark.parametrize("name", ["video_qa", "code_gen", "reasoning"])
def test_builtins_round_trip(name):
    wf = load_builtin(name)
    spec, _ = parse_spec(builtin_text(name))
    assert wf.to_spec() == spec
    assert parse_spec(wf.to_yaml())[0] == spec


def test_unknown_builtin_suggests():
    with pytest.raises(SpecError, match="did you mean: video_qa"):
        load_builtin("video-qa")
