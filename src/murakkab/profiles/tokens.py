"""Token-count distributions per model call, shared by the optimizer (planning percentiles) and the
simulator (sampling, `LogNormalTokens.draw`), so both see the same tokens.

Output tokens per call are modelled as log-normal, fitted to the profile's p50 and p90
(median = p50; sigma from the p90/p50 ratio). The p99 in the profile is kept as data; the fit is
used to reach any other percentile, e.g. the per-call percentile a step with D parallel calls needs
so that the slowest of the D stays under the step's target percentile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from statistics import NormalDist

from murakkab.profiles.schema import TokenStats

_Z90 = NormalDist().inv_cdf(0.90)


@dataclass(frozen=True)
class LogNormalTokens:
    median: float
    sigma: float

    @classmethod
    def from_stats(cls, stats: TokenStats) -> "LogNormalTokens":
        return cls.from_percentiles(stats.output_p50, stats.output_p90)

    @classmethod
    def from_percentiles(cls, p50: float, p90: float) -> "LogNormalTokens":
        if p50 <= 0 or p90 < p50:
            raise ValueError(f"token percentiles need 0 < p50 <= p90, got p50={p50}, p90={p90}")
        return cls(median=p50, sigma=math.log(p90 / p50) / _Z90)

    def quantile(self, q: float) -> float:
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile needs 0 < q < 1, got {q}")
        return self.median * math.exp(self.sigma * NormalDist().inv_cdf(q))

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma ** 2 / 2.0)

    def sample(self, rng, size=None):
        """Draws from a numpy Generator (`rng.lognormal`)."""
        return rng.lognormal(math.log(self.median), self.sigma, size)

    def draw(self, rng) -> int:
        """One output-token count from a `random.Random` (the simulator's per-call sampler): rounded to
        whole tokens, at least 1. With sigma = 0 it is the median and consumes no random number."""
        if self.sigma == 0.0:
            return max(1, round(self.median))
        # exp(normalvariate) is what random.lognormvariate computes: same stream, ln(median) cached
        return max(1, round(math.exp(rng.normalvariate(self._mu, self.sigma))))

    @cached_property
    def _mu(self) -> float:
        return math.log(self.median)


def max_of_parallel_quantile(q: float, parallel: int) -> float:
    """Per-call quantile so that the largest of `parallel` independent calls is below it with probability q."""
    if parallel < 1:
        raise ValueError("parallel calls must be >= 1")
    return q ** (1.0 / parallel)
