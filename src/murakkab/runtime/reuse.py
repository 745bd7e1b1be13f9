"""Which profiled (built-in) workflow an uploaded workflow can be planned as.

Workflow profiles (configuration -> accuracy, tokens per call) are measured per built-in workflow and
keyed by its name and task names. An uploaded workflow with the same DAG (the same task names, each
bound to the same capability, with the same edges) is the same computation under another name, so
it is planned with that built-in's profiles; any other DAG has no profile to plan from.
"""

from __future__ import annotations

from murakkab.spec import LogicalWorkflow


def dag_shape(wf: LogicalWorkflow) -> dict[str, tuple[str, tuple[str, ...]]]:
    """task -> (capability, sorted predecessors)."""
    return {n: (t.capability, tuple(sorted(t.predecessors))) for n, t in wf.tasks.items()}


def same_dag_as(wf: LogicalWorkflow, builtins: dict[str, LogicalWorkflow]) -> str | None:
    """The name of the first built-in (by name) whose DAG equals `wf`'s, else None."""
    shape = dag_shape(wf)
    return next((name for name in sorted(builtins) if dag_shape(builtins[name]) == shape), None)


def nearest(wf: LogicalWorkflow, builtins: dict[str, LogicalWorkflow]) -> str:
    """The built-in whose DAG is closest to `wf`'s: most tasks paired by capability (what a task
    computes, whatever it is called), then most of those also of the same name, then the least
    difference in size; the name only breaks a full tie."""
    shape = dag_shape(wf)

    def score(name: str) -> tuple[int, int, int]:
        other = dag_shape(builtins[name])
        pairs = _pairs(shape, other)
        same_name = sum(1 for mine, theirs in pairs.items() if mine == theirs)
        return len(pairs), same_name, -abs(len(shape) - len(other))
    return min(sorted(builtins), key=lambda name: tuple(-x for x in score(name)))


def _pairs(shape: dict, other: dict) -> dict[str, str]:
    """`wf` task -> built-in task: same name and capability first, then the remaining tasks of one
    capability in name order."""
    pairs = {t: t for t, (cap, _) in shape.items() if t in other and other[t][0] == cap}
    left = sorted(t for t in other if t not in pairs.values())
    for t in sorted(t for t in shape if t not in pairs):
        match = next((o for o in left if other[o][0] == shape[t][0]), None)
        if match is not None:
            pairs[t] = match
            left.remove(match)
    return pairs


def mismatch(wf: LogicalWorkflow, builtins: dict[str, LogicalWorkflow]) -> str:
    """How `wf`'s DAG differs from the nearest built-in (`nearest`), as the edits that would make it
    reuse that built-in's profiles."""
    near = nearest(wf, builtins)
    shape, other = dag_shape(wf), dag_shape(builtins[near])
    pairs = _pairs(shape, other)
    diffs = [f"task '{t}' ({shape[t][0]}) is '{o}' there" for t, o in sorted(pairs.items()) if t != o]
    if extra := sorted(t for t in shape if t not in pairs):
        diffs.append("tasks not in it: " + ", ".join(f"'{t}' ({shape[t][0]})" for t in extra))
    if missing := sorted(o for o in other if o not in pairs.values()):
        diffs.append("its tasks missing: " + ", ".join(f"'{o}' ({other[o][0]})" for o in missing))
    for t, o in sorted(pairs.items()):
        after = sorted(pairs.get(p, p) for p in shape[t][1])
        if tuple(after) != other[o][1]:
            diffs.append(f"task '{t}' follows {list(shape[t][1])}, not {list(other[o][1])}")
    return f"nearest built-in '{near}': " + "; ".join(diffs)
