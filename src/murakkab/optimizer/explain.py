"""Infeasible is an answer: name the binding constraint and the nearest feasible tier or budget."""

from __future__ import annotations

from dataclasses import replace

from murakkab.errors import MurakkabError
from murakkab.optimizer import milp
from murakkab.optimizer.tiers import fastest_latency


class InfeasiblePlan(MurakkabError):
    """No plan meets every constraint. The message says which constraint binds and what would fit."""


def _nearest_accuracy_tier(tiers, workflow: str, achievable: float) -> str:
    fits = [t for t in tiers if t.metric == "accuracy" and t.threshold <= achievable + 1e-9]
    if not fits:
        return "none (no configuration reaches even the basic tier)"
    best = max(fits, key=lambda t: t.threshold)
    return f"accuracy:{best.name} (>= {best.threshold:g}%)"


def _nearest_latency_tier(tiers, achievable: float) -> str:
    fits = [t for t in tiers if t.metric == "latency" and t.threshold >= achievable - 1e-9]
    if not fits:
        return f"none of the derived tiers; a latency SLO of {achievable:.2f} s or more is feasible"
    best = min(fits, key=lambda t: t.threshold)
    return f"latency:{best.name} (<= {best.threshold:g} s)"


def _without_budgets(req, asm):
    """The plan the request would get with no hardware budgets (its solution and pool candidates), sized
    the way the real plan is: with the queueing bound's top-ups when the request has it on. None when
    even that has no plan."""
    from murakkab.optimizer.api import group_id, solve_queueing, wait_probability
    objective = "cost" if req.objective == "accuracy" else asm.problem.objective
    # a budget of 0 takes its type out of the world (as `hardware` does): it stays out here
    zero = {h: 0 for h, n in req.budgets.items() if n == 0}
    if req.policy != "static" and wait_probability(req) < 1.0:
        ids = {g.id for g in asm.problem.groups}
        pairs = sorted(k for k in req.demand if group_id(*k) in ids)
        try:
            asm_free, sol = solve_queueing(replace(req, budgets=zero, objective=objective, cost_budget_usd=None), pairs)
        except MurakkabError:
            return None, None
        return sol, asm_free.problem.pools
    try:
        sol = milp.solve(replace(asm.problem, budgets=zero, objective=objective, cost_budget_usd=None))
    except milp.InfeasibleProblem:
        return None, None
    return sol, asm.problem.pools


def explain(req, asm, exc: Exception) -> str:
    """Why `asm.problem` has no solution: per-group SLOs first, then budgets, then the cost budget."""
    from murakkab.optimizer.api import eligible_configs
    from murakkab.optimizer.tiers import derive_tiers
    problems = []
    for g in asm.problem.groups:
        tier = asm.tiers[g.id]
        w = tier.workflow
        model = asm.models[w]
        tiers = derive_tiers(model)
        if tier.metric == "accuracy":
            best = max(c.profile.accuracy_percent for c in model.configs)
            if best < tier.threshold - 1e-9:
                problems.append(f"{w}: the accuracy SLO >= {tier.threshold:g}% binds: the best configuration "
                                f"reaches {best:g}%; nearest feasible tier: {_nearest_accuracy_tier(tiers, w, best)}")
            continue
        configs = eligible_configs(model, tier)
        if not configs:
            problems.append(f"{w}: the accuracy floor {tier.accuracy_floor:g}% of latency tiers binds: no "
                            "configuration reaches it")
            continue
        fastest = min((lat, c.id) for c in configs if (lat := fastest_latency(c)) is not None)
        if fastest[0] > tier.threshold + 1e-9:
            problems.append(f"{w}: the latency SLO <= {tier.threshold:g} s binds: the fastest configuration meeting "
                            f"the accuracy floor takes {fastest[0]:.2f} s ({fastest[1]}); nearest feasible tier: "
                            f"{_nearest_latency_tier(tiers, fastest[0])}")
    if problems:
        zero = sorted(h for h, n in req.budgets.items() if n == 0)
        where = (f" on the hardware the budgets allow ({', '.join(f'{h} budget 0' for h in zero)}: raise it "
                 f"or relax the tier)") if zero else ""
        return f"no plan meets every SLO{where}. " + " | ".join(problems)
    # Every group can be served alone: a budget binds. Solve without hardware budgets to size the need.
    if asm.problem.budgets:
        free, pools = _without_budgets(req, asm)
        if free is not None:
            need: dict[str, int] = {}
            for pid, n in free.instances.items():
                p = pools[pid]
                need[p.hardware] = need.get(p.hardware, 0) + n * p.units
            over = {h: need.get(h, 0) for h, cap in asm.problem.budgets.items() if need.get(h, 0) > cap}
            text = ", ".join(f"{h}={n}" for h, n in sorted(need.items()))
            binding = ", ".join(f"{h} (budget {asm.problem.budgets[h]})" for h in sorted(over)) or \
                "the combination of hardware budgets"
            zero = sorted(h for h, n in req.budgets.items() if n == 0)
            without = "Without budgets" + (f" (other than {', '.join(f'{h}=0' for h in zero)})" if zero else "")
            return (f"no plan fits the hardware budgets: {binding} binds. {without} the plan uses {text}; "
                    f"nearest feasible budget: {text} (or relax the tiers)")
    if req.objective == "accuracy" and req.cost_budget_usd is not None:
        try:
            cheapest = milp.solve(replace(asm.problem, objective="cost", cost_budget_usd=None))
            return (f"the cost budget ${req.cost_budget_usd:,.2f} per epoch binds: the cheapest plan meeting every "
                    f"SLO costs ${cheapest.cost_usd:,.2f}; nearest feasible budget: ${cheapest.cost_usd:,.2f}")
        except milp.InfeasibleProblem:
            pass
    return f"no plan meets every constraint ({exc}); try relaxing tiers or budgets"
