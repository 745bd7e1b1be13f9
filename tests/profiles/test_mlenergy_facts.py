"""ML.ENERGY model facts (parameter counts per model id): checked against the CSV itself."""

import csv
from importlib import resources

import pytest

from murakkab.errors import ProfileError
from murakkab.profiles.mlenergy import load_mlenergy, model_facts


def _csv_rows():
    text = resources.files("murakkab.profiles").joinpath("data", "ml_energy_v3", "llm_configs.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def test_every_row_states_its_model_facts():
    facts = model_facts()
    rows = _csv_rows()
    assert set(facts) == {r["model_id"] for r in rows}
    for r in rows:
        f = facts[r["model_id"]]
        assert f.total_params_b == float(r["total_params_billions"])
        assert f.active_params_b == float(r["activated_params_billions"])
    # the source is the first row naming the model, and a profile exists for every id
    first = next(i for i, r in enumerate(rows, start=1) if r["model_id"] == "meta-llama/Llama-3.1-405B-Instruct")
    assert facts["meta-llama/Llama-3.1-405B-Instruct"].source.row == first
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
