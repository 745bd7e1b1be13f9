"""The planning MILP against an exhaustive oracle and hand calculations."""

import math
import random

import pytest

from murakkab.optimizer.milp import (ConfigChoice, Group, InfeasibleProblem, PoolCandidate, Problem, StepOption,
                                     solve)
from tests.optimizer.exhaustive import brute_force


def random_problem(rng: random.Random, objective: str) -> Problem:
    pools = {}
    for i in range(rng.randint(2, 4)):
        hw = rng.choice(["A", "B"])
        busy = rng.uniform(200, 800)
        pools[f"p{i}"] = PoolCandidate(id=f"p{i}", hardware=hw, units=rng.choice([1, 2, 4]), power_busy_w=busy,
                                       power_idle_w=rng.uniform(20, 0.5 * busy), node_overhead_w=rng.uniform(0, 100),
                                       price_usd_per_hour=rng.uniform(1, 10),
                                       family=rng.choice(["m", "m", ""]))  # same family: dominance may drop pools
    groups = []
    for gi in range(rng.randint(1, 2)):
        configs = []
        for ci in range(rng.randint(1, 2)):
            steps = {}
            for t in ("a", "b"):
                chosen = rng.sample(sorted(pools), rng.randint(1, 2))
                steps[t] = tuple(StepOption(pool=p, latency_s=rng.uniform(0.5, 3), busy_s=rng.uniform(0.1, 2),
                                            busy_s_avg=rng.uniform(0.05, 1)) for p in chosen)
            configs.append(ConfigChoice(id=f"c{ci}", accuracy=rng.uniform(50, 90), steps=steps))
        latency = rng.choice([None, rng.uniform(2, 5)])
        groups.append(Group(id=f"g{gi}", rate_peak=rng.uniform(0.5, 4), rate_avg=rng.uniform(0.2, 2),
                            configs=tuple(configs), paths=(("a", "b"),), latency_max_s=latency))
    budgets = {"A": rng.randint(4, 30)} if rng.random() < 0.5 else {}
    return Problem(groups=tuple(groups), pools=pools, objective=objective, epoch_h=1.0, pue=1.2,
                   budgets=budgets, allow_split=False, mip_rel_gap=0.0,
                   cost_budget_usd=rng.uniform(20, 200) if objective == "accuracy" else None)


@pytest.mark.parametrize("objective", ["energy", "cost", "accuracy"])
def test_milp_matches_exhaustive_enumeration(objective):
    rng = random.Random(7 if objective == "energy" else 11 if objective == "cost" else 13)
    checked = feasible = 0
    while checked < 40:
        problem = random_problem(rng, objective)
        expected = brute_force(problem)
        checked += 1
        if expected is None:
            with pytest.raises(InfeasibleProblem):
                solve(problem)
            continue
        feasible += 1
        got = solve(problem)
        actual = got.objective_value
        assert actual == pytest.approx(expected, rel=1e-6, abs=1e-6), (problem, got)
    assert feasible >= 20  # the sample must exercise real optima, not only infeasible cases


def test_dominated_pool_is_dropped_and_the_optimum_kept():
    # "big" holds as many units, costs no more and serves every use at least as well: "small" goes.
    small = PoolCandidate("small", "H", 2, 500, 100, 50, 4.0, family="m")
    big = PoolCandidate("big", "H", 2, 450, 100, 50, 4.0, family="m")
    opts = (StepOption("small", 1.0, 0.5, 0.5), StepOption("big", 2.0, 0.4, 0.4))
    g = Group("g", 2.0, 1.0, (ConfigChoice("c", 70, {"t": opts}),), (("t",),))
    problem = Problem((g,), {"small": small, "big": big}, alpha=1.0, mip_rel_gap=0.0)
    from murakkab.optimizer.milp import drop_dominated_pools
    kept = drop_dominated_pools(problem)
    assert [o.pool for o in kept.groups[0].configs[0].steps["t"]] == ["big"]
    # with a latency SLO of 1.5 s, "big" is too slow for this group: nothing may be dropped
    timed = Problem((Group("g", 2.0, 1.0, (ConfigChoice("c", 70, {"t": opts}),), (("t",),), latency_max_s=1.5),),
                    {"small": small, "big": big})
    assert drop_dominated_pools(timed) is timed
    assert solve(problem).objective_value == pytest.approx(brute_force(problem), rel=1e-9)


def test_dominated_configuration_is_dropped_for_energy_not_for_accuracy():
    from murakkab.optimizer.milp import drop_dominated_configs
    pool = PoolCandidate("p", "H", 1, 500, 100, 0, 2.0)
    light = ConfigChoice("light", 60, {"t": (StepOption("p", 1.0, 0.5, 0.5),)})
    heavy = ConfigChoice("heavy", 80, {"t": (StepOption("p", 2.0, 1.0, 1.0),)})
    g = Group("g", 1.0, 1.0, (heavy, light), (("t",),))
    energy = Problem((g,), {"p": pool})
    assert [c.id for c in drop_dominated_configs(energy).groups[0].configs] == ["light"]
    accuracy = Problem((g,), {"p": pool}, objective="accuracy", cost_budget_usd=100.0)
    assert drop_dominated_configs(accuracy) is accuracy


def test_hand_calculated_energy_and_instances():
    # One pool: 3 req/s peak x 0.5 instance-s per request x alpha 1.0 = 1.5 busy instances -> 2 instances.
    pool = PoolCandidate(id="p", hardware="H", units=4, power_busy_w=1000, power_idle_w=200, node_overhead_w=50,
                         price_usd_per_hour=10)
    opt = StepOption(pool="p", latency_s=1.0, busy_s=0.5, busy_s_avg=0.25)
    g = Group(id="g", rate_peak=3.0, rate_avg=2.0, configs=(ConfigChoice(id="c", accuracy=70, steps={"t": (opt,)}),),
              paths=(("t",),))
    sol = solve(Problem(groups=(g,), pools={"p": pool}, objective="energy", epoch_h=2.0, pue=1.5, alpha=1.0))
    assert sol.instances == {"p": 2}
    # idle+node: 2 x 250 W x 2 h = 1000 Wh; busy: 2 req/s x 0.25 = 0.5 busy instances x 800 W x 2 h = 800 Wh
    assert sol.energy_wh == pytest.approx(1.5 * (1000 + 800))
    assert sol.cost_usd == pytest.approx(2 * 10 * 2.0)


def test_split_spills_over_a_budget():
    # The efficient pool's hardware allows one instance; the rest must spill to the other pool.
    fast = PoolCandidate(id="fast", hardware="H", units=8, power_busy_w=500, power_idle_w=100, node_overhead_w=0,
                         price_usd_per_hour=1)
    slow = PoolCandidate(id="slow", hardware="A", units=8, power_busy_w=900, power_idle_w=100, node_overhead_w=0,
                         price_usd_per_hour=1)
    opts = (StepOption("fast", 1.0, 1.0, 1.0), StepOption("slow", 1.0, 1.0, 1.0))
    g = Group(id="g", rate_peak=1.5, rate_avg=1.5, configs=(ConfigChoice("c", 70, {"t": opts}),), paths=(("t",),))
    sol = solve(Problem(groups=(g,), pools={"fast": fast, "slow": slow}, alpha=1.0, budgets={"H": 8},
                        mip_rel_gap=0.0))
    assert sol.instances == {"fast": 1, "slow": 1}
    assert sol.shares[("g", "t", "fast")] == pytest.approx(1 / 1.5)
    assert sol.shares[("g", "t", "slow")] == pytest.approx(0.5 / 1.5)
    with pytest.raises(InfeasibleProblem):
        solve(Problem(groups=(g,), pools={"fast": fast, "slow": slow}, alpha=1.0, allow_split=False,
                      budgets={"H": 8, "A": 8}))


def test_latency_slo_excludes_slow_options():
    pools = {p: PoolCandidate(p, "H", 1, 300, 50, 0, 1) for p in ("quick", "cheap")}
    steps = {"t": (StepOption("quick", 1.0, 1.0, 1.0), StepOption("cheap", 3.0, 0.2, 0.2))}
    loose = Group("g", 1, 1, (ConfigChoice("c", 80, steps),), (("t",),), latency_max_s=None)
    tight = Group("g", 1, 1, (ConfigChoice("c", 80, steps),), (("t",),), latency_max_s=2.0)
    assert set(solve(Problem((loose,), pools)).instances) == {"cheap"}
    assert set(solve(Problem((tight,), pools)).instances) == {"quick"}
    assert math.isclose(sum(solve(Problem((tight,), pools)).shares.values()), 1.0)


def _renamed(problem: Problem, tag: str) -> Problem:
    """The same problem with its pools and groups renamed, so two copies share nothing."""
    from dataclasses import replace
    pools = {f"{tag}{p}": replace(c, id=f"{tag}{p}") for p, c in problem.pools.items()}
    groups = tuple(replace(g, id=f"{tag}{g.id}", configs=tuple(
        replace(c, steps={t: tuple(replace(o, pool=f"{tag}{o.pool}") for o in opts) for t, opts in c.steps.items()})
        for c in g.configs)) for g in problem.groups)
    return replace(problem, groups=groups, pools=pools)


def test_independent_parts_are_solved_apart_with_the_same_optimum():
    from dataclasses import replace
    from murakkab.optimizer.milp import independent_parts
    rng = random.Random(21)
    checked = 0
    while checked < 8:
        a = replace(random_problem(rng, "energy"), budgets={})
        b = replace(random_problem(rng, "energy"), budgets={})
        ea, eb = brute_force(a), brute_force(b)
        if ea is None or eb is None:
            continue
        checked += 1
        both = replace(a, groups=_renamed(a, "x").groups + _renamed(b, "y").groups,
                       pools={**_renamed(a, "x").pools, **_renamed(b, "y").pools})
        parts = independent_parts(both)
        # groups connect only through pools: the two copies are apart, each copy's groups stay together
        assert len(parts) >= 2
        assert all({g.id[0] for g in part.groups} in ({"x"}, {"y"}) for part in parts)
        got = solve(both)
        assert got.objective_value == pytest.approx(ea + eb, rel=1e-6)
        # the parts solved at once on two threads: the same optimum
        assert solve(replace(both, threads=2)).objective_value == pytest.approx(ea + eb, rel=1e-6)
        assert got.objective_value == pytest.approx(brute_force(both), rel=1e-6)
        assert set(got.config) == {g.id for g in both.groups}


def test_budgets_and_shared_pools_keep_one_part():
    from dataclasses import replace
    from murakkab.optimizer.milp import independent_parts
    pool = PoolCandidate("p", "H", 1, 500, 100, 0, 2.0)
    other = PoolCandidate("q", "H", 1, 500, 100, 0, 2.0)
    g1 = Group("g1", 1.0, 1.0, (ConfigChoice("c", 70, {"t": (StepOption("p", 1.0, 0.5, 0.5),)}),), (("t",),))
    g2 = Group("g2", 1.0, 1.0, (ConfigChoice("c", 70, {"t": (StepOption("q", 1.0, 0.5, 0.5),)}),), (("t",),))
    g3 = Group("g3", 1.0, 1.0, (ConfigChoice("c", 70, {"t": (StepOption("p", 1.0, 0.5, 0.5),
                                                              StepOption("q", 1.0, 0.5, 0.5))}),), (("t",),))
    apart = Problem((g1, g2), {"p": pool, "q": other})
    assert [[g.id for g in part.groups] for part in independent_parts(apart)] == [["g1"], ["g2"]]
    # g3 may use both pools: it joins g1 and g2 into one part
    assert len(independent_parts(replace(apart, groups=(g1, g2, g3)))) == 1
    # a hardware budget spans every pool of its type: no split
    assert len(independent_parts(replace(apart, budgets={"H": 10}))) == 1


def test_combined_gap_is_the_gap_of_the_sums():
    from murakkab.optimizer.milp import Solution, _combine

    def part(obj, gap, group):
        return Solution("Optimal", {group: "c"}, {}, {}, {}, obj, obj, 0.0, gap, 0.1, 1, 1, 1)

    # bounds 99 and 300 against objectives 100 and 300: (400 - 399) / 400
    s = _combine([part(100.0, 0.01, "a"), part(300.0, 0.0, "b")])
    assert s.objective_value == 400.0 and s.mip_gap == pytest.approx(1 / 400)
    assert s.config == {"a": "c", "b": "c"} and s.variables == 2


def test_every_route_runs_on_pools_with_instances_and_each_step_is_fully_routed():
    # split routing and latency variants (the combination formulation): no share may sit on a pool
    # rounded to zero instances, and each step's shares and each group's variants add up to 1
    from dataclasses import replace
    rng = random.Random(5)
    for _ in range(30):
        problem = replace(random_problem(rng, "energy"), allow_split=True, mip_rel_gap=1e-6)
        try:
            sol = solve(problem)
        except InfeasibleProblem:
            continue
        steps: dict[tuple[str, str], float] = {}
        for (gid, task, pool), share in sol.shares.items():
            assert share > 0 and sol.instances.get(pool, 0) > 0
            steps[(gid, task)] = steps.get((gid, task), 0.0) + share
        assert all(v == pytest.approx(1.0) for v in steps.values())
        for gid, items in sol.variants.items():
            assert sum(share for share, _ in items) == pytest.approx(1.0)
            assert all(sol.instances.get(p, 0) > 0 for _, pools in items for p in pools.values())


def test_a_start_is_taken_as_the_first_incumbent():
    # with no time to search, HiGHS can only return the plan it was given: the start must map onto the
    # model's columns (configurations, shares, variants, instances) as a feasible point
    from dataclasses import replace
    rng = random.Random(17)
    checked = 0
    while checked < 10:
        problem = replace(random_problem(rng, "energy"), allow_split=True, budgets={})
        try:
            best = solve(problem)
        except InfeasibleProblem:
            continue
        checked += 1
        again = solve(replace(problem, time_limit_s=1e-6), start=best)
        assert again.objective_value == pytest.approx(best.objective_value, rel=1e-9)
