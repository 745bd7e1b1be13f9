"""Graph maths on small hand-drawn DAGs (expected orders and paths enumerated by hand)."""

import pytest

from murakkab.spec import graph

# a -> b -> d, a -> c -> d, c -> e  (given as node -> predecessors)
DIAMOND = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c"), "e": ("c",)}


def test_topological_order_keeps_given_order_among_ready_nodes():
    assert graph.topological_order(DIAMOND) == ["a", "b", "c", "d", "e"]
    # Listed in reverse, a is still first; then ready nodes by listing order (c before b).
    rev = dict(reversed(list(DIAMOND.items())))
    assert graph.topological_order(rev) == ["a", "c", "e", "b", "d"]


def test_all_source_to_sink_paths():
    assert sorted(graph.all_paths(DIAMOND)) == [("a", "b", "d"), ("a", "c", "d"), ("a", "c", "e")]


def test_two_sources_each_start_paths():
    preds = {"x": (), "y": (), "z": ("x", "y")}
    assert sorted(graph.all_paths(preds)) == [("x", "z"), ("y", "z")]


def test_critical_path_is_the_heaviest_path():
    w = {"a": 1, "b": 5, "c": 2, "d": 1, "e": 3}
    # a-b-d = 7, a-c-d = 4, a-c-e = 6
    assert graph.critical_path(DIAMOND, w) == (7.0, ("a", "b", "d"))
    w["e"] = 10  # a-c-e = 13
    assert graph.critical_path(DIAMOND, w) == (13.0, ("a", "c", "e"))


def test_find_cycle_and_topological_order_refuses_it():
    preds = {"a": ("c",), "b": ("a",), "c": ("b",), "d": ()}
    assert graph.find_cycle(preds) == ["a", "b", "c", "a"]
    assert graph.find_cycle(DIAMOND) is None
    with pytest.raises(ValueError, match="a -> b -> c -> a"):
        graph.topological_order(preds)


def test_successors_are_inverted_predecessors():
    assert graph.successors_of(DIAMOND) == {"a": ("b", "c"), "b": ("d",), "c": ("d", "e"), "d": (), "e": ()}


def test_depths_are_edges_on_the_longest_path_from_a_source():
    # a -> b -> d -> e, a -> c -> d, and the shortcut a -> d: d sits after b, not beside it
    preds = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c", "a"), "e": ("d",)}
    assert graph.depths(preds) == {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3}


def test_heaviest_of_given_paths():
    paths = [("a", "b", "d"), ("a", "c", "d")]
    assert graph.heaviest_of(paths, {"a": 1, "b": 5, "c": 2, "d": 1}) == 7      # 1 + 5 + 1 by hand
    assert graph.heaviest_of(paths, {"c": 2}) == 2                              # missing nodes weigh 0
    assert graph.heaviest_of([], {"a": 1}) == 0.0
