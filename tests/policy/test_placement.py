"""The placement decisions on small worlds worked out by hand."""

import pytest

from murakkab.errors import MurakkabError
from murakkab.policy.placement import (Placement, Strand, WaitingCall, drain, pick_instance, rebalance,
                                       strand)
from murakkab.policy.view import InstanceInfo


def inst(iid, load=0, ready=True, draining=False, pool="p"):
    return InstanceInfo(iid, pool, ready, draining, load)


def test_pick_instance_least_loaded_first_on_ties():
    assert pick_instance([inst("a", 2), inst("b", 1), inst("c", 1)]) == "b"
    assert pick_instance([inst("a", 0), inst("b", 0)]) == "a"
    assert pick_instance([]) is None


def test_pick_instance_avoids_failed_instances_until_all_failed():
    ids = [inst("a", 0), inst("b", 3), inst("c", 5)]
    assert pick_instance(ids, {"a"}) == "b"
    assert pick_instance(ids, {"a", "b"}) == "c"
    # every one failed this call: a new round over all of them, least loaded first
    assert pick_instance(ids, {"a", "b", "c"}) == "a"


def test_rebalance_deals_the_queue_oldest_first_to_the_least_loaded():
    # A (1 slot) runs call 1 and queues calls 2, 3, 4 (load 4); B joins empty. Kept loads: A 1, B 0.
    # Call 2 -> B (0 < 1), call 3 -> A (tie 1/1: A comes first), call 4 -> B (A 2, B 1).
    q = [WaitingCall(f"c{k}", 0.0) for k in (2, 3, 4)]
    d = rebalance("p", [inst("A", 4), inst("B", 0)], [], {"A": q})
    assert d.placements == (Placement("c2", "B"), Placement("c3", "A"), Placement("c4", "B"))


def test_rebalance_orders_by_submission_time_across_sources():
    # pending calls (for any instance) at 2 s and 5 s, A's queue at 1 s and 4 s, B's queue at 3 s;
    # every instance keeps 1 call in service, C is new. Order 1,2,3,4,5 s; loads start A 1, B 1, C 0.
    pending = [WaitingCall("p2", 2.0), WaitingCall("p5", 5.0)]
    queued = {"A": [WaitingCall("a1", 1.0), WaitingCall("a4", 4.0)], "B": [WaitingCall("b3", 3.0)]}
    d = rebalance("p", [inst("A", 3), inst("B", 2), inst("C", 0)], pending, queued)
    # 1 s -> C (0); 2 s -> A (1,1,1: first); 3 s -> B (2,1,1); 4 s -> C (2,2,1); 5 s -> A (2,2,2)
    assert [(p.key, p.instance) for p in d.placements] == [("a1", "C"), ("p2", "A"), ("b3", "B"), ("a4", "C"),
                                                           ("p5", "A")]


def test_rebalance_ties_in_time_keep_pending_then_queues_in_routing_order():
    pending = [WaitingCall("p", 7.0)]
    queued = {"B": [WaitingCall("b", 7.0)], "A": [WaitingCall("a", 7.0)]}
    d = rebalance("p", [inst("A", 2), inst("B", 2), inst("N", 0)], pending, queued)
    assert [p.key for p in d.placements] == ["p", "a", "b"]


def test_rebalance_needs_an_instance():
    with pytest.raises(MurakkabError, match="pool 'p'"):
        rebalance("p", [], [WaitingCall("x", 0.0)], {})


def test_drain_takes_provisioning_instances_first_then_least_loaded():
    insts = [inst("a", 3), inst("b", 1), inst("c", 0, ready=False), inst("d", 1), inst("e", 0, draining=True)]
    d = drain("p", insts, 2)
    assert d.victims == ("c", "b") and not d.strand_pending     # c provisioning; b before d (same load)
    d3 = drain("p", insts, 3)
    assert d3.victims == ("c", "b", "d")
    everything = drain("p", insts, 4)
    assert everything.victims == ("c", "b", "d", "a") and everything.strand_pending
    assert drain("p", insts, 10).victims == ("c", "b", "d", "a")
    with pytest.raises(MurakkabError, match="cannot drain -1"):
        drain("p", insts, -1)


def _never():
    raise AssertionError("no pick expected")


def test_strand_waits_while_an_instance_is_provisioning():
    assert strand("t2", "tool", [inst("x", ready=False)], [("t3", "tool")], _never) == Strand("t2", "wait")


def test_strand_moves_a_call_off_a_retired_pool_by_the_steps_shares():
    retired = [inst("x", 2, draining=True)]
    picks = iter([1, 0])
    step = [("t3", "tool"), ("t4", "tool")]
    assert strand("t2", "tool", retired, step, lambda: next(picks)) == Strand("t2", "reroute", "t4")
    assert strand("t2", "tool", retired, step, lambda: next(picks)) == Strand("t2", "reroute", "t3")


def test_strand_never_moves_to_the_same_pool_or_another_kind():
    retired = [inst("x", draining=True)]
    # the share pick lands on the retired pool itself: the first other pool of the same kind instead
    assert strand("t2", "tool", retired, [("t2", "tool"), ("t5", "tool")], lambda: 0) == Strand("t2", "reroute", "t5")
    assert strand("t2", "tool", retired, [("m", "model")], _never) == Strand("t2", "nowhere")
    assert strand("t2", "tool", retired, None, _never) == Strand("t2", "nowhere")
    assert strand("t2", "tool", [], [("t2", "tool")], _never) == Strand("t2", "nowhere")
