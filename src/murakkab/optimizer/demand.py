"""Demand per (workflow, tier): from explicit rates, from arrival times with a forecast window, or
the standard scenario (three reference workflows x four tiers x accuracy and latency SLOs)."""

from __future__ import annotations

import math

from murakkab.errors import MurakkabError
from murakkab.optimizer.api import Demand
from murakkab.optimizer.tiers import TIER_NAMES
from murakkab.plan.ids import WorkflowCopy

DEFAULT_TIER_MIX = {"accuracy:good": 0.7, "latency:good": 0.3}   # the paper's 70% / 30%
STANDARD_WORKFLOWS = ("video_qa", "code_gen", "reasoning")


def parse_rate(text: str) -> tuple[tuple[str, str], Demand]:
    """'video_qa:accuracy:good=2.5' (peak = average) or 'video_qa:accuracy:good=4/2.5' (peak/average)."""
    if "=" not in text or text.count(":") != 2:
        raise MurakkabError(f"rate '{text}' is not WORKFLOW:METRIC:TIER=PEAK[/AVERAGE] "
                            "(fix: e.g. --rate video_qa:accuracy:good=4/2.5)")
    key, value = text.split("=", 1)
    workflow, metric, tier = key.split(":")
    if metric not in ("accuracy", "latency") or tier not in TIER_NAMES:
        raise MurakkabError(f"rate '{text}': tier must be accuracy|latency:{'|'.join(TIER_NAMES)}")
    try:
        parts = [float(v) for v in value.split("/")]
    except ValueError:
        raise MurakkabError(f"rate '{text}': '{value}' is not a number or PEAK/AVERAGE") from None
    if len(parts) not in (1, 2) or any(not math.isfinite(p) for p in parts):
        raise MurakkabError(f"rate '{text}': give PEAK or PEAK/AVERAGE requests per second")
    if any(p < 0 for p in parts):
        raise MurakkabError(f"rate '{text}': request rates must be >= 0")
    peak, avg = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    return (workflow, f"{metric}:{tier}"), Demand(peak_rps=peak, avg_rps=avg)


def demand_from_times(workflow: str, times: list[float], window_s: float, bucket_s: float = 60.0,
                      tier_mix: dict[str, float] | None = None, slots: int = 1) -> dict[tuple[str, str], Demand]:
    """Peak (busiest bucket) and average rates over the first `window_s` of arrival times, split by tier.
    With `slots` > 1 the window is cut into that many equal slots and each slot's busiest bucket is its
    slot peak (`Demand.slot_peaks`), so that pools are sized on the peak of their summed load."""
    if window_s <= 0 or bucket_s <= 0:
        raise MurakkabError("forecast window and bucket must be > 0 s")
    inside = [t for t in times if 0 <= t < window_s]
    if not inside:
        raise MurakkabError(f"no arrivals of '{workflow}' in the first {window_s:g} s of the trace")
    buckets = [0] * max(1, math.ceil(window_s / bucket_s))
    for t in inside:
        buckets[min(len(buckets) - 1, int(t // bucket_s))] += 1
    peak = max(buckets) / bucket_s
    avg = len(inside) / window_s
    mix = tier_mix or DEFAULT_TIER_MIX
    if slots < 1 or slots > len(buckets):
        raise MurakkabError(f"slots must be between 1 and the {len(buckets)} buckets of the window (got {slots})")
    per = [max(buckets[len(buckets) * k // slots:len(buckets) * (k + 1) // slots]) / bucket_s for k in range(slots)] \
        if slots > 1 else []
    return {(workflow, tier): Demand(peak_rps=peak * share, avg_rps=avg * share,
                                     slot_peaks=tuple(p * share for p in per)) for tier, share in mix.items()}


def standard_demand(scale: float = 1.0, workflows: tuple[str, ...] = STANDARD_WORKFLOWS
                    ) -> dict[tuple[str, str], Demand]:
    """Every reference workflow at every tier (accuracy and latency), with peak 1.6 x average.

    Average rates per workflow at scale 1: video_qa 8, code_gen 4, reasoning 4 requests/s, spread
    over the eight tiers as 70% accuracy / 30% latency tiers and, within each, 40/30/20/10% from
    basic to best (more demand for cheaper tiers). These rates are a scenario, not a measurement.
    """
    base = {"video_qa": 8.0, "code_gen": 4.0, "reasoning": 4.0}
    within = {"basic": 0.4, "fair": 0.3, "good": 0.2, "best": 0.1}
    out = {}
    for w in workflows:
        root = WorkflowCopy.parse(w).base
        for metric, share in (("accuracy", 0.7), ("latency", 0.3)):
            for tier, frac in within.items():
                avg = base[root] * share * frac * scale
                out[(w, f"{metric}:{tier}")] = Demand(peak_rps=1.6 * avg, avg_rps=avg)
    return out
