"""ML.ENERGY model facts (parameter counts per model id): checked against the model publishers' own
figures and the counts the model names state, not against the CSV they are read from."""

import re

import pytest

from murakkab.errors import ProfileError
from murakkab.profiles.mlenergy import load_mlenergy, model_facts

# (total, activated) billions as the publishers state them: DeepSeek-V3 technical report (671B / 37B,
# shared by R1 and V3.1), Meta's Llama 4 release (Maverick 400B / 17B, Scout 109B / 17B), OpenAI's
# gpt-oss model card (117B / 5.1B and 21B / 3.6B), Meta's Llama 3.1 release (dense 405B, 70B, 8B).
PUBLISHED = {
    "deepseek-ai/DeepSeek-R1-0528": (671, 37), "deepseek-ai/DeepSeek-V3.1": (671, 37),
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8": (400, 17), "meta-llama/Llama-4-Scout-17B-16E-Instruct": (109, 17),
    "openai/gpt-oss-120b": (117, 5.1), "openai/gpt-oss-20b": (21, 3.6),
    "meta-llama/Llama-3.1-405B-Instruct": (405, 405), "meta-llama/Llama-3.1-70B-Instruct": (70, 70),
    "meta-llama/Llama-3.1-8B-Instruct": (8, 8),
}


def test_facts_agree_with_the_publishers_figures():
    facts = model_facts()
    for model, (total, active) in PUBLISHED.items():
        f = facts[model]
        # the dataset rounds to whole billions (gpt-oss-20b's 3.6B active is listed as 4)
        assert abs(f.total_params_b - total) <= 0.5 and abs(f.active_params_b - active) <= 0.5, model


def test_facts_agree_with_the_counts_in_qwen_model_names():
    # Qwen names state the total and, for mixture-of-experts models, the activated billions: 235B-A22B
    checked = 0
    for model, f in model_facts().items():
        m = re.search(r"Qwen3(?:-Coder|-VL|-Omni)?-(\d+)B(?:-A(\d+)B)?", model)
        if not m:
            continue
        total = float(m.group(1))
        active = float(m.group(2)) if m.group(2) else total
        assert (f.total_params_b, f.active_params_b) == (total, active), model
        checked += 1
    assert checked >= 15


def test_every_fact_names_its_row_and_has_profiles():
    facts = model_facts()
    assert all(f.source.row >= 1 and "llm_configs.csv" in f.source.file for f in facts.values())
    assert {p.key.model for p in load_mlenergy(repeats="mean")} == set(facts)


HEADER = "model_id,total_params_billions,activated_params_billions"


@pytest.mark.parametrize("lines, match", [
    (["m/a,10,2", "m/a,12,2"], r"facts.csv row 2: m/a has 12B total / 2B activated .* row 1 says 10B / 2B"),
    (["m/a,10,20"], r"facts.csv row 1: activated_params_billions 20 exceeds total_params_billions 10"),
    (["m/a,ten,2"], r"facts.csv row 1: column 'total_params_billions' is not a number"),
    (["m/a,10,0"], r"facts.csv row 1: column 'activated_params_billions' is 0, must be > 0"),
])
def test_bad_facts_rejected_naming_file_and_row(tmp_path, lines, match):
    f = tmp_path / "facts.csv"
    f.write_text("\n".join([HEADER, *lines]) + "\n")
    with pytest.raises(ProfileError, match=match):
        model_facts(f)


def test_missing_fact_column_rejected(tmp_path):
    f = tmp_path / "facts.csv"
    f.write_text("model_id,total_params_billions\nm/a,10\n")
    with pytest.raises(ProfileError, match="missing column.*activated_params_billions"):
        model_facts(f)
