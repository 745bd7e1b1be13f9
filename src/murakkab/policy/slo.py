"""The SLO verdict: whether one request met its tier, and what a share of met requests means.

One rule for every body: the simulator (sim/engine.py inlines `SloRule.met` in its hot loop; a test
compares the two on every request of a run), the runtime's metrics and results, the dashboard and the
report.

- An accuracy tier is met when the route that served the request reaches the threshold: accuracy is a
  property of the configuration the plan chose, not of one answer.
- A latency tier is met when the request finished within the threshold **and** the route reaches the
  tier's accuracy floor (the catalogue's basic accuracy tier): the floor is part of the tier
  (optimizer/tiers.py defines latency tiers over the configurations that reach it and the optimizer
  plans to it), so a fast answer from a route below it does not meet the tier.
- Latency is compared with `LATENCY_TOLERANCE_S` of slack: the simulator's latency is a difference of
  event times that are sums of float durations, so a request that takes exactly the threshold in exact
  arithmetic can come out a few ulps above it. 1 ns is far below anything a clock measures, so no real
  verdict changes.
- A request that did not finish (failed, cancelled, or unfinished when a run ends) has not met its SLO;
  attainment counts it in the denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LATENCY_TOLERANCE_S = 1e-9


@dataclass(frozen=True)
class SloRule:
    """How requests of one (workflow, tier) are judged, with the accuracy of the route that serves it."""
    metric: Literal["accuracy", "latency"]
    threshold: float                       # percent (accuracy) or seconds (latency)
    accuracy_floor: float | None           # latency tiers: the least route accuracy that counts
    route_accuracy: float                  # percent, of the route serving the tier

    @classmethod
    def of_route(cls, route) -> "SloRule":
        """The rule of a plan `Route` (its tier and its accuracy)."""
        t = route.tier
        return cls(t.metric, t.threshold, t.accuracy_floor, route.accuracy_percent)

    @property
    def accuracy_met(self) -> bool:
        """Whether the route's accuracy satisfies the tier (the threshold, or a latency tier's floor)."""
        if self.metric == "accuracy":
            return self.route_accuracy >= self.threshold
        return self.accuracy_floor is None or self.route_accuracy >= self.accuracy_floor

    @property
    def latency_limit_s(self) -> float | None:
        """The latency threshold of a latency tier (None for accuracy tiers), before the tolerance."""
        return self.threshold if self.metric == "latency" else None

    def met(self, latency_s: float | None) -> bool:
        """The verdict for one request; `latency_s` None: it did not finish."""
        if latency_s is None or not self.accuracy_met:
            return False
        return self.metric != "latency" or latency_s <= self.threshold + LATENCY_TOLERANCE_S

    def describe(self) -> str:
        """The tier as a reader sees it, e.g. 'latency <= 8 s (accuracy >= 54.9%)'."""
        if self.metric == "accuracy":
            return f"accuracy >= {self.threshold:g}%"
        floor = "" if self.accuracy_floor is None else f" (accuracy >= {self.accuracy_floor:g}%)"
        return f"latency <= {self.threshold:g} s{floor}"


def attainment(met: int, finished: int, unfinished: int = 0) -> float | None:
    """Share of requests that met their SLO; requests that did not finish count as missed. None when
    there was no request."""
    n = finished + unfinished
    if met > finished:
        raise ValueError(f"{met} requests met their SLO out of {finished} finished: more than finished")
    return met / n if n else None
