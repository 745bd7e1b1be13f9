"""Workflow profiles and the majority-vote model."""

import csv
from importlib import resources

import pytest

from murakkab.profiles.majority import majority_accuracy
from murakkab.profiles.workflow import code_profiles, reasoning_profiles, video_profiles


def _get(profiles, **knobs):
    model = knobs.pop("model")
    (p,) = [p for p in profiles if p.knobs == knobs and model in p.models.values()]
    return p


def test_video_known_value_from_the_csv():
    p = _get(video_profiles(), model="gemma-3-27b", frames_per_scene=10, stt="on")
    assert p.accuracy_percent == pytest.approx(66.49)
    assert p.accuracy_source.basis == "measured" and p.accuracy_source.row == 6
    tok = p.tokens["answer"]
    assert (tok.output_p50, tok.output_p90) == (678, 788)
    assert tok.output_p99 == pytest.approx(2 * 678)       # paper tail ratio 1200/600
    assert tok.source.basis == "derived"


def test_video_p99_never_below_p90():
    for p in video_profiles():
        t = p.tokens["answer"]
        assert t.output_p50 <= t.output_p90 <= t.output_p99


def test_video_derived_models_follow_the_written_model():
    ps = video_profiles()
    # Qwen3-Omni Video-MME 70.5 plays the role of (10 frames, STT off): ratio 1 there
    ref = _get(ps, model="qwen3-omni-30b-a3b", frames_per_scene=10, stt="off")
    assert ref.accuracy_percent == pytest.approx(70.5)
    on = _get(ps, model="qwen3-omni-30b-a3b", frames_per_scene=10, stt="on")
    ratio = (66.49 / 61.37 + 57.20 / 51.25 + 62.56 / 52.68) / 3   # by hand from video_qa_configs.csv
    assert on.accuracy_percent == pytest.approx(70.5 * ratio)
    assert on.accuracy_source.basis == "derived" and "x" in on.accuracy_source.note
    assert {p.models["answer"] for p in ps} == {"gemma-3-27b", "llava-onevision-7b", "nvlm-d-72b",
                                                "qwen3-omni-30b-a3b", "nemotron-nano-12b-v2-vl"}
    assert len(ps) == 5 * 6


def test_code_tokens_split_over_calls_and_unknown_rows_left_out():
    ps = code_profiles()
    p = _get(ps, model="deepseek-r1-distill-qwen-32b", debaters=4, rounds=4)
    assert p.accuracy_percent == pytest.approx(91.61)
    assert p.tokens["debate"].output_p50 == pytest.approx(20854 / (4 * 4 + 2))
    assert set(p.tokens) == {"debate", "tests", "pick"}
    nv = _get(ps, model="nvlm-d-72b", debaters=2, rounds=2)      # tokens from Gemma at the same knobs
    assert nv.tokens["debate"].output_p50 == pytest.approx(1248 / 6)
    assert "gemma-3-27b" in nv.tokens["debate"].source.note
    assert not any("deepseek-llama" in m for p in ps for m in p.models.values())
    assert len(ps) == 16


def _gpqa_row(model_id):
    text = resources.files("murakkab.profiles").joinpath("data", "model_accuracy", "model_accuracy.csv").read_text()
    return [r for r in csv.DictReader(text.splitlines()) if r["model_id"] == model_id]


def test_reasoning_single_sample_equals_published_score_and_vote_is_monotone():
    ps = reasoning_profiles()
    qwen8 = [p for p in ps if p.models["solve"] == "qwen3-8b"]
    thinking = [r for r in _gpqa_row("Qwen/Qwen3-8B") if r["benchmark"] == "GPQA-Diamond"
                and r["setting"].startswith("thinking")]
    assert qwen8[0].knobs == {"samples": 1}
    assert qwen8[0].accuracy_percent == pytest.approx(float(thinking[0]["score_percent"]))  # 62.0
    models = {p.models["solve"] for p in ps}
    assert len(models) == 8
    for m in models:
        accs = [p.accuracy_percent for p in sorted((p for p in ps if p.models["solve"] == m),
                                                   key=lambda p: p.knobs["samples"])]
        assert all(b >= a for a, b in zip(accs, accs[1:])), m
        assert all(p.accuracy_source.basis == "derived" for p in ps if p.models["solve"] == m and p.knobs["samples"] > 1)


def test_reasoning_tokens_exponential_tail():
    import math
    p = next(p for p in reasoning_profiles() if p.models["solve"] == "deepseek-r1-0528")
    t = p.tokens["solve"]
    assert t.output_p90 / t.output_p50 == pytest.approx(math.log(10) / math.log(2))
    assert t.output_p99 / t.output_p50 == pytest.approx(math.log(100) / math.log(2))


@pytest.mark.parametrize("a", [0.3, 0.5, 0.62, 0.801, 0.95])
def test_majority_equals_base_at_one_and_is_monotone(a):
    accs = [majority_accuracy(a, n) for n in (1, 2, 3, 5, 8, 16)]
    assert accs[0] == pytest.approx(a)
    assert all(b >= a_ - 1e-12 for a_, b in zip(accs, accs[1:]))
    assert accs[-1] < 1.0


def test_majority_closed_form_binary_by_hand():
    # two options, k=1: p ~ Beta(a, 1-a); Beta moments E[p^2] = a(a+1)/2, E[p^3] = a(a+1)(a+2)/6
    a = 0.6
    e2, e3 = a * (a + 1) / 2, a * (a + 1) * (a + 2) / 6
    # N=3: correct majority when >= 2 correct: 3 E[p^2(1-p)] + E[p^3] = 3 e2 - 2 e3
    assert majority_accuracy(a, 3, concentration=1.0, options=2) == pytest.approx(3 * e2 - 2 * e3)
    # N=2 with a fair coin on 1-1 ties: E[p^2] + E[p(1-p)] = E[p] = a
    assert majority_accuracy(a, 2, concentration=1.0, options=2) == pytest.approx(a)


def test_majority_rejects_bad_input():
    with pytest.raises(ValueError):
        majority_accuracy(1.2, 3)
    with pytest.raises(ValueError):
        majority_accuracy(0.5, 0)
