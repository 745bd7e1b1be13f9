"""The planner is bounded: Erlang C sizing at any load in O(log) steps, demand no fleet could hold
refused before the MILP with the reason, a time limit over every solve, and a stop request."""

import math

import pytest
from scipy.stats import norm

from murakkab.optimizer import Demand, InfeasiblePlan, PlanRequest, SolveStopped, make_plan
from murakkab.optimizer import milp
from murakkab.optimizer.limits import MAX_FLEET_UNITS, fleet_too_large, least_units
from murakkab.optimizer.queueing import erlang_c, instances_for_wait


def erlang_c_by_recursion(servers: int, offered: float) -> float:
    """Erlang B by its textbook recursion B(k) = a·B(k−1) / (k + a·B(k−1)), then C from B."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1.0 - rho + rho * b)


@pytest.mark.parametrize("servers, offered", [(20_000, 19_800.0), (50_000, 49_700.5), (3_000, 2_990.0)])
def test_erlang_c_at_thousands_of_servers_matches_the_recursion(servers, offered):
    assert erlang_c(servers, offered) == pytest.approx(erlang_c_by_recursion(servers, offered), rel=1e-9)


def test_sizing_a_million_erlangs_agrees_with_square_root_staffing():
    # Halfin–Whitt: with s = a + β√a servers, P(wait) → 1 / (1 + β·Φ(β)/φ(β)) as a grows
    a, eps = 1e6, 0.01
    n = instances_for_wait(1, a, eps)
    beta = (n - a) / math.sqrt(a)
    assert 1 / (1 + beta * norm.cdf(beta) / norm.pdf(beta)) == pytest.approx(eps, rel=0.03)
    assert erlang_c(n, a) <= eps < erlang_c(n - 1, a)          # the fewest that meet the bound


def test_sizing_many_slots_per_instance_is_the_fewest_instances():
    for slots, offered in [(8, 4_000.3), (256, 123_456.0), (3, 17.0)]:
        n = instances_for_wait(slots, offered, 0.01)
        assert erlang_c_by_recursion(n * slots, offered) <= 0.01 < erlang_c_by_recursion((n - 1) * slots, offered)


def test_the_least_fleet_of_a_hand_built_group():
    # one configuration of two steps; step a on a 2-GPU pool (1.5 instance-s per request) or a 1-GPU pool
    # (4 instance-s): 3 GPU-s vs 4 GPU-s, so 3; step b on a CPU node, 0.5 s: the least is 3.5 units-s per
    # request, × alpha 1.2 × 10 requests/s = 42 units
    pools = {p: milp.PoolCandidate(id=p, hardware="H", units=u, power_busy_w=1, power_idle_w=1, node_overhead_w=0,
                                   price_usd_per_hour=1) for p, u in (("two", 2), ("one", 1), ("cpu", 1))}
    steps = {"a": (milp.StepOption("two", 1, 1.5, 1.5), milp.StepOption("one", 1, 4.0, 4.0)),
             "b": (milp.StepOption("cpu", 1, 0.5, 0.5),)}
    group = milp.Group(id="w/accuracy:good", rate_peak=10.0, rate_avg=5.0,
                       configs=(milp.ConfigChoice(id="c", accuracy=90, steps=steps),), paths=(("a", "b"),))
    assert least_units(group, pools, alpha=1.2) == pytest.approx(42.0)
    problem = milp.Problem(groups=(group,), pools=pools, alpha=1.2)
    assert fleet_too_large(problem) is None
    huge = milp.Problem(groups=(milp.Group(**{**group.__dict__, "rate_peak": MAX_FLEET_UNITS / 4}),), pools=pools,
                        alpha=1.2)
    assert "2,000,000" in fleet_too_large(huge)


@pytest.mark.parametrize("rate", [1e6, 1e308])
def test_a_rate_no_budget_could_hold_is_refused_with_the_reason(rate):
    with pytest.raises(InfeasiblePlan, match="the 2,000,000") as err:
        make_plan(PlanRequest(demand={("reasoning", "latency:good"): Demand(rate, rate)}))
    assert "reasoning latency:good" in str(err.value) and "lower the request rates" in str(err.value)


def test_a_large_rate_under_the_bound_is_planned():
    plan = make_plan(PlanRequest(demand={("reasoning", "latency:good"): Demand(1e4, 1e4)}, mip_rel_gap=1e-2))
    assert sum(plan.totals.gpus_by_type.values()) > 1000


NIGHT = {("reasoning", "latency:good"): Demand(0.5, 0.4), ("code_gen", "accuracy:good"): Demand(0.5, 0.4)}


def test_a_stop_request_ends_planning_with_a_clear_error():
    with pytest.raises(SolveStopped, match="asked it to stop"):
        make_plan(PlanRequest(demand=NIGHT), stop=lambda: True)


def test_a_stop_request_interrupts_a_running_solve():
    asked = []

    def stop() -> bool:            # false at the check before the first solve, true once HiGHS asks
        asked.append(1)
        return len(asked) > 1
    # one (workflow, tier): one MILP part, so every later question comes from HiGHS' interrupt points
    with pytest.raises(SolveStopped):
        make_plan(PlanRequest(demand={("reasoning", "latency:good"): Demand(0.5, 0.4)}), stop=stop)
    assert len(asked) >= 2


def test_a_time_limit_too_short_for_any_plan_is_named_not_called_infeasible():
    with pytest.raises(SolveStopped, match="time limit of 1e-06 s"):
        make_plan(PlanRequest(demand=NIGHT, time_limit_s=1e-6))


@pytest.mark.parametrize("limit", [0.0, -1.0, math.inf, math.nan])
def test_a_bad_time_limit_is_refused(limit):
    from murakkab.errors import MurakkabError
    with pytest.raises(MurakkabError, match="time limit"):
        make_plan(PlanRequest(demand=NIGHT, time_limit_s=limit))
