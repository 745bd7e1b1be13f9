"""Steps written as sentences (`does:`): which steps still need resolving, what a resolution of one
says, and how resolutions turn a spec into an ordinary one that `build_workflow` type-checks.

    - name: scenes
      does: detect scenes in each video
      reads: [inputs.video]

A resolver (the orchestrator LLM or the deterministic matcher, `murakkab.orchestrator`) proposes a
`StepResolution` per sentence step: an executor (its capability follows) and which port reads which
source. The developer's data flow is binding: a resolution must use every source the step reads
and nothing else. The resolved step keeps its sentence, so `--write` leaves the spec readable and
the next load needs no resolver.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from murakkab.catalog import Catalog
from murakkab.errors import SpecError
from murakkab.names import did_you_mean
from murakkab.spec.logical import parse_source
from murakkab.spec.model import TaskSpec, WorkflowSpec
from murakkab.spec.yaml_io import SourceMap


@dataclass(frozen=True)
class SentenceStep:
    """An unresolved step: its name, its sentence and the sources it reads (no ports yet)."""
    name: str
    does: str
    reads: tuple[str, ...]


class StepResolution(BaseModel):
    """One resolver's answer for one sentence step."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    task: str
    executor: str
    inputs: dict[str, str]                      # port -> source (`inputs.<name>` or a task name)
    how: str = ""                               # e.g. "orchestrator LLM, try 2" or "matcher"
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


def sentence_steps(spec: WorkflowSpec) -> list[SentenceStep]:
    """Steps written as a sentence and not yet resolved (no capability), in spec order."""
    return [SentenceStep(t.name, t.does, tuple(t.reads)) for t in spec.tasks
            if t.does is not None and t.capability is None]


def source_types(spec: WorkflowSpec, catalog: Catalog) -> dict[str, str | None]:
    """The type of every source a step may read: each workflow input, and each resolved step's
    output (None for a step still written as a sentence)."""
    out: dict[str, str | None] = {f"inputs.{n}": typ for n, typ in spec.inputs.items()}
    for t in spec.tasks:
        cap = catalog.capabilities.get(t.capability) if t.capability else None
        out[t.name] = cap.output if cap else None
    return out


def apply_resolutions(spec: WorkflowSpec, resolutions: list[StepResolution], catalog: Catalog,
                      source: SourceMap | None = None) -> WorkflowSpec:
    """The spec with every sentence step bound as its resolution says. Raises one SpecError (naming
    the task) when a resolution is missing, repeated, names an unknown executor, or changes the
    step's data flow. Types, ports and cycles are left to `build_workflow`."""
    src = source or SourceMap(file=None)
    steps = {s.name: s for s in sentence_steps(spec)}
    index = {t.name: i for i, t in enumerate(spec.tasks)}
    by_task: dict[str, StepResolution] = {}
    for r in resolutions:
        if r.task not in steps:
            raise SpecError(f"a resolution names '{r.task}', which is not a step written as a sentence",
                            file=src.file, fix=f"resolve only the sentence steps: {', '.join(steps) or 'none'}")
        if r.task in by_task:
            raise SpecError("the step is resolved twice", file=src.file, task=r.task,
                            fix="give one executor and port mapping per sentence step")
        by_task[r.task] = r
    missing = [n for n in steps if n not in by_task]
    if missing:
        raise SpecError(f"no resolution for sentence step(s) {', '.join(missing)}", file=src.file, task=missing[0],
                        fix="resolve every step that has 'does:' and no capability")
    tasks: list[TaskSpec] = []
    for t in spec.tasks:
        r = by_task.get(t.name)
        if r is None:
            tasks.append(t)
            continue
        where = src.line(("tasks", index[t.name]))
        ex = catalog.executors.get(r.executor)
        if ex is None:
            raise SpecError(f"unknown executor '{r.executor}' for '{t.does}'", file=src.file, line=where,
                            task=t.name, fix=f"pick a catalogue executor; {did_you_mean(r.executor, catalog.executors)}")
        used, reads = set(r.inputs.values()), set(t.reads)
        if used != reads:
            extra, unused = sorted(used - reads), sorted(reads - used)
            parts = ([f"reads {', '.join(extra)}, which the step does not read"] if extra else []) + \
                    ([f"leaves {', '.join(unused)} unread"] if unused else [])
            raise SpecError(f"the port mapping changes the step's data flow: it {' and '.join(parts)}",
                            file=src.file, line=where, task=t.name,
                            fix=f"map ports of '{ex.capability}' to exactly the sources in reads: "
                                f"{', '.join(t.reads) or 'none'}")
        for s in r.inputs.values():
            kind, name = parse_source(s)
            if kind == "task" and name == t.name:
                raise SpecError("the step reads its own output", file=src.file, line=where, task=t.name,
                                fix="a step reads workflow inputs or other steps only")
        tasks.append(t.model_copy(update={"capability": ex.capability, "executor": ex.name,
                                          "inputs": dict(r.inputs), "reads": []}))
    return spec.model_copy(update={"tasks": tasks})
