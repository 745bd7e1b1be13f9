"""Monte Carlo per-query energy: E [Wh] = PUE × P_node [kW] × L_eff / (3.6 × TPS(L_out)).

`L_eff / TPS` is the node-seconds a query occupies; kW × s = kJ; ÷ 3.6 gives Wh. Node power and PUE
are log-normal, set from a centre (median) and a 5th–95th percentile range; output length is
exponential (or fixed). All draws come from one seeded generator, so results are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from murakkab.energy.params import EstimateParams
from murakkab.energy.throughput_fit import ThroughputFit, frontier_fit

Z95 = 1.6448536269514722   # standard-normal 95th percentile


def lognormal_sigma(p5: float, p95: float) -> float:
    """σ of ln X for a log-normal whose 5th–95th percentile range is p5..p95."""
    return math.log(p95 / p5) / (2 * Z95)


@dataclass(frozen=True)
class Summary:
    """Distribution of per-query energy (Wh)."""
    median: float
    p25: float
    p75: float
    mean: float
    p5: float
    p95: float

    @staticmethod
    def of(x: np.ndarray) -> "Summary":
        p5, p25, p50, p75, p95 = np.percentile(x, [5, 25, 50, 75, 95])
        return Summary(float(p50), float(p25), float(p75), float(x.mean()), float(p5), float(p95))

    def scaled(self, factor: float) -> "Summary":
        return Summary(*(v * factor for v in (self.median, self.p25, self.p75, self.mean, self.p5, self.p95)))


@dataclass(frozen=True)
class Draws:
    energy_wh: np.ndarray
    output_tokens: np.ndarray
    node_kw: np.ndarray
    pue: np.ndarray
    tps: np.ndarray
    power_clipped: int     # draws above P_max, held at P_max (a node cannot exceed its maximum)
    pue_clipped: int       # draws below 1.0, held at 1.0 (PUE < 1 is not physical)


def draw(params: EstimateParams, output_median: float, fit: ThroughputFit | None) -> Draws:
    """One Monte Carlo run. `fit` may be None only when params.throughput_tok_s is set."""
    rng = np.random.default_rng(params.seed)
    n = params.draws
    if params.output_distribution == "fixed":
        tokens = np.full(n, float(output_median))
    else:   # exponential with the given median: scale = median / ln 2
        tokens = rng.exponential(output_median / math.log(2), size=n)

    p_max = params.node_max_kw
    p_sigma = lognormal_sigma(params.power_p5_frac, params.power_p95_frac)
    node_kw = params.power_centre_frac * p_max * np.exp(p_sigma * rng.standard_normal(n))
    power_clipped = int((node_kw > p_max).sum())
    node_kw = np.minimum(node_kw, p_max)

    pue_median = math.sqrt(params.pue_p5 * params.pue_p95)
    pue = pue_median * np.exp(lognormal_sigma(params.pue_p5, params.pue_p95) * rng.standard_normal(n))
    pue_clipped = int((pue < 1.0).sum())
    pue = np.maximum(pue, 1.0)

    if params.throughput_tok_s is not None:
        tps = np.full(n, params.throughput_tok_s)
    else:
        assert fit is not None, "a throughput fit is required when throughput_tok_s is not set"
        tps = fit.tps(tokens, params.throughput_family, params.throughput_extrapolation)

    l_eff = tokens + params.prefill_weight * params.input_tokens
    energy = pue * node_kw * l_eff / (3.6 * tps)
    return Draws(energy, tokens, node_kw, pue, tps, power_clipped, pue_clipped)


@dataclass(frozen=True)
class Estimate:
    params: EstimateParams
    baseline: Summary
    long: Summary                  # test-time scaling / long-query scenario
    baseline_draws: Draws
    long_draws: Draws
    fit: ThroughputFit | None

    @property
    def token_ratio(self) -> float:
        return self.params.long_output_median_tokens / self.params.output_median

    @property
    def energy_ratio(self) -> float:
        return self.long.median / self.baseline.median


def throughput_fit_for(params: EstimateParams) -> ThroughputFit | None:
    if params.throughput_tok_s is not None:
        return None
    return frontier_fit(per_family=params.throughput_family != "pooled")


def estimate(params: EstimateParams, fit: ThroughputFit | None = None) -> Estimate:
    """Baseline and long-output (test-time scaling) distributions under the same parameters."""
    fit = fit if fit is not None else throughput_fit_for(params)
    base = draw(params, params.output_median, fit)
    long = draw(params, params.long_output_median_tokens, fit)
    return Estimate(params, Summary.of(base.energy_wh), Summary.of(long.energy_wh), base, long, fit)
