"""Tool profiles, the store's lookups and the `murakkab profiles` command."""

import pytest
from typer.testing import CliRunner

from murakkab.catalog import load_catalog
from murakkab.cli import app
from murakkab.errors import ProfileError
from murakkab.profiles.store import load_profiles
from murakkab.profiles.tools import load_tool_profiles


def test_every_tool_placement_has_an_estimated_profile():
    cat = load_catalog()
    profiles = load_tool_profiles()
    for ex in (e for e in cat.executors.values() if e.kind == "tool"):
        kinds = {cat.hardware[t.hardware].kind for t in profiles if t.tool == ex.name}
        assert kinds == set(ex.placements), ex.name
    assert any(t.tool == "python_interpreter" for t in profiles)
    assert all(t.source.basis == "estimate" and t.source.note for t in profiles)


@pytest.mark.parametrize("yaml_text, msg", [
    ("tools: {ffmpeg: [{hardware: CPU-64C, latency_s: 1, power_w: 10}]}", "unknown tool 'ffmpeg'"),
    ("tools: {whisper_stt: [{hardware: TPU, latency_s: 1, power_w: 10}]}", "unknown hardware 'TPU'"),
    ("tools: {opencv_scene_detector: [{hardware: A100-80GB, latency_s: 1, power_w: 10}]}", "placement 'gpu'"),
    ("tools: {whisper_stt: [{hardware: CPU-64C, latency_s: 0, power_w: 10}]}", "latency_s"),
])
def test_bad_tool_yaml_is_rejected_clearly(yaml_text, msg):
    with pytest.raises(ProfileError, match=msg):
        load_tool_profiles(yaml_text, file="t.yaml")


def test_store_resolves_proxy_and_measured_models():
    store = load_profiles()
    phi = store.for_model("phi-4")
    assert phi.basis == "proxy" and phi.profiled_as == "Qwen/Qwen3-14B" and phi.profiles
    assert all(p.key.model == "Qwen/Qwen3-14B" for p in phi.profiles)
    gemma = store.for_model("gemma-3-27b")
    assert gemma.basis == "measured" and gemma.profiles
    assert {p.key.hardware for p in store.for_model("llama2-70b").profiles} == {"A100-80GB", "H100-80GB-CAP70"}
    with pytest.raises(ProfileError, match="did you mean: gemma-3-27b"):
        store.for_model("gemma-3-72b")


def test_store_workflows():
    store = load_profiles()
    assert {p.workflow for p in store.workflow_profiles} == {"video_qa", "code_gen", "reasoning"}
    assert all(p.workflow == "code_gen" for p in store.for_workflow("code_gen"))
    with pytest.raises(ProfileError, match="video_qa"):
        store.for_workflow("video_q")


def test_cli_prints_operating_points_with_source_rows():
    res = CliRunner().invoke(app, ["profiles", "gemma-3-27b", "--workload", "gpqa"], env={"COLUMNS": "250"})
    # gemma-3-27b has no gpqa rows: an error naming the workloads it has, not an empty listing
    assert res.exit_code == 2
    assert "no profile with workload 'gpqa'" in res.output and "image-chat, lm-arena-chat" in res.output
    res = CliRunner().invoke(app, ["profiles", "phi-4", "--hardware", "B200-180GB", "--workload", "gpqa"],
                             env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "PROXY" in res.output and "Qwen/Qwen3-14B" in res.output
    # row 1 of llm_configs.csv: Qwen3-14B on B200, max_num_seqs 8, median ITL 33.628 ms
    assert "profiles/data/ml_energy_v3/llm_configs.csv:1 " in res.output
    assert "33.63" in res.output


def test_cli_unknown_model_exits_2_with_nearest_names():
    res = CliRunner().invoke(app, ["profiles", "phi4"])
    assert res.exit_code == 2
    assert "unknown model 'phi4'" in res.output and "phi-4" in res.output


def test_cli_hardware_filter_that_matches_nothing_suggests_the_catalogue_names():
    # 'H100' is how people say it; the catalogue says H100-80GB (and gemma-3-27b has no H100-80GB-CAP70 rows)
    res = CliRunner().invoke(app, ["profiles", "gemma-3-27b", "--hardware", "H100"])
    assert res.exit_code == 2
    assert "did you mean H100-80GB?" in res.output
    assert "A100-80GB, B200-180GB, H100-80GB" in res.output and "0 of" not in res.output
