from __future__ import annotations

from dataclasses import dataclass

import pytest

from murakkab.errors import MurakkabError
from murakkab.policy.router import SmoothWeightedRoundRobin, least_loaded


def test_shares_are_met_exactly_over_a_full_cycle_and_interleaved():
    rr = SmoothWeightedRoundRobin([0.5, 0.3, 0.2])
    picks = [rr.pick() for _ in range(1000)]
    assert [picks.count(i) for i in range(3)] == [500, 300, 200]
    # every prefix stays within one pick of its share (no bursts)
    for n in (7, 33, 101, 555):
        for i, s in enumerate((0.5, 0.3, 0.2)):
            assert abs(picks[:n].count(i) - n * s) <= 1.0


def test_single_pool_and_bad_shares():
    assert {SmoothWeightedRoundRobin([1.0]).pick() for _ in range(5)} == {0}
    with pytest.raises(MurakkabError, match="positive"):
        SmoothWeightedRoundRobin([0.5, 0.0])
    with pytest.raises(MurakkabError):
        SmoothWeightedRoundRobin([])


@dataclass
class Inst:
    name: str
    load: int


def test_least_loaded_with_ties_to_the_first():
    a, b_, c = Inst("a", 3), Inst("b", 1), Inst("c", 1)
    assert least_loaded([a, b_, c]) is b_
    assert least_loaded([]) is None


def test_variant_router_picks_whole_variants_by_share():
    from murakkab.plan.schema import RouteVariant
    from murakkab.policy.router import VariantRouter
    vs = [RouteVariant(share=0.6, pools={"a": "p1", "b": "q2"}), RouteVariant(share=0.4, pools={"a": "p2", "b": "q1"})]
    vr = VariantRouter(vs)
    picks = [vr.pick_pools() for _ in range(100)]
    assert sum(p == {"a": "p1", "b": "q2"} for p in picks) == 60
    assert sum(p == {"a": "p2", "b": "q1"} for p in picks) == 40
    assert vr.pools(1) == {"a": "p2", "b": "q1"}
    with pytest.raises(MurakkabError, match="at least one route variant"):
        VariantRouter([])
