"""A Route is a DAG over its own steps, checked when it is built, with the graph maths of spec/graph."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.sim.conftest import llm_step, route


def _steps(*names):
    return [llm_step(n, [("m", 1.0)]) for n in names]


def test_order_and_critical_path_by_hand():
    # a -> b -> d, a -> c -> d: with a 1, b 5, c 2, d 1 the critical path is a, b, d = 7
    r = route(_steps("a", "b", "c", "d"), [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert r.predecessors() == {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}
    assert r.topological_order() == ["a", "b", "c", "d"]
    assert r.critical_path({"a": 1, "b": 5, "c": 2, "d": 1}) == (7.0, ("a", "b", "d"))
    assert r.critical_path({"a": 1, "c": 2}) == (3.0, ("a", "c"))    # steps that did not run weigh 0


@pytest.mark.parametrize("steps,edges,message", [
    (("a", "b"), [("a", "z")], r"edge \(a, z\) names unknown step\(s\) z; the steps are a, b"),
    (("a", "b"), [("a", "b"), ("b", "a")], r"cycle a -> b -> a"),
    (("a",), [("a", "a")], r"joins a step to itself"),
    (("a", "a"), [], r"step\(s\) a appear more than once"),
])
def test_bad_dags_are_refused_when_built(steps, edges, message):
    with pytest.raises(ValidationError, match=message):
        route(_steps(*steps), edges)


def test_a_variant_naming_an_unknown_step_is_refused():
    from murakkab.plan.schema import RouteVariant
    ok = route(_steps("a"), [])
    with pytest.raises(ValidationError, match=r"variant names unknown step\(s\) zz"):
        ok.model_validate({**ok.model_dump(), "variants": [RouteVariant(share=1.0, pools={"zz": "m"})]})


def test_a_plan_file_with_a_bad_edge_is_refused_with_the_route_named():
    from murakkab.plan.schema import Plan
    from tests.sim.conftest import model_pool, plan
    text = plan([route(_steps("a"), [])], [model_pool()]).to_json().replace('"edges": []', '"edges": [["a", "q"]]')
    with pytest.raises(ValidationError, match=r"route wf/latency:good: edge \(a, q\)"):
        Plan.from_json(text)
