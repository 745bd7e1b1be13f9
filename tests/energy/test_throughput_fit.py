"""Throughput fit against the packaged ML.ENERGY rows, checked by closed-form OLS and the CSV itself."""

import csv
import math
from importlib import resources

import pytest

from murakkab.energy.throughput_fit import FitPoint, fit_points, frontier_fit
from murakkab.errors import MurakkabError


def _rows():
    text = resources.files("murakkab").joinpath("profiles/data/ml_energy_v3/llm_configs.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def test_points_are_best_operating_points_scaled_to_the_node():
    fit = frontier_fit()
    rows = _rows()
    by_row = {p.row: p for p in fit.points}
    # row 248: Qwen3-235B-Instruct-FP8 on 4×H100 at 192 seqs, the best of its sweep -> ×2 per node
    r = rows[247]
    assert r["num_gpus"] == "4" and r["max_num_seqs"] == "192"
    assert by_row[248].node_tps == pytest.approx(2 * float(r["output_throughput_tokens_per_sec"]))
    # every point: H100, >= 200B, text task
    for p in fit.points:
        row = rows[p.row - 1]
        assert row["gpu_model"] == "H100" and float(row["total_params_billions"]) >= 200
        assert row["task"] in ("lm-arena-chat", "gpqa")


def test_pooled_slope_matches_closed_form_ols():
    fit = frontier_fit()
    xs = [math.log(p.output_len) for p in fit.points]
    ys = [math.log(p.node_tps) for p in fit.points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    assert fit.slope == pytest.approx(slope)
    assert fit.intercepts["pooled"] == pytest.approx(my - slope * mx)


def test_single_point_family_passes_through_its_measurement():
    fit = frontier_fit(per_family=True)
    llama = [p for p in fit.points if p.family == "Llama-3.1-405B-Instruct"]
    assert len(llama) == 1
    assert fit.tps(llama[0].output_len, "Llama-3.1-405B-Instruct") == pytest.approx(llama[0].node_tps)


def test_held_flat_outside_the_data_range():
    fit = frontier_fit()
    lo, hi = fit.len_range
    assert fit.tps(1.0) == pytest.approx(fit.tps(lo))
    assert fit.tps(1e7) == pytest.approx(fit.tps(hi))


def test_unknown_family_and_unidentifiable_fit_rejected():
    with pytest.raises(MurakkabError, match="unknown throughput family"):
        frontier_fit().tps(300, "gpt-5")
    pts = (FitPoint("a", 100, 10, 1), FitPoint("b", 200, 20, 2))
    with pytest.raises(MurakkabError, match="not identifiable"):
        fit_points(pts, per_family=True)
    with pytest.raises(MurakkabError, match="at least 2"):
        fit_points(pts[:1], per_family=False)


def test_flat_rule_holds_a_family_at_its_own_measured_range():
    fit = frontier_fit(per_family=True)
    fam = "Llama-3.1-405B-Instruct"
    (pt,) = [p for p in fit.points if p.family == fam]
    assert fit.family_range(fam) == (pt.output_len, pt.output_len)
    assert fit.tps([100, 5000, 1e6], fam, "flat") == pytest.approx([pt.node_tps] * 3)


def test_slope_rule_extends_the_shared_slope_to_the_fit_range_then_flat():
    fit = frontier_fit(per_family=True)
    fam = "Llama-3.1-405B-Instruct"
    (pt,) = [p for p in fit.points if p.family == fam]
    hi = max(p.output_len for p in fit.points)
    # log-linear through the family's point with the fitted slope, by hand
    assert float(fit.tps(5000, fam, "slope")) == pytest.approx(pt.node_tps * (5000 / pt.output_len) ** fit.slope)
    assert float(fit.tps(1e6, fam, "slope")) == pytest.approx(pt.node_tps * (hi / pt.output_len) ** fit.slope)
    with pytest.raises(MurakkabError, match="unknown throughput extrapolation"):
        fit.tps(300, fam, "linear")
