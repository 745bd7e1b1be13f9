"""Hardware budgets mean what they say: a budget of 0 is that hardware left out, feasibility only grows
with the budgets, and an infeasible answer names a budget whose suggested value does plan."""

import random

import pytest

from murakkab.errors import MurakkabError
from murakkab.optimizer import InfeasiblePlan, PlanRequest, make_plan
from murakkab.optimizer.api import Demand

GPUS = ("A100-80GB", "H100-80GB")
CPU = "CPU-64C"
# small worlds: two workflows, one accuracy and one latency tier each (the latency tier makes the
# queueing top-up run, which is where budgets used to lose feasible plans)
WORLDS = [
    {("video_qa", "accuracy:good"): Demand(3.0, 2.0), ("code_gen", "latency:fair"): Demand(2.0, 1.0)},
    {("code_gen", "accuracy:good"): Demand(4.0, 2.0), ("video_qa", "latency:fair"): Demand(1.5, 1.0)},
]


def _plan(demand, **kw):
    """The plan, or the refusal (InfeasiblePlan; or, when a zero budget leaves a workflow's tools
    nowhere to run, the workflow model's own error naming the steps)."""
    try:
        return make_plan(PlanRequest(demand=demand, mip_rel_gap=1e-2, **kw))
    except MurakkabError as exc:
        return exc


def _used(plan) -> dict[str, int]:
    return {**plan.totals.gpus_by_type, **plan.totals.cpu_nodes_by_type}


def _random_budgets(rng: random.Random, need: dict[str, int]) -> dict[str, int]:
    out = {}
    for h in (*GPUS, CPU):
        if rng.random() < 0.7:
            out[h] = rng.choice([0, 0, max(1, need.get(h, 0) // 2), need.get(h, 0), need.get(h, 0) + 3,
                                 2 * need.get(h, 0) + 5])
    if all(v == 0 for v in out.values()) and out:
        out[rng.choice(GPUS)] = 50
    return out


@pytest.mark.parametrize("world", range(len(WORLDS)))
def test_zero_budget_is_the_hardware_left_out_and_feasibility_grows_with_budgets(world):
    demand = WORLDS[world]
    free = _plan(demand)
    assert not isinstance(free, InfeasiblePlan)
    need = _used(free)
    rng = random.Random(world)
    for _ in range(5):
        budgets = _random_budgets(rng, need)
        got = _plan(demand, budgets=budgets)
        # the same request on the GPUs the budgets allow, without their zero budgets (`hardware` always
        # keeps the CPU types, so a CPU budget, 0 included, stays a budget)
        allowed = tuple(h for h in GPUS if budgets.get(h) != 0)
        rest = {h: n for h, n in budgets.items() if n > 0 or h == CPU}
        if not allowed:
            continue
        subset = _plan(demand, hardware=allowed, budgets=rest)
        assert isinstance(got, MurakkabError) == isinstance(subset, MurakkabError), (budgets, got, subset)
        if isinstance(got, MurakkabError):
            continue
        assert all(_used(got).get(h, 0) <= n for h, n in budgets.items())
        # more of any budget (or none at all) never loses the plan
        for h in budgets:
            for more in ({**budgets, h: budgets[h] + rng.randint(1, 40)}, {k: v for k, v in budgets.items() if k != h}):
                bigger = _plan(demand, budgets=more)
                assert not isinstance(bigger, MurakkabError), (budgets, more, bigger)


def test_the_budget_an_explanation_suggests_does_plan():
    demand = WORLDS[0]
    need = _used(_plan(demand))
    short = {h: need.get(h, 0) // 3 + 1 for h in GPUS}     # too few of both: nothing to spill to
    exc = _plan(demand, budgets=short)
    assert isinstance(exc, InfeasiblePlan)
    assert any(f"{h} (budget {short[h]})" in str(exc) for h in GPUS)
    suggested = str(exc).split("nearest feasible budget: ")[1].split(" (")[0]
    budgets = {k: int(v) for k, v in (kv.split("=") for kv in suggested.split(", "))}
    assert not isinstance(_plan(demand, budgets=budgets), InfeasiblePlan)


def test_a_lone_zero_budget_plans_on_the_other_hardware():
    demand = WORLDS[0]
    plan = _plan(demand, budgets={"H100-80GB": 0})
    assert not isinstance(plan, InfeasiblePlan) and plan.totals.gpus_by_type.get("H100-80GB", 0) == 0
    alone = _plan(demand, hardware=("A100-80GB",))
    assert plan.totals.gpus_by_type == alone.totals.gpus_by_type


def test_zero_on_every_usable_type_is_refused_naming_the_budgets():
    with pytest.raises(MurakkabError, match=r"budget of 0 .*A100-80GB=0"):
        make_plan(PlanRequest(demand=WORLDS[0], hardware=("A100-80GB",), budgets={"A100-80GB": 0, "CPU-64C": 0}))
