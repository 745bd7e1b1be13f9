"""Demand that no fleet could serve, refused before the MILP runs.

A (workflow, tier) at peak rate r on a configuration whose steps hold pools for b_step
instance-seconds per request needs at least alpha × r × Σ_step b_step instances of those pools, and
so Σ units × that accelerators or CPU nodes, whatever the solver decides (sharing a pool adds loads,
it never removes any). The least such count over the tier's configurations and pools is a lower
bound on the fleet; when it exceeds `MAX_FLEET_UNITS` the rate is refused with that bound as the
reason, instead of asking HiGHS for a plan of millions of instances (or of an infinite number, for
a rate of 1e308 requests/s).
"""

from __future__ import annotations

import math

from murakkab.optimizer import milp

# Derived, not measured: ten times the largest GPU cluster reported in 2025 (xAI's Colossus,
# 200,000 GPUs as announced by xAI). A plan beyond it is not one any budget could hold.
MAX_FLEET_UNITS = 2_000_000


def least_units(group: milp.Group, pools: dict[str, milp.PoolCandidate], alpha: float) -> float:
    """The fewest accelerators plus CPU nodes that can carry the group's buffered peak on its best
    configuration (continuous: instance counts are not rounded up). 0 when it has no configuration."""
    best = math.inf
    for cfg in group.configs:
        need = sum(min((o.busy_s * pools[o.pool].units for o in opts), default=0.0) for opts in cfg.steps.values())
        best = min(best, need)
    if best == math.inf:
        return 0.0
    return alpha * group.rate_peak * best


def fleet_too_large(problem: milp.Problem, label=lambda gid: gid) -> str | None:
    """Why the problem's demand cannot be held by any fleet, or None when it might be. `label` turns a
    group id into the words the message uses."""
    need = {g.id: least_units(g, problem.pools, problem.alpha) for g in problem.groups}
    total = sum(need.values())
    if total <= MAX_FLEET_UNITS:          # False for inf and nan too
        return None
    worst = max(need, key=lambda gid: need[gid] if not math.isnan(need[gid]) else math.inf)
    rate = next(g.rate_peak for g in problem.groups if g.id == worst)
    if not math.isfinite(total):
        return (f"{label(worst)} at {rate:.4g} requests/s needs more accelerators and CPU nodes than can be counted, "
                f"far beyond the {MAX_FLEET_UNITS:,} (ten times the largest GPU cluster reported) that any budget "
                "could hold (fix: lower the request rates)")
    return (f"the demand needs at least {total:.3g} accelerators and CPU nodes on the least hardware-hungry "
            f"configurations ({label(worst)} at {rate:.4g} requests/s alone needs {need[worst]:.3g}), more than "
            f"the {MAX_FLEET_UNITS:,} (ten times the largest GPU cluster reported) that any budget could hold "
            f"(fix: lower the request rates)")
