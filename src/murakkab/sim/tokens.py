"""Deprecated shim: the token model is `murakkab.profiles.tokens.LogNormalTokens` (one model for the
optimizer and the simulator). These two functions remain only because `murakkab.runtime.simulated`
still imports them; they delegate to LogNormalTokens. Delete this file once the runtime calls
`LogNormalTokens.from_percentiles(p50, p90).draw(rng)` itself.
"""

from __future__ import annotations

import math

from murakkab.profiles.tokens import LogNormalTokens


def lognormal_params(p50: float, p90: float) -> tuple[float, float]:
    """(ln median, sigma) of LogNormalTokens for these percentiles; sigma 0 if p90 <= p50, (0, 0) if p50 <= 0."""
    if p50 <= 0:
        return (0.0, 0.0)
    d = LogNormalTokens.from_percentiles(p50, max(p90, p50))
    return (math.log(d.median), d.sigma)


def draw(rng, mu: float, sigma: float) -> int:
    """LogNormalTokens(median = e^mu, sigma).draw(rng)."""
    return LogNormalTokens(math.exp(mu), sigma).draw(rng)
