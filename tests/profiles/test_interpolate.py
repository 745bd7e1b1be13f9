"""PCHIP interpolation across operating points."""

import numpy as np
import pytest

from murakkab.profiles.interpolate import at_concurrency, concurrency_axis, leave_one_out, tpot_power_table
from murakkab.profiles.mlenergy import load_mlenergy
from murakkab.profiles.schema import OperatingPoint, Source

FIELDS = ("tpot_median_s", "tpot_p90_s", "throughput_tok_s", "power_w", "energy_per_token_j")


def _pt(n, tpot, tput, power=None, batch=None):
    return OperatingPoint(max_num_seqs=n, avg_batch=batch, tpot_median_s=tpot, tpot_p90_s=tpot * 1.5,
                          throughput_tok_s=tput, power_w=power,
                          energy_per_token_j=None if power is None else power / tput, source=Source(file="hand", row=n))


def test_two_points_interpolate_linearly_and_clamp_outside():
    pts = (_pt(8, 0.020, 400, 300), _pt(16, 0.030, 600, 400))
    mid = at_concurrency(pts, 12)          # PCHIP through two points is the straight line
    assert mid.tpot_median_s == pytest.approx(0.025) and mid.throughput_tok_s == pytest.approx(500)
    assert mid.power_w == pytest.approx(350) and not mid.extrapolated
    hi = at_concurrency(pts, 64)
    assert hi.tpot_median_s == pytest.approx(0.030) and hi.extrapolated
    lo = at_concurrency(pts, 1)
    assert lo.throughput_tok_s == pytest.approx(400) and lo.extrapolated


def test_unknown_power_stays_unknown():
    est = at_concurrency((_pt(1, 0.05, 20), _pt(2, 0.06, 33)), 1.5)
    assert est.power_w is None and est.energy_per_token_j is None


def test_axis_is_measured_batch_when_known_else_cap():
    assert concurrency_axis((_pt(8, .02, 1, batch=7.5), _pt(16, .03, 2, batch=12.0))) == [7.5, 12.0]
    assert concurrency_axis((_pt(8, .02, 1, batch=7.5), _pt(16, .03, 2))) == [8.0, 16.0]


def _monotone(v):
    d = np.diff(v)
    return bool(np.all(d >= -1e-12) or np.all(d <= 1e-12))


def test_exact_at_measured_points_and_monotone_between_for_every_mlenergy_profile():
    profiles = [p for p in load_mlenergy(repeats="mean") if len(p.points) >= 2]
    checked = 0
    for p in profiles:
        xs = concurrency_axis(p.points)
        for x, pt in zip(xs, p.points):
            est = at_concurrency(p.points, x)
            for f in FIELDS:
                assert getattr(est, f) == pytest.approx(getattr(pt, f), rel=1e-9), (p.key.label(), f)
        grid = np.linspace(xs[0], xs[-1], 200)
        ests = [at_concurrency(p.points, float(g)) for g in grid]
        for f in FIELDS:
            measured = [getattr(pt, f) for pt in p.points]
            if _monotone(measured):
                checked += 1
                assert _monotone([getattr(e, f) for e in ests]), (p.key.label(), f)
    assert checked > 100


def test_leave_one_out_predicts_from_the_neighbours():
    pts = (_pt(8, 0.020, 400, 300), _pt(16, 0.025, 500, 350), _pt(32, 0.030, 600, 400))
    est = leave_one_out(pts, 1)            # from the two outer points: the line at 16
    assert est.tpot_median_s == pytest.approx(0.020 + 0.010 * 8 / 24)
    assert not est.extrapolated
    assert leave_one_out(pts, 2).extrapolated


def test_tpot_power_table_is_at_concurrency_at_every_b():
    # the vectorised table the simulator tabulates curves with: the same numbers as point-by-point calls,
    # including the clamped ends (b = 1 below the first point, b > 32 above the last)
    pts = (_pt(4, 0.020, 200, 300), _pt(8, 0.024, 330, 380), _pt(32, 0.040, 800, 520))
    bs = range(1, 41)
    tpot, power = tpot_power_table(pts, bs)
    for b, t, p in zip(bs, tpot, power):
        est = at_concurrency(pts, b)
        assert t == pytest.approx(est.tpot_median_s, rel=1e-12) and p == pytest.approx(est.power_w, rel=1e-12)
    assert tpot[0] == pytest.approx(0.020) and tpot[-1] == pytest.approx(0.040)   # clamped, by hand
    assert tpot_power_table((_pt(1, 0.05, 20), _pt(2, 0.06, 33)), [1, 2])[1] is None   # unknown power stays unknown
