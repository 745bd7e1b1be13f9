"""Per-query Monte Carlo: closed forms for degenerate distributions, parameter checks, fleet maths."""

import csv
import math
from importlib import resources
from statistics import NormalDist

import pytest

from murakkab.energy.estimate import estimate
from murakkab.energy.fleet import carbon_g, fleet, levers
from murakkab.energy.params import make_params
from murakkab.errors import MurakkabError

FIXED = dict(output_distribution="fixed", power_centre_frac=0.5, power_p5_frac=0.5, power_p95_frac=0.5,
             node_max_kw=10.0, pue_p5=1.2, pue_p95=1.2, throughput_tok_s=1000.0, draws=2000)


def test_fully_degenerate_equals_formula():
    e = estimate(make_params(FIXED))
    # 1.2 × 5 kW × 300 tok / (3.6 × 1000 tok/s) = 0.5 Wh, for every draw
    for v in (e.baseline.median, e.baseline.p25, e.baseline.p75, e.baseline.mean):
        assert v == pytest.approx(0.5)
    # long scenario: 5000 tokens -> 0.5 × 5000/300
    assert e.long.median == pytest.approx(0.5 * 5000 / 300)


def test_prefill_weight_adds_input_tokens():
    e = estimate(make_params({**FIXED, "prefill_weight": 0.5}))
    assert e.baseline.median == pytest.approx(1.2 * 5 * (300 + 0.5 * 500) / 3600)


def test_exponential_output_quantiles_and_mean():
    e = estimate(make_params({**FIXED, "output_distribution": "exponential", "draws": 10_000}))
    c = 1.2 * 5 / 3600   # Wh per token
    m = 300
    # Exp with median m: quartiles m·log2(4/3) and 2m, mean m/ln2
    assert e.baseline.median == pytest.approx(c * m, rel=0.05)
    assert e.baseline.p25 == pytest.approx(c * m * math.log2(4 / 3), rel=0.06)
    assert e.baseline.p75 == pytest.approx(c * 2 * m, rel=0.05)
    assert e.baseline.mean == pytest.approx(c * m / math.log(2), rel=0.03)


def test_lognormal_power_percentiles_and_clip_at_max():
    p = make_params({**FIXED, "power_centre_frac": 0.7, "power_p5_frac": 0.4, "power_p95_frac": 0.9,
                     "draws": 20_000})
    d = estimate(p).baseline_draws
    c = 1.2 * 300 / (3.6 * 1000)       # Wh per kW of node power
    sigma = math.log(0.9 / 0.4) / (2 * 1.6448536)
    assert d.energy_wh.max() == pytest.approx(c * 10.0)               # never above P_max
    import numpy as np
    assert np.median(d.node_kw) == pytest.approx(7.0, rel=0.02)
    assert np.percentile(d.node_kw, 5) == pytest.approx(7.0 * math.exp(-1.6448536 * sigma), rel=0.03)
    above = 1 - NormalDist().cdf(math.log(1 / 0.7) / sigma)           # share of draws clipped
    assert d.power_clipped / p.draws == pytest.approx(above, abs=0.01)


def test_lognormal_pue_median_is_geometric_mean_of_percentiles():
    import numpy as np
    p = make_params({**FIXED, "pue_p5": 1.05, "pue_p95": 1.40, "draws": 20_000})
    d = estimate(p).baseline_draws
    assert np.median(d.pue) == pytest.approx(math.sqrt(1.05 * 1.40), rel=0.01)
    assert np.percentile(d.pue, 95) == pytest.approx(1.40, rel=0.02)
    assert d.pue.min() >= 1.0


def test_seeded_and_reproducible():
    a = estimate(make_params({"seed": 3, "draws": 500}))
    b = estimate(make_params({"seed": 3, "draws": 500}))
    c = estimate(make_params({"seed": 4, "draws": 500}))
    assert a.baseline == b.baseline and a.baseline != c.baseline


@pytest.mark.parametrize("override, field", [
    ({"node_max_kw": -1.0}, "node_max_kw"),
    ({"pue_p5": 0.9}, "pue_p5"),
    ({"throughput_tok_s": 0}, "throughput_tok_s"),
    ({"power_p5_frac": 0.8}, "power_p5_frac <= power_centre_frac"),
    ({"pue_p5": 1.5, "pue_p95": 1.2}, "pue_p5"),
    ({"draws": 0}, "draws"),
    ({"long_share": 1.5}, "long_share"),
    ({"nonsense": 1}, "unknown parameter"),
])
def test_bad_parameters_rejected(override, field):
    with pytest.raises(MurakkabError, match=field):
        make_params(override)


def test_yaml_config_then_overrides(tmp_path):
    cfg = tmp_path / "e.yaml"
    cfg.write_text("pue_p5: 1.1\npue_p95: 1.3\ndraws: 100\n")
    p = make_params({"draws": 50}, config=cfg)
    assert (p.pue_p5, p.pue_p95, p.draws) == (1.1, 1.3, 50)
    cfg.write_text("pue_p5: 0.5\n")
    with pytest.raises(MurakkabError, match=r"e\.yaml.*pue_p5"):
        make_params(config=cfg)
    cfg.write_text("- a\n- b\n")
    with pytest.raises(MurakkabError, match="mapping"):
        make_params(config=cfg)
    with pytest.raises(MurakkabError, match="cannot read"):
        make_params(config=tmp_path / "missing.yaml")


def test_fleet_carbon_levers_arithmetic():
    f = fleet(1e9, 0.8, 10.8, 0.10)
    assert f.gwh_per_day_baseline == pytest.approx(0.8)
    assert f.gwh_per_day_with_long == pytest.approx(0.9 * 0.8 + 0.1 * 10.8)   # 1.8 GWh/day
    assert carbon_g(1000.0, 400.0) == pytest.approx(400.0)
    each, combined = levers(0.3, {"model": 1.5, "platform": 2.0, "hardware": 3.0})
    assert [lv.median_wh for lv in each] == pytest.approx([0.2, 0.15, 0.1])
    assert combined.reduction == pytest.approx(9.0) and combined.median_wh == pytest.approx(0.3 / 9)
    with pytest.raises(MurakkabError, match="long_share"):
        fleet(1e9, 0.8, 10.8, 1.2)
    with pytest.raises(MurakkabError, match="grid intensity"):
        carbon_g(1.0, -1)


def _csv_row(n):
    text = resources.files("murakkab").joinpath("profiles/data/ml_energy_v3/llm_configs.csv").read_text()
    return list(csv.DictReader(text.splitlines()))[n - 1]


def test_default_is_dense_405b_with_flat_throughput_at_its_measurement():
    """Default = the paper's setting: dense frontier class (Llama 3.1 405B on 8×H100), TPS held flat
    beyond the measured lengths. The family has one measured point (row 397), so every draw must use
    that row's throughput."""
    e = estimate(make_params({"draws": 2000}))
    tps = float(_csv_row(397)["output_throughput_tokens_per_sec"])
    assert e.params.throughput_family == "Llama-3.1-405B-Instruct" and e.params.throughput_extrapolation == "flat"
    assert e.baseline_draws.tps == pytest.approx(tps) and e.long_draws.tps == pytest.approx(tps)
    # Sanity by hand: median ≈ median PUE × 0.7 × 11.3 kW × 300 / (3.6 × TPS)
    hand = math.sqrt(1.05 * 1.4) * 0.7 * 11.3 * 300 / (3.6 * tps)
    assert e.baseline.median == pytest.approx(hand, rel=0.05)


def test_slope_rule_lowers_throughput_beyond_the_measured_length():
    flat = estimate(make_params({"draws": 2000}))
    slope = estimate(make_params({"draws": 2000, "throughput_extrapolation": "slope"}))
    long_draws = flat.long_draws.output_tokens > 1000
    # the shared fitted slope is negative, so extending it can only lower TPS past 367 tokens
    assert (slope.long_draws.tps[long_draws] < flat.long_draws.tps[long_draws]).all()
    assert slope.long.median > flat.long.median


def test_fleet_over_median_is_the_closed_form_for_flat_throughput():
    """With TPS flat, energy ∝ L_out × power × PUE: mean/median = (1/ln 2) [exponential] ×
    e^(σ_p²/2) × e^(σ_pue²/2) [log-normals], less a few % for clipping. The paper's 0.8 GWh/day over
    0.34 Wh × 1e9 is 2.35, which this form cannot give (see docs/energy.md)."""
    e = estimate(make_params({}))
    s_p = math.log(0.9 / 0.4) / (2 * 1.6448536)
    s_pue = math.log(1.40 / 1.05) / (2 * 1.6448536)
    closed = math.exp(s_p ** 2 / 2 + s_pue ** 2 / 2) / math.log(2)
    # GWh/day for 1e9 queries ÷ median Wh per query
    ratio = fleet(1e9, e.baseline.mean, e.long.mean, 0).gwh_per_day_baseline / e.baseline.median
    assert ratio == pytest.approx(closed, rel=0.05)
    assert ratio < 0.8 / 0.34 * 0.8


def test_bad_extrapolation_rule_rejected():
    with pytest.raises(MurakkabError, match="throughput_extrapolation"):
        make_params({"throughput_extrapolation": "linear"})
