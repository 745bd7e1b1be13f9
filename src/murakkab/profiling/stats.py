"""Pure statistics of a profiled operating point: percentiles, the throughput's confidence interval,
window throughput and achieved concurrency from timestamps."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as _st


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation, numpy's default); ValueError on no values."""
    if len(values) == 0:
        raise ValueError("no values")
    return float(np.percentile(np.asarray(values, dtype=float), q))


def ci_half_width_rel(samples: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval of the mean, relative to the mean (inf with
    fewer than two samples or a zero mean)."""
    n = len(samples)
    if n < 2:
        return math.inf
    mean = float(np.mean(samples))
    if mean <= 0:
        return math.inf
    sd = float(np.std(samples, ddof=1))
    return float(_st.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n) / mean


def tokens_in_window(arrivals: Sequence[float], weights: Sequence[float], start: float, end: float) -> float:
    """Output tokens whose chunks arrived in [start, end) (each chunk weighted by the tokens it carries)."""
    return float(sum(w for t, w in zip(arrivals, weights) if start <= t < end))


def overlap_seconds(spans: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """Total time the spans (request start, end) overlap [start, end): sum of in-flight requests over time."""
    return float(sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans))
