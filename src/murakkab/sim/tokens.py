"""Output tokens per call: a log-normal fitted to the step's p50 and p90.

median = p50 fixes μ = ln p50; p90 = exp(μ + z90·σ) with z90 = 1.2816 (standard normal 90th
percentile) fixes σ = (ln p90 − ln p50) / z90. The p99 is not fitted (two parameters); it is kept in
the plan for capacity. Draws are rounded and at least 1.
"""

from __future__ import annotations

import math

Z90 = 1.2815515655446004


def lognormal_params(p50: float, p90: float) -> tuple[float, float]:
    """(μ, σ) of the log-normal with this median and 90th percentile; σ = 0 if p90 <= p50."""
    if p50 <= 0:
        return (0.0, 0.0)
    sigma = max(math.log(p90) - math.log(p50), 0.0) / Z90 if p90 > 0 else 0.0
    return (math.log(p50), sigma)


def draw(rng, mu: float, sigma: float) -> int:
    """One draw (rng: random.Random), rounded, >= 1."""
    if sigma == 0.0:
        return max(1, round(math.exp(mu)))
    return max(1, round(rng.lognormvariate(mu, sigma)))
