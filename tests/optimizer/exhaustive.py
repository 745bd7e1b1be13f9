"""Brute-force oracle for small planning problems (no splitting: one pool per step).

Written independently of the MILP: it enumerates every configuration per group and every pool per
step, sizes each pool as ceil(peak busy load), checks latency paths and budgets, and evaluates the
objective directly from its definition.
"""

from __future__ import annotations

import itertools
import math

from murakkab.optimizer.milp import Problem


def brute_force(problem: Problem) -> float | None:
    """Best objective value over all no-split plans, or None if none is feasible."""
    per_group = []
    for g in problem.groups:
        choices = []
        for c in g.configs:
            tasks = sorted(c.steps)
            for combo in itertools.product(*(c.steps[t] for t in tasks)):
                chosen = dict(zip(tasks, combo))
                if g.latency_max_s is not None:
                    worst = max(sum(chosen[t].latency_s for t in path if t in chosen) for path in g.paths)
                    if worst > g.latency_max_s + 1e-9:
                        continue
                choices.append((c, chosen))
        per_group.append(choices)
    best = None
    T = problem.epoch_h
    total_rate = sum(g.rate_avg for g in problem.groups) or 1.0
    for plan in itertools.product(*per_group):
        peak: dict[str, float] = {}
        busy_energy = 0.0
        accuracy = 0.0
        for g, (c, chosen) in zip(problem.groups, plan):
            accuracy += g.rate_avg * c.accuracy / total_rate
            for o in chosen.values():
                peak[o.pool] = peak.get(o.pool, 0.0) + problem.alpha * g.rate_peak * o.busy_s
                p = problem.pools[o.pool]
                busy_energy += g.rate_avg * o.busy_s_avg * (p.power_busy_w - p.power_idle_w) * T
        n = {pid: math.ceil(load - 1e-9) for pid, load in peak.items()}
        used: dict[str, int] = {}
        for pid, k in n.items():
            used[problem.pools[pid].hardware] = used.get(problem.pools[pid].hardware, 0) + k * problem.pools[pid].units
        if any(used.get(hw, 0) > cap for hw, cap in problem.budgets.items()):
            continue
        energy = problem.pue * (busy_energy + sum(
            k * (problem.pools[pid].power_idle_w + problem.pools[pid].node_overhead_w) * T for pid, k in n.items()))
        cost = sum(k * problem.pools[pid].price_usd_per_hour * T for pid, k in n.items())
        if problem.objective == "energy":
            value = energy
        elif problem.objective == "cost":
            value = cost
        else:
            if cost > problem.cost_budget_usd + 1e-9:
                continue
            value = -(accuracy - 1e-3 * cost)  # maximise -> minimise the negative
        if best is None or value < best:
            best = value
    if best is not None and problem.objective == "accuracy":
        return -best
    return best
