"""Leave-one-out validation on a hand-built profile: interpolated vs extrapolated, errors by hand."""

import pytest

from murakkab.energy.validate import group_stats, loo_results, worst
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source


def _pt(seqs, tput, ept, row):
    return OperatingPoint(max_num_seqs=seqs, avg_batch=float(seqs), tpot_median_s=0.02, tpot_p90_s=0.03,
                          throughput_tok_s=tput, power_w=1000.0, energy_per_token_j=ept,
                          source=Source(file="hand", row=row))


def world():
    key = ProfileKey(model="m", hardware="H100-80GB", gpus=1, precision="bf16", workload="chat")
    # middle point measured 20% above the straight line between its neighbours (line: 300 tok/s, 1.5 J)
    pts = (_pt(8, 200.0, 2.0, 1), _pt(16, 360.0, 1.2, 2), _pt(24, 400.0, 1.0, 3))
    single = ModelProfile(key=key.model_copy(update={"model": "solo"}), points=(_pt(8, 100.0, 1.0, 4),))
    return [ModelProfile(key=key, points=pts), single]


def test_loo_interpolated_point_error_by_hand():
    results, skipped = loo_results(world())
    assert skipped == 1
    mid = next(r for r in results if r.max_num_seqs == 16)
    assert not mid.extrapolated
    # two remaining points: PCHIP through two points is the straight line
    assert mid.tput_predicted == pytest.approx(300.0) and mid.tput_ape == pytest.approx(60 / 360)
    assert mid.ept_predicted == pytest.approx(1.5) and mid.ept_ape == pytest.approx(0.3 / 1.2)
    ends = [r for r in results if r.max_num_seqs != 16]
    assert all(r.extrapolated for r in ends)
    # an end point is held at the nearest remaining point
    first = next(r for r in ends if r.max_num_seqs == 8)
    assert first.tput_predicted == pytest.approx(360.0)


def test_group_stats_separate_interpolated_and_extrapolated():
    results, _ = loo_results(world())
    stats = {(g.hardware, g.task, g.extrapolated): g for g in group_stats(results)}
    interp = stats[("H100-80GB", "chat", False)]
    assert interp.n == 1 and interp.tput_mape == pytest.approx(60 / 360)
    ext = stats[("H100-80GB", "chat", True)]
    # 8: predicted 360 vs 200; 24: predicted 360 vs 400
    assert ext.n == 2 and ext.tput_mape == pytest.approx((160 / 200 + 40 / 400) / 2)
    assert worst(results, 1, extrapolated=True)[0].max_num_seqs == 8
