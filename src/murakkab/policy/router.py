"""Routing: pool choice by plan shares (per step, or one joint variant per request), then the
least-loaded instance within the pool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from murakkab.errors import MurakkabError


class SmoothWeightedRoundRobin:
    """Deterministic pick by shares (nginx's smooth weighted round-robin).

    Over any window of n picks, option i is chosen within ±1 of n × share_i times, interleaved rather
    than in bursts, and without random numbers, so two runs route identically."""

    __slots__ = ("weights", "current", "total")

    def __init__(self, shares: Sequence[float]):
        if not shares or any(not s > 0 for s in shares):
            raise MurakkabError(f"routing shares must be positive and non-empty, got {list(shares)} "
                                "(fix: give each pool of a step a share > 0)")
        self.weights = [float(s) for s in shares]
        self.total = sum(self.weights)
        self.current = [0.0] * len(self.weights)

    def pick(self) -> int:
        if len(self.weights) == 1:
            return 0
        cur, w = self.current, self.weights
        best = 0
        for i in range(len(w)):
            cur[i] += w[i]
            if cur[i] > cur[best]:
                best = i
        cur[best] -= self.total
        return best


class Variant(Protocol):
    share: float
    pools: Mapping[str, str]


class VariantRouter:
    """Joint pool choice per request for a route with variants (`Route.variants`).

    A request picks ONE variant, by the variant shares with the same deterministic smooth weighted
    round-robin as per-step shares, and runs every step on that variant's pool: each variant meets
    the route's latency SLO on its own, independent per-step picks might not. Per-step shares are
    then only the marginals. `pick()` returns the variant's index; `pools(i)` its task -> pool map.
    """

    __slots__ = ("variants", "rr")

    def __init__(self, variants: Sequence[Variant]):
        if not variants:
            raise MurakkabError("a variant router needs at least one route variant "
                                "(fix: use per-step shares when the route has no variants)")
        self.variants = list(variants)
        self.rr = SmoothWeightedRoundRobin([v.share for v in self.variants])

    def pick(self) -> int:
        return self.rr.pick()

    def pools(self, index: int) -> Mapping[str, str]:
        return self.variants[index].pools

    def pick_pools(self) -> Mapping[str, str]:
        """The next request's task -> pool map."""
        return self.variants[self.rr.pick()].pools


class Loaded(Protocol):
    load: int


L = TypeVar("L", bound=Loaded)


def least_loaded(instances: Sequence[L]) -> L | None:
    """The instance with the fewest calls in flight + queued; ties go to the earliest in the list
    (deterministic). None when the sequence is empty (no routable instance)."""
    best = None
    best_load = None
    for inst in instances:
        ld = inst.load
        if best_load is None or ld < best_load:
            best, best_load = inst, ld
            if ld == 0:
                break
    return best


class PlanRouter:
    """Pool choice under one plan: a smooth weighted round-robin over each step's shares, keyed by
    (workflow, tier key, task), and one `VariantRouter` per route with variants; each made on first
    use. A body keeps one per plan: requests take the running plan's router when they start and keep
    it, so routing state lives exactly as long as the plan or its last request (no table that grows
    with every plan)."""

    __slots__ = ("plan_id", "_steps", "_variants")

    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        self._steps: dict[tuple[str, str, str], SmoothWeightedRoundRobin] = {}
        self._variants: dict[tuple[str, str], VariantRouter] = {}

    def variant(self, route) -> dict[str, str] | None:
        """The task -> pool map of the next request on `route` (one joint choice per request); None when
        the route has no variants (each step then picks by its own shares)."""
        if not route.variants:
            return None
        key = (route.workflow, route.tier.key)
        vr = self._variants.get(key)
        if vr is None:
            vr = self._variants[key] = VariantRouter(route.variants)
        return dict(vr.pick_pools())

    def shares(self, route, step) -> SmoothWeightedRoundRobin:
        """The round-robin over `step`'s pool shares on `route`."""
        key = (route.workflow, route.tier.key, step.task)
        rr = self._steps.get(key)
        if rr is None:
            rr = self._steps[key] = SmoothWeightedRoundRobin([s.share for s in step.pools])
        return rr

    def pool(self, route, step, variant: Mapping[str, str] | None = None) -> str:
        """The pool for one call of `step`: the request's variant's, else by the step's shares."""
        if variant is not None and step.task in variant:
            return variant[step.task]
        return step.pools[self.shares(route, step).pick()].pool
