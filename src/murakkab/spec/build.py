"""Validate a WorkflowSpec against the catalogue and build its LogicalWorkflow.

Checks run in a fixed order and stop at the first problem, so a bad spec yields exactly one
SpecError naming the file and line (when the spec came from YAML), the task, and the fix.
"""

from __future__ import annotations

import re

from murakkab.catalog import Catalog, load_catalog
from murakkab.catalog.schema import Capability, Executor
from murakkab.errors import SpecError
from murakkab.names import did_you_mean
from murakkab.spec import graph
from murakkab.spec.logical import Binding, Candidate, LogicalWorkflow, TaskNode, parse_source
from murakkab.spec.model import INPUT_PREFIX, Preferences, TaskSpec, WorkflowSpec
from murakkab.spec.yaml_io import Path, SourceMap

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _fmt(values) -> str:
    # Comma-separated, no brackets: messages are printed through rich, which reads [..] as markup.
    return ", ".join(str(v) for v in values)


class _Checker:
    def __init__(self, spec: WorkflowSpec, catalog: Catalog, source: SourceMap):
        self.spec, self.cat, self.src = spec, catalog, source

    def fail(self, message: str, path: Path, *, task: str | None = None, fix: str | None = None) -> SpecError:
        return SpecError(message, file=self.src.file, line=self.src.line(path), task=task, fix=fix)

    # ---- workflow level ----------------------------------------------------------------------
    def check_inputs(self) -> None:
        for name, typ in self.spec.inputs.items():
            if not _NAME.match(name):
                raise self.fail(f"workflow input name '{name}' is not a plain name", ("inputs", name),
                                fix="use letters, digits, '_' or '-', starting with a letter")
            if typ not in self.cat.types:
                raise self.fail(f"workflow input '{name}' has unknown type '{typ}'", ("inputs", name),
                                fix=f"use a catalogue type; {did_you_mean(typ, self.cat.types)}")

    def check_names(self) -> dict[str, int]:
        if not self.spec.tasks:
            raise self.fail("the workflow has no tasks", ("tasks",), fix="add at least one task under 'tasks'")
        index: dict[str, int] = {}
        for i, t in enumerate(self.spec.tasks):
            where = ("tasks", i, "name")
            if not _NAME.match(t.name) or t.name == "inputs":
                raise self.fail(f"task name '{t.name}' is not allowed", where, task=t.name,
                                fix="use letters, digits, '_' or '-', starting with a letter; 'inputs' is reserved")
            if t.name in index:
                first = self.src.line(("tasks", index[t.name], "name"))
                at = f" (first on line {first})" if first is not None else ""
                raise self.fail(f"duplicate task name '{t.name}'{at}", where, task=t.name,
                                fix="give every task a unique name")
            index[t.name] = i
        return index

    def check_output(self, index: dict[str, int]) -> None:
        if self.spec.output not in index:
            raise self.fail(f"output names unknown task '{self.spec.output}'", ("output",),
                            fix=f"name one of the workflow's tasks; {did_you_mean(self.spec.output, index)}")

    def check_capability(self, i: int, t: TaskSpec) -> Capability:
        if t.capability is None:
            if t.does is not None:
                raise self.fail(f"the sentence '{t.does}' is not resolved to a capability yet", ("tasks", i, "does"),
                                task=t.name, fix="run 'murakkab compile FILE --write' to resolve it, or write "
                                                 "'capability:' and 'inputs:' by hand")
            raise self.fail("missing required key 'capability'", ("tasks", i), task=t.name,
                            fix="add 'capability: ...' here, or 'does: <sentence>' with 'reads: [...]' for the "
                                "orchestrator to resolve")
        if t.reads:
            raise self.fail("'reads' belongs to a step written as an unresolved sentence", ("tasks", i, "reads"),
                            task=t.name, fix="map each port to its source under 'inputs' and remove 'reads'")
        if t.capability not in self.cat.capabilities:
            raise self.fail(f"unknown capability '{t.capability}'", ("tasks", i, "capability"), task=t.name,
                            fix=f"use a catalogue capability; {did_you_mean(t.capability, self.cat.capabilities)}")
        return self.cat.capabilities[t.capability]

    # ---- task level ------------------------------------------------------------------------------
    def bindings(self, i: int, t: TaskSpec, cap: Capability, caps: dict[str, Capability]) -> dict[str, Binding]:
        for port in t.inputs:
            if port not in cap.inputs:
                raise self.fail(f"capability '{cap.name}' has no input port '{port}'", ("tasks", i, "inputs", port),
                                task=t.name, fix=f"use the capability's ports; {did_you_mean(port, cap.inputs)}")
        missing = [p for p, port in cap.inputs.items() if not port.optional and p not in t.inputs]
        if missing:
            raise self.fail(f"required input port(s) {_fmt(missing)} of capability '{cap.name}' not connected",
                            ("tasks", i, "inputs"), task=t.name,
                            fix=f"map {_fmt(missing)} to a task or to inputs.<name> under 'inputs'")
        out: dict[str, Binding] = {}
        for port, source in t.inputs.items():
            where = ("tasks", i, "inputs", port)
            kind, name = parse_source(source)
            if kind == "input":
                if name not in self.spec.inputs:
                    raise self.fail(f"port '{port}' reads unknown workflow input '{name}'", where, task=t.name,
                                    fix=f"declare '{name}' under the workflow's inputs or use one of them; "
                                        f"{did_you_mean(name, self.spec.inputs)}")
                typ = self.spec.inputs[name]
            else:
                if name not in caps:
                    hint = (f"use '{INPUT_PREFIX}{name}' for the workflow input" if name in self.spec.inputs
                            else did_you_mean(name, caps))
                    raise self.fail(f"port '{port}' reads unknown task '{name}'", where, task=t.name,
                                    fix=f"name a task of this workflow or a workflow input as "
                                        f"{INPUT_PREFIX}<name>; {hint}")
                typ = caps[name].output
            want = cap.inputs[port].type
            if typ != want:
                what = f"workflow input '{name}'" if kind == "input" else f"task '{name}' ({caps[name].name})"
                raise self.fail(f"type mismatch on port '{port}': {what} gives '{typ}' but '{cap.name}' expects "
                                f"'{want}'", where, task=t.name,
                                fix=f"connect '{port}' to a source of type '{want}'")
            out[port] = Binding(source=source, kind=kind, name=name, type=typ)
        return out

    def executors(self, i: int, t: TaskSpec, cap: Capability) -> list[Executor]:
        """The capability's executors, or the one the task pins."""
        execs = self.cat.executors_for(cap.name)
        if t.executor is None:
            return execs
        if t.executor not in {e.name for e in execs}:
            raise self.fail(f"executor '{t.executor}' does not provide capability '{cap.name}'",
                            ("tasks", i, "executor"), task=t.name,
                            fix=f"name one of its executors or remove 'executor'; "
                                f"{did_you_mean(t.executor, [e.name for e in execs])}")
        return [e for e in execs if e.name == t.executor]

    def check_knobs(self, i: int, t: TaskSpec, execs: list[Executor]) -> None:
        for knob, value in t.knobs.items():
            where = ("tasks", i, "knobs", knob)
            if knob == "model":
                raise self.fail("'model' is not a knob: a spec never fixes the model", where, task=t.name,
                                fix=f"write prefer: {{models: [{value}]}} to steer the optimizer")
            having = [e for e in execs if knob in e.knobs]
            if not having:
                known = sorted({k for e in execs for k in e.knobs})
                hint = f"knobs of '{t.capability}': {_fmt(known)}" if known else f"'{t.capability}' has no knobs"
                raise self.fail(f"unknown knob '{knob}'", where, task=t.name, fix=f"remove it; {hint}")
            if not any(value in e.knobs[knob] for e in having):
                domains = "; ".join(f"{_fmt(e.knobs[knob])} ({e.name})" for e in having)
                raise self.fail(f"knob '{knob}' value {value!r} is outside its domain", where, task=t.name,
                                fix=f"pick one of {domains}")

    def check_preferences(self, i: int, t: TaskSpec, execs: list[Executor]) -> None:
        servable = {m for e in execs for m in e.models}
        for key in ("prefer", "forbid"):
            pref: Preferences = getattr(t, key)
            for j, m in enumerate(pref.models):
                where = ("tasks", i, key, "models", j)
                if m not in self.cat.models:
                    raise self.fail(f"{key}: unknown model '{m}'", where, task=t.name,
                                    fix=f"use a catalogue model id; {did_you_mean(m, self.cat.models)}")
                if key == "prefer" and m not in servable:
                    cand = f"candidates: {_fmt(sorted(servable))}" if servable else \
                        f"'{t.capability}' runs on tools that use no catalogue model"
                    raise self.fail(f"prefer: model '{m}' cannot serve capability '{t.capability}'", where,
                                    task=t.name, fix=f"remove it; {cand}")
                if key == "prefer" and m in t.forbid.models:
                    raise self.fail(f"model '{m}' is both preferred and forbidden", where, task=t.name,
                                    fix="keep it in only one of prefer and forbid")
            for j, h in enumerate(pref.hardware):
                where = ("tasks", i, key, "hardware", j)
                if h not in self.cat.hardware:
                    raise self.fail(f"{key}: unknown hardware '{h}'", where, task=t.name,
                                    fix=f"use a catalogue hardware name; {did_you_mean(h, self.cat.hardware)}")
                if key == "prefer" and h in t.forbid.hardware:
                    raise self.fail(f"hardware '{h}' is both preferred and forbidden", where, task=t.name,
                                    fix="keep it in only one of prefer and forbid")

    def candidates(self, i: int, t: TaskSpec, execs: list[Executor]) -> tuple[Candidate, ...]:
        out: list[Candidate] = []
        excluded: list[str] = []
        allowed_hw = [h for h in self.cat.hardware.values() if h.name not in t.forbid.hardware]
        for e in execs:
            clash = [k for k, v in t.knobs.items() if k not in e.knobs or v not in e.knobs[k]]
            if clash:
                excluded.append(f"{e.name} (fixed knob {_fmt(clash)})")
                continue
            models = tuple(m for m in e.models if m not in t.forbid.models)
            if e.uses_models and not models:
                excluded.append(f"{e.name} (all its models forbidden)")
                continue
            # Tools run where they have placements; models on GPUs or CPU hosts (a model runs only
            # where it has a profile: the packaged ones are GPU measurements, a user's may be a CPU's).
            kinds = e.placements if e.kind == "tool" else ("gpu", "cpu")
            hardware = tuple(h.name for h in allowed_hw if h.kind in kinds)
            if not hardware:
                excluded.append(f"{e.name} (all its hardware forbidden)")
                continue
            knobs = {k: (t.knobs[k],) if k in t.knobs else tuple(dom) for k, dom in e.knobs.items()}
            out.append(Candidate(executor=e.name, kind=e.kind, models=models, knobs=knobs, hardware=hardware))
        if not out:
            raise self.fail("every candidate executor is excluded: " + "; ".join(excluded), ("tasks", i), task=t.name,
                            fix="forbid fewer models or hardware, or unfix a knob")
        return tuple(out)

    # ---- whole run -------------------------------------------------------------------------------
    def run(self) -> LogicalWorkflow:
        spec = self.spec
        self.check_inputs()
        index = self.check_names()
        self.check_output(index)
        caps = {t.name: self.check_capability(i, t) for i, t in enumerate(spec.tasks)}
        nodes: dict[str, TaskNode] = {}
        for i, t in enumerate(spec.tasks):
            cap = caps[t.name]
            execs = self.executors(i, t, cap)
            bindings = self.bindings(i, t, cap, caps)
            self.check_knobs(i, t, execs)
            self.check_preferences(i, t, execs)
            nodes[t.name] = TaskNode(name=t.name, capability=cap.name, bindings=bindings, output_type=cap.output,
                                     candidates=self.candidates(i, t, execs), prefer=t.prefer, forbid=t.forbid,
                                     knobs=dict(t.knobs), line=self.src.line(("tasks", i)), does=t.does,
                                     executor=t.executor)
        cycle = graph.find_cycle({n: node.predecessors for n, node in nodes.items()})
        if cycle:
            first = cycle[0]
            raise self.fail(f"the tasks form a cycle: {' -> '.join(cycle)}", ("tasks", index[first]), task=first,
                            fix="remove one of these edges so data flows one way")
        return LogicalWorkflow(name=spec.name, description=spec.description, inputs=dict(spec.inputs),
                               tasks=nodes, output=spec.output, file=self.src.file)


def build_workflow(spec: WorkflowSpec, catalog: Catalog | None = None,
                   source: SourceMap | None = None) -> LogicalWorkflow:
    """Validate `spec` against `catalog` (default: the packaged one) and return its LogicalWorkflow.

    `source` (from the YAML loader) lets errors name the file and line. Raises one SpecError.
    """
    return _Checker(spec, catalog or load_catalog(), source or SourceMap(file=None)).run()
