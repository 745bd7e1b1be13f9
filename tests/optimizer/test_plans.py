"""Plans from the real catalogue: valid by an independent check, tiers, baselines, errors."""

import dataclasses
import json

import pytest

from murakkab.catalog import load_catalog

from murakkab.errors import MurakkabError
from murakkab.optimizer import Demand, InfeasiblePlan, PlanRequest, make_plan, tiers_for
from murakkab.optimizer.api import assemble
from murakkab.optimizer import milp
from murakkab.optimizer.check import check_plan
from murakkab.plan import Plan
from tests.optimizer.exhaustive import brute_force

GOOD = {("video_qa", "accuracy:good"): Demand(6.0, 4.0), ("video_qa", "latency:good"): Demand(3.0, 2.0),
        ("code_gen", "accuracy:fair"): Demand(3.0, 2.0), ("reasoning", "latency:fair"): Demand(2.0, 1.0)}


@pytest.mark.parametrize("objective", ["energy", "cost"])
@pytest.mark.parametrize("policy", ["joint", "per-workflow"])
def test_plans_pass_the_independent_checker(objective, policy):
    plan = make_plan(PlanRequest(demand=GOOD, objective=objective, policy=policy))
    assert check_plan(plan) == []
    # every (workflow, tier) asked for has a route, and the plan survives a JSON round trip
    assert {(r.workflow, r.tier.key) for r in plan.routes} == set(GOOD)
    assert Plan.from_json(plan.to_json()) == plan
    assert all(s.mip_gap <= 1e-3 + 1e-9 for s in plan.solve)


def test_accuracy_objective_respects_the_cost_budget_and_the_checker():
    cheapest = make_plan(PlanRequest(demand=GOOD, objective="cost"))
    budget = cheapest.totals.cost_usd_per_epoch * 1.5
    plan = make_plan(PlanRequest(demand=GOOD, objective="accuracy", cost_budget_usd=budget))
    assert plan.totals.cost_usd_per_epoch <= budget + 1e-6
    assert check_plan(plan) == []
    # more money can only buy accuracy, never lose it
    assert plan.totals.accuracy_percent_avg >= cheapest.totals.accuracy_percent_avg - 1e-9


def test_sharing_never_costs_more_than_solving_each_pair_alone():
    joint = make_plan(PlanRequest(demand=GOOD, objective="cost"))
    alone = make_plan(PlanRequest(demand=GOOD, objective="cost", policy="per-workflow"))
    # both within a 0.1% gap of their optimum; the joint problem contains every per-workflow plan
    assert joint.totals.cost_usd_per_epoch <= alone.totals.cost_usd_per_epoch * (1 + 2e-3)


def test_budget_is_respected_and_spills_to_other_hardware():
    free = make_plan(PlanRequest(demand=GOOD))
    h100 = free.totals.gpus_by_type.get("H100-80GB", 0)
    a100 = free.totals.gpus_by_type.get("A100-80GB", 0)
    assert h100 + a100 > 0
    assert a100 > 1
    # A100s are the slower GPU here: H100s can take over whatever half of them must give up.
    tight = {"A100-80GB": a100 // 2, "H100-80GB": 10_000}
    plan = make_plan(PlanRequest(demand=GOOD, budgets=tight))
    assert check_plan(plan, tight) == []
    assert plan.totals.gpus_by_type.get("A100-80GB", 0) <= a100 // 2
    assert plan.totals.gpus_by_type.get("H100-80GB", 0) > h100


@pytest.mark.parametrize("workflow", ["video_qa", "code_gen", "reasoning"])
def test_tiers_are_monotone_and_floors_hold(workflow):
    tiers = {t.key: t for t in tiers_for(workflow)}
    acc = [tiers[f"accuracy:{n}"].threshold for n in ("best", "good", "fair", "basic")]
    lat = [tiers[f"latency:{n}"].threshold for n in ("best", "good", "fair", "basic")]
    assert acc == sorted(acc, reverse=True)
    assert lat == sorted(lat)
    assert all(tiers[f"latency:{n}"].accuracy_floor == tiers["accuracy:basic"].threshold
               for n in ("best", "good", "fair", "basic"))


def test_every_derived_tier_alone_is_feasible():
    for w in ("video_qa", "code_gen", "reasoning"):
        for t in tiers_for(w):
            plan = make_plan(PlanRequest(demand={(w, t.key): Demand(1.0, 0.5)}))
            assert check_plan(plan) == [], (w, t.key)


def test_small_real_instance_matches_exhaustive_enumeration():
    req = PlanRequest(demand={("reasoning", "latency:good"): Demand(2.0, 1.0),
                              ("reasoning", "latency:best"): Demand(1.0, 0.5)}, mip_rel_gap=0.0)
    problem = dataclasses.replace(assemble(req).problem, allow_split=False, mip_rel_gap=0.0)
    expected = brute_force(problem)
    assert expected is not None
    assert milp.solve(problem).objective_value == pytest.approx(expected, rel=1e-6)


def test_impossible_accuracy_names_the_slo_and_the_nearest_tier():
    tiers = tiers_for("video_qa")
    impossible = [t.model_copy(update={"threshold": 99.0}) if t.key == "accuracy:best" else t for t in tiers]
    with pytest.raises(InfeasiblePlan) as err:
        make_plan(PlanRequest(demand={("video_qa", "accuracy:best"): Demand(1, 1)}, tiers={"video_qa": impossible}))
    text = str(err.value)
    assert "accuracy SLO >= 99%" in text and "nearest feasible tier: accuracy:" in text


def test_impossible_latency_names_the_fastest_achievable():
    tiers = [t.model_copy(update={"threshold": 0.5}) if t.key == "latency:best" else t for t in tiers_for("code_gen")]
    with pytest.raises(InfeasiblePlan) as err:
        make_plan(PlanRequest(demand={("code_gen", "latency:best"): Demand(1, 1)}, tiers={"code_gen": tiers}))
    assert "latency SLO <= 0.5 s binds" in str(err.value) and "nearest feasible tier: latency:best" in str(err.value)


def test_too_small_budget_names_the_budget_and_what_would_fit():
    with pytest.raises(InfeasiblePlan) as err:
        make_plan(PlanRequest(demand=GOOD, budgets={"H100-80GB": 1, "A100-80GB": 1}))
    text = str(err.value)
    assert "hardware budgets" in text and "nearest feasible budget" in text


def test_cost_budget_too_small_names_the_cheapest_plan():
    with pytest.raises(InfeasiblePlan) as err:
        make_plan(PlanRequest(demand=GOOD, objective="accuracy", cost_budget_usd=0.01))
    assert "cost budget" in str(err.value) and "cheapest plan" in str(err.value)


@pytest.mark.parametrize("bad, message", [
    (lambda: Demand(-1.0, 0.0), "must be >= 0"),
    (lambda: Demand(1.0, 2.0), "exceeds peak"),
    (lambda: make_plan(PlanRequest(demand={("video_qaa", "accuracy:good"): Demand(1, 1)})), "did you mean: video_qa"),
    (lambda: make_plan(PlanRequest(demand={("video_qa", "accuracy:great"): Demand(1, 1)})), "unknown tier"),
    (lambda: make_plan(PlanRequest(demand={})), "no demand given"),
    (lambda: make_plan(PlanRequest(demand=GOOD, budgets={h: 0 for h in load_catalog().hardware})),
     "every hardware type the request may use has a budget of 0"),
    (lambda: make_plan(PlanRequest(demand=GOOD, budgets={"H100": 3})), "unknown hardware 'H100'"),
    (lambda: make_plan(PlanRequest(demand=GOOD, pue=0.9)), "PUE must be >= 1"),
    (lambda: make_plan(PlanRequest(demand=GOOD, objective="accuracy")), "cost budget"),
    (lambda: make_plan(PlanRequest(demand=GOOD, solver_threads=0)), "solver threads must be at least 1"),
])
def test_bad_inputs_get_clear_errors(bad, message):
    with pytest.raises(MurakkabError) as err:
        bad()
    assert message in str(err.value)


def test_plan_cli_writes_json_and_refuses_bad_rates(tmp_path):
    from typer.testing import CliRunner
    from murakkab.cli import app
    out = tmp_path / "plan.json"
    ok = CliRunner().invoke(app, ["plan", "--rate", "reasoning:accuracy:fair=2/1", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(out.read_text())["routes"][0]["workflow"] == "reasoning"
    bad = CliRunner().invoke(app, ["plan", "--rate", "reasoning:accuracy:fair=-2", "--out", str(tmp_path / "x.json")])
    assert bad.exit_code == 2 and ">= 0" in bad.output
    assert not (tmp_path / "x.json").exists()


def test_latency_target_utilisation_reserves_headroom():
    demand = {("code_gen", "latency:good"): Demand(4.0, 2.0)}
    full = make_plan(PlanRequest(demand=demand))
    half = make_plan(PlanRequest(demand=demand, latency_target_utilisation=0.5))
    assert check_plan(half) == []
    # every pool holds at least twice its buffered peak load
    for p in half.pools:
        assert p.instances >= 2 * half.alpha * p.busy_s_per_s_peak - 1e-6
    assert sum(p.instances * p.units_per_instance for p in half.pools) > \
        sum(p.instances * p.units_per_instance for p in full.pools)
