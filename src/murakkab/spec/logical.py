"""LogicalWorkflow: a validated spec as a typed DAG whose tasks list their candidate executors.

Built only by `murakkab.spec.build.build_workflow`, which guarantees: every source resolves, port
types match, the graph is acyclic, and every task keeps at least one candidate executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from murakkab.catalog.schema import KnobValue
from murakkab.errors import SpecError
from murakkab.names import did_you_mean
from murakkab.spec import graph
from murakkab.spec.model import INPUT_PREFIX, Preferences, TaskSpec, WorkflowSpec


@dataclass(frozen=True)
class Binding:
    """Where one input port reads from: a workflow input or another task's output, with its type."""
    source: str                       # as written in the spec: "inputs.video" or "scenes"
    kind: Literal["input", "task"]
    name: str                         # the workflow input's or the task's name
    type: str                         # the catalogue type flowing along this edge


@dataclass(frozen=True)
class Candidate:
    """One executor that can run a task, narrowed by the task's preferences and fixed knobs.

    `models` is in catalogue order with forbidden models removed (empty for tools); `knobs` maps each
    knob to its remaining domain; `hardware` lists the allowed catalogue hardware it may be placed on
    (tools: hardware of a kind in their placements; model executors: GPUs).
    """
    executor: str
    kind: Literal["llm", "composition", "tool"]
    models: tuple[str, ...]
    knobs: dict[str, tuple[KnobValue, ...]]
    hardware: tuple[str, ...]


@dataclass(frozen=True)
class TaskNode:
    name: str
    capability: str
    bindings: dict[str, Binding]      # port -> source, in the spec's order
    output_type: str
    candidates: tuple[Candidate, ...]
    prefer: Preferences
    forbid: Preferences
    knobs: dict[str, KnobValue]       # values fixed by the spec
    line: int | None = field(default=None, compare=False)
    does: str | None = field(default=None, compare=False)       # the sentence it was written as
    executor: str | None = field(default=None, compare=False)   # pinned executor (already in candidates)

    @property
    def predecessors(self) -> tuple[str, ...]:
        """Tasks this one reads from, each once, in port order."""
        return tuple(dict.fromkeys(b.name for b in self.bindings.values() if b.kind == "task"))

    @property
    def preferred_models(self) -> tuple[str, ...]:
        return tuple(self.prefer.models)

    def to_spec(self) -> TaskSpec:
        return TaskSpec(name=self.name, capability=self.capability, does=self.does, executor=self.executor,
                        inputs={p: b.source for p, b in self.bindings.items()},
                        prefer=self.prefer, forbid=self.forbid, knobs=dict(self.knobs))


@dataclass(frozen=True)
class LogicalWorkflow:
    """A validated workflow DAG. `tasks` keeps the spec's order; use `topological_order()` to run it."""
    name: str
    description: str
    inputs: dict[str, str]            # workflow input -> catalogue type
    tasks: dict[str, TaskNode]
    output: str
    file: str | None = field(default=None, compare=False)

    # ---- structure ---------------------------------------------------------------------------
    @cached_property
    def _preds(self) -> dict[str, tuple[str, ...]]:
        return {n: t.predecessors for n, t in self.tasks.items()}

    @cached_property
    def _succs(self) -> dict[str, tuple[str, ...]]:
        return graph.successors_of(self._preds)

    def task(self, name: str) -> TaskNode:
        if name not in self.tasks:
            raise SpecError(f"workflow '{self.name}' has no task '{name}'; {did_you_mean(name, self.tasks)}")
        return self.tasks[name]

    def predecessors(self, name: str) -> tuple[str, ...]:
        return self.task(name).predecessors

    def successors(self, name: str) -> tuple[str, ...]:
        self.task(name)
        return self._succs[name]

    def topological_order(self) -> list[str]:
        """Task names so that every task follows the tasks it reads from (ties keep spec order)."""
        return graph.topological_order(self._preds)

    def paths(self) -> list[tuple[str, ...]]:
        """Every source-to-sink path of tasks: the candidates for the critical path."""
        return graph.all_paths(self._preds)

    def critical_path(self, latency: Mapping[str, float]) -> tuple[float, tuple[str, ...]]:
        """End-to-end latency given each task's latency (max over paths of the sum), and that path."""
        missing = [n for n in self.tasks if n not in latency]
        if missing:
            raise SpecError(f"no latency given for task(s) {', '.join(missing)} of workflow '{self.name}'",
                            fix="pass a latency for every task")
        return graph.critical_path(self._preds, latency)

    # ---- back to the spec ------------------------------------------------------------------------
    def to_spec(self) -> WorkflowSpec:
        return WorkflowSpec(name=self.name, description=self.description, inputs=dict(self.inputs),
                            tasks=[t.to_spec() for t in self.tasks.values()], output=self.output)

    def to_yaml(self) -> str:
        return self.to_spec().to_yaml()


def parse_source(source: str) -> tuple[Literal["input", "task"], str]:
    """Split a source string into ('input', name) for `inputs.<name>` or ('task', name)."""
    if source.startswith(INPUT_PREFIX):
        return "input", source[len(INPUT_PREFIX):]
    return "task", source
