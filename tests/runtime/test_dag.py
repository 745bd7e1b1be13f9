import asyncio

import pytest

from murakkab.errors import MurakkabError
from murakkab.runtime.dag import StepFailed, run_dag

DIAMOND_EDGES = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
DIAMOND = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}


def test_every_step_runs_after_its_producers_and_independent_steps_overlap():
    order, in_flight, peak = [], 0, 0

    async def run(name):
        nonlocal in_flight, peak
        order.append(("start", name))
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        order.append(("end", name))
        return name.upper()

    out = asyncio.run(run_dag(DIAMOND, run))
    assert out == {"a": "A", "b": "B", "c": "C", "d": "D"}
    pos = {e: i for i, e in enumerate(order)}
    for a, b in DIAMOND_EDGES:
        assert pos[("end", a)] < pos[("start", b)]
    assert peak == 2          # b and c ran at once


def test_a_failing_step_is_named_and_its_siblings_are_cancelled():
    cancelled = []

    async def run(name):
        if name == "b":
            raise ValueError("boom")
        if name == "c":
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled.append("c")
                raise
        return name

    with pytest.raises(StepFailed) as err:
        asyncio.run(run_dag(DIAMOND, run))
    assert err.value.step == "b" and "boom" in str(err.value)
    assert cancelled == ["c"]
