"""Published v1 figures against the default estimate, and the comparison arithmetic.

Expected values are the paper's published figures (arXiv 2509.20241 v1), not this code's output."""

import pytest

from murakkab.energy.estimate import Summary, estimate
from murakkab.energy.fleet import fleet
from murakkab.energy.params import make_params
from murakkab.energy.reference import PAPER_V1, compare, paper_setting_differences


@pytest.fixture(scope="module")
def default_run():
    e = estimate(make_params({}))
    return {c.figure.key: c for c in compare(e, fleet(1e9, e.baseline.mean, e.long.mean, 0.10))}


GAPS = {
    "chat_p25": "exponential lengths with flat TPS put p25 at 0.415× the median; the paper's is 0.53×",
    "long_median": "flat TPS: energy grows with tokens; the paper's TensorRT-LLM TPS rises with length",
    "energy_ratio": "flat TPS: energy ratio = token ratio 16.7×; the paper's rising TPS gives 13×",
    "fleet": "paper's fleet/median = 2.35, beyond the 1.5 the stated distributions give with flat TPS",
    "fleet_long": "same mean/median gap as the fleet figure, plus the 5,000-token difference",
}


@pytest.mark.parametrize("key", [
    pytest.param(f.key, marks=pytest.mark.xfail(strict=True, reason=f"known gap: {GAPS[f.key]}"))
    if f.key in GAPS else f.key for f in PAPER_V1])
def test_default_reproduces_published_figure_within_20_percent(default_run, key):
    c = default_run[key]
    assert c.ours == pytest.approx(c.figure.paper, rel=0.20)


def test_comparison_arithmetic():
    s = Summary(median=0.5, p25=0.2, p75=1.0, mean=0.8, p5=0.1, p95=2.0)
    e = estimate(make_params({"draws": 10}))
    e = type(e)(e.params, s, s.scaled(10), e.baseline_draws, e.long_draws, e.fit)
    rows = {c.figure.key: c for c in compare(e, fleet(1e9, 0.8, 8.0, 0.10))}
    assert rows["chat_median"].rel_diff == pytest.approx((0.5 - 0.34) / 0.34)
    assert rows["energy_ratio"].ours == pytest.approx(10.0)
    assert rows["fleet"].ours == pytest.approx(0.8) and rows["fleet"].within_tolerance
    assert rows["fleet_long"].ours == pytest.approx(0.9 * 0.8 + 0.1 * 8.0)
    assert not rows["chat_median"].within_tolerance


def test_setting_differences_named():
    assert paper_setting_differences(make_params({})) == []
    diffs = paper_setting_differences(make_params({"long_share": 0.2, "node_max_kw": 10.2}))
    assert any(d.startswith("long_share=0.2") for d in diffs) and any("node_max_kw" in d for d in diffs)
    # the throughput choice is what is being compared, not a change of setting
    assert paper_setting_differences(make_params({"throughput_family": "pooled"})) == []
