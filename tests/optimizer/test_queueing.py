"""The Erlang C queueing bound: the formula against the textbook sum, the instance count against an
exhaustive search, and plans that meet it (and, with the bound off, do not)."""

from math import factorial

import pytest

from murakkab.errors import MurakkabError
from murakkab.optimizer import Demand, PlanRequest, make_plan
from murakkab.optimizer.check import check_plan
from murakkab.optimizer.queueing import erlang_c, instances_for_wait


def textbook_c(c: int, a: float) -> float:
    """Erlang C by its closed form: (a^c/c! · c/(c−a)) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c−a))."""
    top = a ** c / factorial(c) * c / (c - a)
    return top / (sum(a ** k / factorial(k) for k in range(c)) + top)


def test_erlang_c_by_hand_and_against_the_closed_form():
    assert erlang_c(1, 0.3) == pytest.approx(0.3)            # M/M/1: an arrival waits with probability ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)          # (1/2·2) / (1 + 1 + 1) by hand
    for c, a in [(4, 2.7), (8, 6.53), (16, 7.54), (32, 20.0)]:
        assert erlang_c(c, a) == pytest.approx(textbook_c(c, a), rel=1e-9)
    assert erlang_c(4, 0.0) == 0.0 and erlang_c(4, 4.0) == 1.0 and erlang_c(4, 9.0) == 1.0


def test_instances_for_wait_is_the_smallest_count_that_meets_the_bound():
    for slots, offered, eps in [(4, 3.13, 0.01), (8, 17.48, 0.01), (4, 10.17, 0.05), (16, 0.5, 0.01), (1, 0.0, 0.2)]:
        n = instances_for_wait(slots, offered, eps)
        first = 1 if offered == 0 else next(k for k in range(1, 40)
                                            if offered < k * slots and textbook_c(k * slots, offered) <= eps)
        assert n == first


@pytest.mark.parametrize("args", [(4, 1.0, 0.0), (4, 1.0, 1.5), (0, 1.0, 0.1)])
def test_bad_inputs_are_refused(args):
    with pytest.raises(MurakkabError):
        instances_for_wait(*args)


# the demo's night hour: video_qa, code_gen, reasoning at 0.54 request/s each, 70 % accuracy:good,
# 30 % latency:good, instances sized for forecast × 1.3 (the demo's peak factor)
NIGHT = {(w, t): Demand(peak_rps=0.54 * s * 1.3, avg_rps=0.54 * s)
         for w in ("video_qa", "code_gen", "reasoning") for t, s in (("accuracy:good", 0.7), ("latency:good", 0.3))}


@pytest.mark.parametrize("policy", ["joint", "per-workflow"])
def test_plans_meet_the_wait_bound_and_the_checker(policy):
    plan = make_plan(PlanRequest(demand=NIGHT, policy=policy, mip_rel_gap=1e-2))
    assert plan.latency_wait_probability == pytest.approx(0.01)
    assert check_plan(plan) == []          # capacity, tiers and the wait bound, on the checker's own loads
    # under the bound no pool is shared by a latency tier and an accuracy tier (joint: latency copies)
    for p in plan.pools:
        kinds = {u.tier.split(":")[0] for u in p.users}
        assert len(kinds) <= 1, p.id


def test_without_the_bound_a_small_latency_pool_lets_calls_wait():
    plan = make_plan(PlanRequest(demand=NIGHT, mip_rel_gap=1e-2, latency_wait_probability=1.0))
    # the same plan held to the default bound by the independent checker
    problems = check_plan(plan.model_copy(update={"latency_wait_probability": 0.01}))
    # e.g. whisper: 1 instance × 4 slots at 0.68 instance-s/s × alpha 1.15 = 3.1 Erlangs: C(4, 3.1) ≈ 0.37
    assert any("whisper_stt" in p for p in problems)


def test_a_bad_wait_probability_is_refused():
    with pytest.raises(MurakkabError, match="wait probability"):
        make_plan(PlanRequest(demand=NIGHT, latency_wait_probability=0.0))


def test_the_plan_reports_the_solver_time_of_every_queueing_pass(monkeypatch):
    from murakkab.optimizer import milp
    real, seen = milp.solve, []

    def counted(problem, **kwargs):
        sol = real(problem, **kwargs)
        seen.append(sol.solve_time_s)
        return sol

    monkeypatch.setattr(milp, "solve", counted)
    plan = make_plan(PlanRequest(demand=NIGHT, mip_rel_gap=1e-2))
    assert len(seen) >= 2          # the night plan needs a top-up, so at least one more pass runs
    assert plan.solve[0].solve_time_s == pytest.approx(sum(seen))


def test_the_checker_holds_a_plan_to_its_own_wait_bound():
    plan = make_plan(PlanRequest(demand=NIGHT, mip_rel_gap=1e-2))
    assert check_plan(plan) == []
    # the same pools judged against a far stricter bound than they were sized for: the checker objects
    strict = plan.model_copy(update={"latency_wait_probability": 1e-9})
    problems = check_plan(strict)
    assert problems and all("waits with probability" in p for p in problems)


def test_budgets_too_tight_for_the_bound_are_named_not_broken():
    from murakkab.optimizer import InfeasiblePlan
    free = make_plan(PlanRequest(demand=NIGHT, mip_rel_gap=1e-2, latency_wait_probability=1.0))
    with_bound = make_plan(PlanRequest(demand=NIGHT, mip_rel_gap=1e-2))
    assert sum(with_bound.totals.gpus_by_type.values()) > sum(free.totals.gpus_by_type.values())
    # every GPU type capped at what the plan without the bound uses: the bound cannot fit, so no plan
    # is returned (never one that breaks the bound or a budget), and the error says what to change
    budgets = {hw: n for hw, n in free.totals.gpus_by_type.items()}
    budgets.update({hw: 0 for hw in ("H100-80GB", "A100-80GB", "H200-141GB", "H100-80GB-CAP70")
                    if hw not in budgets})
    with pytest.raises(InfeasiblePlan) as err:
        make_plan(PlanRequest(demand=NIGHT, mip_rel_gap=1e-2, budgets=budgets))
    assert "latency_wait_probability" in str(err.value) or "budget" in str(err.value)
