"""Throughput fit against the packaged ML.ENERGY rows, checked by closed-form OLS and the CSV itself."""

import csv
import math
from importlib import resources

import pytest

from murakkab.energy.throughput_fit import FitPoint, fit_points, frontier_fit, select_points
from murakkab.errors import MurakkabError
from murakkab.profiles.mlenergy import ModelFacts
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source


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


def test_points_are_exactly_the_best_rows_of_the_csv():
    # independent of the profile layer: group the CSV's rows by configuration, keep the fastest
    best = {}
    for i, r in enumerate(_rows(), start=1):
        if r["gpu_model"] != "H100" or float(r["total_params_billions"]) < 200 or r["task"] not in ("lm-arena-chat", "gpqa"):
            continue
        if 8 % int(r["num_gpus"]):
            continue
        cfg = tuple(r[c] for c in ("task", "model_id", "num_gpus", "tensor_parallel", "expert_parallel",
                                   "data_parallel", "weight_precision"))
        if cfg not in best or float(r["output_throughput_tokens_per_sec"]) > float(best[cfg][1]["output_throughput_tokens_per_sec"]):
            best[cfg] = (i, r)
    expected = sorted((i, float(r["avg_output_len"]), float(r["output_throughput_tokens_per_sec"]) * 8 / int(r["num_gpus"]))
                      for i, r in best.values())
    got = [(p.row, p.output_len, p.node_tps) for p in frontier_fit().points]
    assert [g[0] for g in got] == [e[0] for e in expected]
    for g, e in zip(got, expected):  # approx takes flat sequences only (pytest >= 9.2)
        assert g[1:] == pytest.approx(e[1:])
    assert frontier_fit().source.startswith("profiles/data/ml_energy_v3/llm_configs.csv rows "
                                            + ",".join(str(e[0]) for e in expected) + " ")


def _profile(model, gpus, points, hardware="H100-80GB", workload="gpqa"):
    key = ProfileKey(model=model, hardware=hardware, gpus=gpus, tp=gpus, precision="bfloat16", workload=workload)
    pts = tuple(OperatingPoint(max_num_seqs=seqs, tpot_median_s=0.02, tpot_p90_s=0.03, throughput_tok_s=tps,
                               mean_output_tokens=out, source=Source(file="t.csv", row=rows[0], rows=rows if len(rows) > 1 else ()))
                for seqs, tps, out, rows in points)
    return ModelProfile(key=key, points=pts)


def _facts(**sizes):
    return {m: ModelFacts(model=m, total_params_b=b, active_params_b=b, source=Source(file="t.csv", row=1))
            for m, b in sizes.items()}


def test_select_points_on_a_hand_built_world():
    big = _profile("org/Big-FP8", 4, [(8, 100.0, 900.0, (3,)), (16, 250.0, 800.0, (4, 5))])   # averaged best point
    small = _profile("org/Small", 1, [(8, 999.0, 500.0, (1,))])                                # < 200B: dropped
    b200 = _profile("org/Big-FP8", 8, [(8, 500.0, 700.0, (6,))], hardware="B200-180GB")        # other GPU: dropped
    untiled = _profile("org/Big-FP8", 3, [(8, 500.0, 700.0, (7,))])                            # 3 does not tile 8
    image = _profile("org/Big-FP8", 8, [(8, 500.0, 700.0, (8,))], workload="image-chat")       # not a text task
    facts = _facts(**{"org/Big-FP8": 300.0, "org/Small": 8.0})
    (p,) = select_points([small, big, b200, untiled, image], facts)
    # family drops org and -FP8; 250 tok/s on 4 GPUs -> 500 per 8-GPU node; rows of the averaged point kept
    assert (p.family, p.output_len, p.node_tps, p.row, p.all_rows()) == ("Big", 800.0, 500.0, 4, (4, 5))
    with pytest.raises(MurakkabError, match="no parameter count for model 'org/Small'"):
        select_points([small], _facts())
    with pytest.raises(MurakkabError, match="unknown ML.ENERGY gpu 'A100'"):
        select_points([big], facts, gpu="A100")


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
