"""The workflow spec as typed data: what a developer writes, in YAML or in Python.

A spec names steps and data flow only. Models and hardware appear solely as preferences
(`prefer` / `forbid`); knobs may be fixed, but the executor, model, batch size and machine are the
optimizer's choice. The same objects come out of the YAML loader and out of `WorkflowBuilder`, so
both forms are equal when they describe the same workflow.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from murakkab.errors import SpecError

KnobValue = StrictInt | StrictStr

#: Prefix of a task input source that names a workflow input (`inputs.video`).
INPUT_PREFIX = "inputs."


class Preferences(BaseModel):
    """Models and hardware to prefer or forbid for one task (catalogue ids)."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    models: list[StrictStr] = Field(default_factory=list)
    hardware: list[StrictStr] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.models and not self.hardware


class TaskSpec(BaseModel):
    """One step: a capability, where each of its input ports reads from, and optional preferences.

    `inputs` maps a port of the capability to `inputs.<name>` (a workflow input) or `<task>`
    (another task's output).

    A step may instead be written as a plain sentence, `does`, with the sources it `reads` (no port
    names: they depend on the capability). `murakkab compile` resolves it to a capability, an
    `executor` and a port mapping (`spec/sentences.py`); a resolved step keeps its sentence for the
    reader. `executor`, when given, pins one executor of the capability.
    """
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: StrictStr
    capability: StrictStr | None = None
    does: StrictStr | None = None
    executor: StrictStr | None = None
    reads: list[StrictStr] = Field(default_factory=list)
    inputs: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    prefer: Preferences = Field(default_factory=Preferences)
    forbid: Preferences = Field(default_factory=Preferences)
    knobs: dict[StrictStr, KnobValue] = Field(default_factory=dict)


class WorkflowSpec(BaseModel):
    """A whole workflow: typed inputs (name -> catalogue type), tasks in any order, and the output task."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: StrictStr
    description: StrictStr = ""
    inputs: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    tasks: list[TaskSpec]
    output: StrictStr

    def to_data(self) -> dict:
        """Plain data in the YAML layout, without empty optional sections."""
        data: dict = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["inputs"] = dict(self.inputs)
        tasks = []
        for t in self.tasks:
            item: dict = {"name": t.name}
            if t.does is not None:
                item["does"] = t.does
            if t.capability is not None:
                item["capability"] = t.capability
            if t.executor is not None:
                item["executor"] = t.executor
            if t.reads:
                item["reads"] = list(t.reads)
            if t.inputs or t.capability is not None:
                item["inputs"] = dict(t.inputs)
            for key in ("prefer", "forbid"):
                pref: Preferences = getattr(t, key)
                if not pref.is_empty():
                    item[key] = {k: list(v) for k, v in (("models", pref.models), ("hardware", pref.hardware)) if v}
            if t.knobs:
                item["knobs"] = dict(t.knobs)
            tasks.append(item)
        data["tasks"] = tasks
        data["output"] = self.output
        return data

    def to_yaml(self) -> str:
        """The spec as YAML text that `parse_spec` reads back to an equal spec."""
        from murakkab.spec.yaml_io import dump_yaml
        return dump_yaml(self.to_data())


class WorkflowBuilder:
    """Write a spec in Python: declare inputs, add tasks, then `build(output)`.

    >>> wf = WorkflowBuilder("qa", inputs={"prompt": "text"})
    >>> answer = wf.task("answer", "chat", prompt=wf.input("prompt"))
    >>> spec = wf.build(output=answer)

    `task` returns the task's name, so it can be passed on as another task's source. Nothing is
    checked here: `build_workflow` (or `load_workflow`) validates against the catalogue.
    """

    def __init__(self, name: str, *, inputs: dict[str, str] | None = None, description: str = ""):
        self.name, self.description = name, description
        self.inputs: dict[str, str] = dict(inputs or {})
        self.tasks: list[TaskSpec] = []

    @staticmethod
    def input(name: str) -> str:
        """The source string for a workflow input."""
        return f"{INPUT_PREFIX}{name}"

    def task(self, name: str, capability: str, *, prefer: dict | None = None, forbid: dict | None = None,
             knobs: dict | None = None, **inputs: str) -> str:
        try:
            self.tasks.append(TaskSpec(name=name, capability=capability, inputs=inputs,
                                       prefer=Preferences(**(prefer or {})), forbid=Preferences(**(forbid or {})),
                                       knobs=dict(knobs or {})))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "task"
            raise SpecError(f"'{where}': {err['msg'].lower()} (got {err['input']!r})", task=name,
                            fix="prefer/forbid take 'models' and 'hardware' lists; knobs map names to int or str"
                            ) from None
        return name

    def step(self, name: str, does: str, *reads: str) -> str:
        """A step written as a sentence that reads the given sources (`input(...)` or task names);
        `murakkab.orchestrator` resolves it to a capability and ports."""
        self.tasks.append(TaskSpec(name=name, does=does, reads=list(reads)))
        return name

    def build(self, output: str) -> WorkflowSpec:
        return WorkflowSpec(name=self.name, description=self.description, inputs=self.inputs,
                            tasks=list(self.tasks), output=output)
