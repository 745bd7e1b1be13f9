import csv
from importlib import resources

from murakkab.catalog import load_catalog


def test_hardware_rows_match_packaged_csv():
    text = resources.files("murakkab.catalog").joinpath("data", "hardware.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    cat = load_catalog()
    assert len(cat.hardware) == len(rows) == 6
    # Unknown stays unknown: B200 idle power is empty in the source sheet.
    assert cat.hardware["B200-180GB"].idle_w is None
    assert cat.hardware["A100-80GB"].idle_w == 63


def test_every_executor_resolves_and_every_capability_has_an_executor():
    cat = load_catalog()
    for cap in cat.capabilities:
        assert cat.executors_for(cap), cap
    debate = cat.executors["llm_debate"]
    # 4 rounds of 2 debaters: 4 calls on the critical path, 2 at a time.
    assert debate.calls.count({"debaters": 2, "rounds": 4}) == (4, 2)


def test_weight_memory_is_params_times_bytes():
    cat = load_catalog()
    assert cat.models["qwen3-32b"].memory_gb == 64        # 32 B x 2 bytes (bf16)
    assert cat.models["deepseek-r1-0528"].memory_gb == 671  # fp8: 1 byte per parameter
