"""Monotone interpolation of a profile's operating points over concurrency.

x = measured mean batch (`avg_batch`) where every point has one and they increase strictly with
max_num_seqs, else max_num_seqs. Each quantity is interpolated with scipy's PCHIP, which is exact at
the measured points and preserves monotonicity of monotone data. Outside the measured range the value
is clamped to the end point and `extrapolated=True`. Power and J/token use only the points where they
are known; if none is, they are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.interpolate import PchipInterpolator

from murakkab.errors import ProfileError
from murakkab.profiles.schema import OperatingPoint


@dataclass(frozen=True)
class PointEstimate:
    tpot_median_s: float
    tpot_p90_s: float
    throughput_tok_s: float
    power_w: float | None
    energy_per_token_j: float | None
    extrapolated: bool


@dataclass(frozen=True)
class _Series:
    lo: float
    hi: float
    fn: object  # PchipInterpolator, or a float for a single point

    def __call__(self, x: float) -> tuple[float, bool]:
        xc = min(max(x, self.lo), self.hi)
        value = self.fn if isinstance(self.fn, float) else float(self.fn(xc))
        return value, not (self.lo <= x <= self.hi)


def concurrency_axis(points: tuple[OperatingPoint, ...]) -> list[float]:
    """The x value of each point: avg_batch if all known and strictly increasing, else max_num_seqs."""
    pts = sorted(points, key=lambda p: p.max_num_seqs)
    avg = [p.avg_batch for p in pts]
    if all(a is not None for a in avg) and all(b > a for a, b in zip(avg, avg[1:])):
        return [float(a) for a in avg]
    return [float(p.max_num_seqs) for p in pts]


def _series(xs: list[float], ys: list[float | None]) -> _Series | None:
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None]
    if not pairs:
        return None
    if len(pairs) == 1:
        return _Series(pairs[0][0], pairs[0][0], float(pairs[0][1]))
    x, y = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    return _Series(float(x[0]), float(x[-1]), PchipInterpolator(x, y, extrapolate=False))


@lru_cache(maxsize=4096)
def _fit(points: tuple[OperatingPoint, ...]) -> tuple[_Series | None, ...]:
    pts = tuple(sorted(points, key=lambda p: p.max_num_seqs))
    xs = concurrency_axis(pts)
    return tuple(_series(xs, [getattr(p, f) for p in pts]) for f in
                 ("tpot_median_s", "tpot_p90_s", "throughput_tok_s", "power_w", "energy_per_token_j"))


def at_concurrency(points: tuple[OperatingPoint, ...], b: float) -> PointEstimate:
    """Estimate at `b` sequences in flight (fitted interpolators cached per points tuple)."""
    if not points:
        raise ProfileError("cannot interpolate a profile with no operating points")
    if not b > 0:
        raise ProfileError(f"concurrency must be > 0, got {b}")
    values, extrapolated = [], False
    for s in _fit(tuple(points)):
        if s is None:
            values.append(None)
            continue
        v, out = s(float(b))
        values.append(v)
        extrapolated |= out
    return PointEstimate(*values, extrapolated=extrapolated)


def tpot_power_table(points: tuple[OperatingPoint, ...], bs) -> tuple[list[float], list[float] | None]:
    """TPOT median and power at each concurrency in `bs` (all > 0) in one vectorised evaluation: the
    values `at_concurrency` gives point by point (same fit, same clamping). Power is None when the
    profile has no power."""
    if not points:
        raise ProfileError("cannot interpolate a profile with no operating points")
    x = np.asarray(bs, dtype=float)
    if x.size and not (x > 0).all():
        raise ProfileError("concurrency must be > 0")
    tpot_s, _, _, power_s, _ = _fit(tuple(points))

    def table(s: _Series) -> list[float]:
        if isinstance(s.fn, float):
            return [s.fn] * len(x)
        return [float(v) for v in s.fn(np.clip(x, s.lo, s.hi))]

    return table(tpot_s), (table(power_s) if power_s is not None else None)


def leave_one_out(points: tuple[OperatingPoint, ...], i: int) -> PointEstimate:
    """Estimate point i (index in max_num_seqs order) from the other points, at point i's x."""
    pts = tuple(sorted(points, key=lambda p: p.max_num_seqs))
    if len(pts) < 2:
        raise ProfileError("leave-one-out needs at least two operating points")
    x = concurrency_axis(pts)[i]
    return at_concurrency(pts[:i] + pts[i + 1:], x)
