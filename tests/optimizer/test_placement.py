"""DAG-aware placement of tool steps (papers.md §1.14.6) on the packaged profiles: video_qa with
Gemma-3-27B on A100, five frames per scene and speech-to-text on, every CPU/GPU placement of Whisper
and OmDet planned by the optimizer, next to its free choice."""

import pytest

from murakkab.errors import MurakkabError
from murakkab.optimizer.placement import placeable_tools, placement_study

SETUP = dict(knobs={"frames": {"frames_per_scene": 5}, "transcript": {"stt": "on"}},
             prefer_models={"answer": ["gemma-3-27b"]}, rate_rps=0.1)
# By hand from profiles/data/tools/tool_profiles.yaml for the 1020 s reference video: scene detection
# 4 + 0.004 x 1020 = 8.08 s, Whisper on CPU 2 + 0.02 x 1020 = 22.4 s. With Whisper on a CPU the
# scenes -> transcript -> answer path alone exceeds 30.48 s before the answer's first token.
WHISPER_CPU_PATH_S = 8.08 + 22.4


def test_the_tools_that_can_be_placed_are_whisper_and_omdet():
    assert placeable_tools("video_qa") == ["transcript", "detections"]


def test_the_free_choice_is_the_least_energy_feasible_placement():
    study = placement_study(slo_s=60.0, **SETUP)
    assert len(study.outcomes) == 4 and all(o.feasible for o in study.outcomes)
    for o in study.outcomes:           # each forced plan runs the tools where it was told to
        for task, kind in o.placement.items():
            assert o.chosen[task].startswith("CPU") == (kind == "cpu")
        assert o.critical_path_s <= 60.0 + 1e-6
    best = study.least_energy_forced()          # exhaustive search over the placements
    assert study.free.feasible and study.free.energy_kwh_per_epoch == pytest.approx(best.energy_kwh_per_epoch)
    # a tool placed on a CPU needs no GPU of its own: forcing both tools off the GPUs never needs more GPUs
    both_cpu = next(o for o in study.outcomes if set(o.placement.values()) == {"cpu"})
    assert both_cpu.total_gpus <= min(o.total_gpus for o in study.outcomes)


def test_a_tight_slo_rules_out_whisper_on_cpu_and_names_the_fastest_path():
    study = placement_study(slo_s=40.0, **SETUP)
    by = {tuple(sorted(o.placement.items())): o for o in study.outcomes}
    gpu_gpu = by[(("detections", "gpu"), ("transcript", "gpu"))]
    assert gpu_gpu.feasible and gpu_gpu.critical_path_s <= 40.0 + 1e-6
    for key, o in by.items():
        if ("transcript", "cpu") in key:
            assert not o.feasible and "the latency SLO <= 40 s binds" in o.reason
            fastest = float(o.reason.split(" takes ")[1].split(" s ")[0])
            assert fastest > WHISPER_CPU_PATH_S
    assert study.free.feasible and study.free.chosen["transcript"] != "CPU-64C"


def test_bad_study_settings_are_refused():
    with pytest.raises(MurakkabError, match="must be > 0"):
        placement_study(slo_s=0)
    with pytest.raises(MurakkabError, match="no tool step"):
        placement_study("reasoning")
