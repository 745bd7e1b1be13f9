"""A100-80GB calibration: the fit against the measured pairs, and the derived profiles it makes."""

import csv
import math
from importlib import resources

import numpy as np
import pytest

from murakkab.catalog import load_catalog
from murakkab.profiles.a100_fit import ARGONNE, BANDWIDTH_GB_S, SPLITWISE, V2, a100_fit, residuals
from murakkab.profiles.store import load_profiles

DATA = resources.files("murakkab.profiles").joinpath("data")


def _pairs_csv():
    text = DATA.joinpath("a100_measured", "a100_h100_matched_pairs.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _gpu_bound_argonne(rows):
    """Argonne pairs without the KV-capacity confound (README C4: Llama-2-7B at batch >= 32)."""
    return [r for r in rows if r["dataset"].startswith("Argonne")
            and not ("Llama-2-7b" in r["model"] and int(r["max_concurrency"]) >= 32)]


def test_power_line_is_the_least_squares_line_of_the_gpu_bound_pairs():
    rows = _gpu_bound_argonne(_pairs_csv())
    x = [math.log2(int(r["max_concurrency"])) for r in rows]
    y = [float(r["ratio_w_per_gpu_a100_over_h100"]) for r in rows]
    slope, intercept = np.polyfit(x, y, 1)        # an independent least-squares solver
    fit = a100_fit()
    assert fit.power_slope == pytest.approx(slope, rel=1e-9)
    assert fit.power_intercept == pytest.approx(intercept, rel=1e-9)
    assert len(rows) == 12
    # load raises the ratio (README: measured 0.56-0.69 over batch 1-64), and not the TDP ratio 400/700
    assert 0.55 < fit.power_ratio(1) < fit.power_ratio(64) < 0.7


def test_one_bandwidth_share_fits_both_gpu_bound_sources_within_ten_percent():
    fit = a100_fit()
    for r in residuals(fit):
        if r["weight"] > 0:
            measured, fitted, err = r["throughput"]
            assert abs(err) < 0.10, r
    # Argonne's A100 is the 40 GB part (README C3), Splitwise's the 80 GB: the fit carries both
    argonne = [p for p in fit.pairs if p.source == ARGONNE and p.weight > 0]
    splitwise = [p for p in fit.pairs if p.source == SPLITWISE]
    assert {p.a100 for p in argonne} == {"A100-40GB"} and {p.a100 for p in splitwise} == {"A100-80GB"}
    assert fit.throughput_ratio("A100-40GB") / fit.throughput_ratio("A100-80GB") == pytest.approx(
        BANDWIDTH_GB_S["A100-80GB"] / BANDWIDTH_GB_S["A100-40GB"])


def test_fit_reproduces_the_measured_energy_ratio_of_llama3_8b():
    """README: J per output token A100 / H100 of 1.16/1.18/1.30/1.33 (vLLM) and 1.08-1.27 (TRT-LLM)."""
    fit = a100_fit()
    for r in residuals(fit):
        if r["source"] == ARGONNE and "Llama-3-8B" in r["model"]:
            measured, fitted, err = r["energy"]
            assert abs(err) < 0.12, r
            assert fitted > 1.0      # on the 40 GB A100 the H100 does more work per joule


def test_cpu_bound_and_unequal_gpu_count_pairs_do_not_move_the_fit():
    fit = a100_fit()
    v2 = [p for p in fit.pairs if p.source == V2]
    assert v2 and all(p.weight == 0 for p in v2)
    rows = _pairs_csv()
    assert len([p for p in fit.pairs if p.source in (ARGONNE, V2)]) == sum(
        r["a100_gpu_count"] == r["h100_gpu_count"] for r in rows)
    # the v2 stack compresses the H100's speed advantage (README C1): the GPU-bound fit sits above it
    over = [p.throughput_ratio < fit.throughput_ratio(p.a100) for p in v2]
    assert sum(over) / len(over) > 0.9


def test_derived_a100_profiles_apply_the_fitted_ratios_point_by_point():
    store = load_profiles()
    fit = a100_fit()
    h100 = {p.key.label().replace("H100-80GB", "A100-80GB"): p for p in store.model_profiles
            if p.key.hardware == "H100-80GB"}
    derived = [p for p in store.model_profiles if p.key.hardware == "A100-80GB" and p.points[0].source.basis == "derived"
               and p.key.label() in h100]
    assert derived
    board = load_catalog().hardware["A100-80GB"].tdp_w
    t = fit.throughput_ratio()
    for a in derived:
        h = h100[a.key.label()]
        for pa, ph in zip(a.points, h.points):
            assert pa.tpot_median_s == pytest.approx(ph.tpot_median_s * t)
            assert pa.throughput_tok_s == pytest.approx(ph.throughput_tok_s / t)
            if ph.power_w is not None:
                batch = ph.avg_batch or ph.max_num_seqs
                assert pa.power_w == pytest.approx(min(ph.power_w * fit.power_ratio(batch), board * a.key.gpus))
                assert pa.power_w <= board * a.key.gpus + 1e-9
            assert "a100_fit" in pa.source.note and pa.source.basis == "derived"


def test_a100_measured_on_the_80gb_part_is_kept_not_derived():
    store = load_profiles()
    splitwise = [p for p in store.model_profiles if p.key.hardware == "A100-80GB" and "splitwise" in p.points[0].source.file]
    assert splitwise and all("a100_fit" not in pt.source.note for p in splitwise for pt in p.points)


def test_cli_shows_the_basis_and_the_a100_rule():
    from typer.testing import CliRunner
    from murakkab.cli import app
    res = CliRunner().invoke(app, ["profiles", "gemma-3-27b", "--hardware", "A100-80GB"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())       # the caption wraps
    assert "(basis: derived)" in text and "HBM bandwidth ratio" in text
    res = CliRunner().invoke(app, ["profiles", "gemma-3-27b", "--hardware", "H100-80GB"], env={"COLUMNS": "250"})
    text = " ".join(res.output.split())
    assert "(basis: measured" in text and "HBM bandwidth" not in text
