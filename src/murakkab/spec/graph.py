"""Pure graph maths over a DAG given as `node -> predecessors` (nodes in a fixed, meaningful order)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def successors_of(preds: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Invert a predecessor map; each successor list follows the node order of `preds`."""
    succ: dict[str, list[str]] = {n: [] for n in preds}
    for node, ps in preds.items():
        for p in ps:
            if node not in succ[p]:
                succ[p].append(node)
    return {n: tuple(s) for n, s in succ.items()}


def find_cycle(preds: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One cycle as a closed walk in data-flow order (`[a, b, a]` means a feeds b feeds a), or None.

    Search starts from nodes in the map's order, so the reported cycle is deterministic.
    """
    succ = successors_of(preds)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in preds:
        if root in state:
            continue
        path: list[str] = [root]
        stack = [iter(succ[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(succ[nxt]))
    return None


def topological_order(preds: Mapping[str, Sequence[str]]) -> list[str]:
    """Kahn's order; among ready nodes the earliest in map order goes first. ValueError on a cycle."""
    order_index = {n: i for i, n in enumerate(preds)}
    remaining = {n: len(set(ps)) for n, ps in preds.items()}
    succ = successors_of(preds)
    ready = sorted((n for n, k in remaining.items() if k == 0), key=order_index.__getitem__)
    out: list[str] = []
    while ready:
        node = ready.pop(0)
        out.append(node)
        for s in succ[node]:
            remaining[s] -= 1
            if remaining[s] == 0:
                ready.append(s)
                ready.sort(key=order_index.__getitem__)
    if len(out) != len(preds):
        raise ValueError(f"graph has a cycle: {' -> '.join(find_cycle(preds) or [])}")
    return out


def all_paths(preds: Mapping[str, Sequence[str]]) -> list[tuple[str, ...]]:
    """Every path from a source (no predecessors) to a sink (no successors), in topological order."""
    succ = successors_of(preds)
    order = topological_order(preds)
    paths: list[tuple[str, ...]] = []

    def extend(path: tuple[str, ...]) -> None:
        nxt = succ[path[-1]]
        if not nxt:
            paths.append(path)
        for s in nxt:
            extend(path + (s,))

    for node in order:
        if not preds[node]:
            extend((node,))
    return paths


def critical_path(preds: Mapping[str, Sequence[str]], weight: Mapping[str, float]) -> tuple[float, tuple[str, ...]]:
    """The heaviest source-to-sink path by summed node weight: (total, path). Ties keep the earlier path."""
    best: dict[str, tuple[float, tuple[str, ...]]] = {}
    for node in topological_order(preds):
        base = max((best[p] for p in dict.fromkeys(preds[node])), key=lambda b: b[0], default=(0.0, ()))
        best[node] = (base[0] + float(weight[node]), base[1] + (node,))
    if not best:
        return 0.0, ()
    return max(best.values(), key=lambda b: b[0])


def heaviest_of(paths: Iterable[Sequence[str]], weight: Mapping[str, float]) -> float:
    """The largest summed weight among the given paths (a node without a weight counts 0); 0.0 for none.
    For callers that hold a DAG's path list already (the optimizer's configurations)."""
    return max((sum(weight.get(n, 0.0) for n in p) for p in paths), default=0.0)


def depths(preds: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Edges on the longest path reaching each node from a source (0 for sources), in map order."""
    depth: dict[str, int] = {}
    for node in topological_order(preds):
        depth[node] = 1 + max((depth[p] for p in preds[node]), default=-1)
    return {n: depth[n] for n in preds}
