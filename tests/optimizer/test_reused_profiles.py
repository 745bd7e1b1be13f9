"""A workflow that is not built in, planned with a built-in's workflow profiles (same tasks, capabilities
and edges): by symmetry it must get exactly what the built-in gets for the same demand."""

import dataclasses

from murakkab.optimizer import Demand, PlanRequest, make_plan, tiers_for
from murakkab.optimizer.api import ReusedWorkflow
from murakkab.optimizer.check import check_plan
from murakkab.spec import load_builtin


def test_a_copy_under_another_name_is_planned_like_the_builtin():
    copy = dataclasses.replace(load_builtin("reasoning"), name="my_reasoning")
    tiers = tiers_for(copy, profiles="reasoning")
    builtin_tiers = tiers_for("reasoning")
    assert [(t.key, t.threshold) for t in tiers] == [(t.key, t.threshold) for t in builtin_tiers]

    base = make_plan(PlanRequest(demand={("reasoning", "accuracy:good"): Demand(2.0, 1.0)}))
    name = "alice/my_reasoning"          # a tenant-scoped demand name
    mine = make_plan(PlanRequest(demand={(name, "accuracy:good"): Demand(2.0, 1.0)},
                                 workflows={name: ReusedWorkflow(copy, "reasoning")}))
    assert check_plan(mine) == []
    (r0,), (r1,) = base.routes, mine.routes
    assert r1.workflow == name and r1.tier.key == "accuracy:good"
    assert r1.knobs == r0.knobs and [(s.task, s.model) for s in r1.steps] == [(s.task, s.model) for s in r0.steps]
    assert mine.totals.energy_wh_per_request == base.totals.energy_wh_per_request
    assert any("alice/my_reasoning" in n and "'reasoning'" in n for n in mine.notes)
    assert not any("workflow profiles of" in n for n in base.notes)
