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


def mismatch(wf: LogicalWorkflow, builtins: dict[str, LogicalWorkflow]) -> str:
    """How `wf`'s DAG differs from the nearest built-in (most tasks with the same name and capability)."""
    shape = dag_shape(wf)

    def shared(name: str) -> int:
        other = dag_shape(builtins[name])
        return sum(1 for t, (cap, _) in shape.items() if t in other and other[t][0] == cap)
    near = max(sorted(builtins), key=shared)
    other = dag_shape(builtins[near])
    diffs = []
    if extra := sorted(set(shape) - set(other)):
        diffs.append(f"tasks not in it: {extra}")
    if missing := sorted(set(other) - set(shape)):
        diffs.append(f"its tasks missing: {missing}")
    for t in sorted(set(shape) & set(other)):
        if shape[t][0] != other[t][0]:
            diffs.append(f"task '{t}' is {shape[t][0]}, not {other[t][0]}")
        elif shape[t][1] != other[t][1]:
            diffs.append(f"task '{t}' follows {list(shape[t][1])}, not {list(other[t][1])}")
    return f"nearest built-in '{near}': " + "; ".join(diffs)
