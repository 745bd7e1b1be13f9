"""Resolve a spec's sentence steps (`does:`) to executors and ports, then type-check the whole DAG.

With a backend, the orchestrator LLM answers with one executor and port mapping per sentence step;
the answer is parsed, applied (`spec/sentences.py`: the step's reads are binding) and type-checked
by `build_workflow` (ports, types, cycles). A rejected answer goes back with the error, up to
`tries` answers. Without a backend, the deterministic matcher resolves, and the same checks apply.
A step that never resolves is one error naming it, its sentence and the closest executors.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from murakkab.catalog import Catalog, load_catalog
from murakkab.errors import SpecError
from murakkab.orchestrator.backend import ChatBackend, OrchestratorError
from murakkab.orchestrator.library import all_ports, interface, library_text
from murakkab.orchestrator.loop import Rejected, ask_until_valid, check_tries
from murakkab.orchestrator.matcher import DEFAULT_THRESHOLD, Matcher
from murakkab.spec.build import build_workflow
from murakkab.spec.logical import LogicalWorkflow
from murakkab.spec.model import WorkflowSpec
from murakkab.spec.sentences import StepResolution, apply_resolutions, sentence_steps, source_types
from murakkab.spec.yaml_io import SourceMap

TOOL_NAME = "bind_steps"
TOOL_DESCRIPTION = "Bind every step written as a sentence to one executor, and each of its sources to a port."

SYSTEM = """You are the orchestrator of murakkab, a system that serves AI workflows. A developer wrote
some workflow steps as plain sentences. For each such step pick the one executor from the library
below whose description and typed interface best fit the sentence, and map each source the step
reads to one input port of that executor. Every source the step reads must be used, and no other.
The type of a source must equal the type of its port, and every non-optional port must be fed.
Choose by descriptions and interfaces only: models, knob values and hardware are chosen later.

{library}"""


class _Port(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: str
    source: str


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: str
    executor: str
    inputs: list[_Port]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[_Step]


@dataclass(frozen=True)
class Compiled:
    """A spec with every sentence resolved, its type-checked workflow, and how it got there."""
    spec: WorkflowSpec
    workflow: LogicalWorkflow
    resolutions: tuple[StepResolution, ...]
    resolver: str                     # "orchestrator LLM <model>", "matcher", or "none needed"
    rejected: tuple[str, ...] = ()    # errors of the LLM answers that were sent back


def answer_schema(spec: WorkflowSpec, catalog: Catalog) -> dict:
    """JSON schema of the answer; enums keep even a weak, grammar-constrained model to known names."""
    sources = list(source_types(spec, catalog))
    n = len(sentence_steps(spec))
    most_ports = max(len(c.inputs) for c in catalog.capabilities.values())
    # bounded arrays: a grammar-constrained weak model must close them, so its answer always parses
    return {
        "type": "object", "additionalProperties": False, "required": ["steps"],
        "properties": {"steps": {"type": "array", "minItems": n, "maxItems": n, "items": {
            "type": "object", "additionalProperties": False, "required": ["task", "executor", "inputs"],
            "properties": {
                "task": {"type": "string", "enum": [s.name for s in sentence_steps(spec)]},
                "executor": {"type": "string", "enum": list(catalog.executors)},
                "inputs": {"type": "array", "minItems": 1, "maxItems": most_ports, "items": {
                    "type": "object", "additionalProperties": False, "required": ["port", "source"],
                    "properties": {"port": {"type": "string", "enum": all_ports(catalog)},
                                   "source": {"type": "string", "enum": sources}}}}}}}}}


def question(spec: WorkflowSpec, catalog: Catalog) -> str:
    """The user message: the workflow's inputs, its fixed steps, and the sentences to bind."""
    lines = [f"Workflow '{spec.name}'" + (f": {spec.description}" if spec.description else "")]
    lines.append("Workflow inputs (read them as inputs.<name>): "
                 + (", ".join(f"inputs.{n}: {t}" for n, t in spec.inputs.items()) or "none"))
    fixed = [t for t in spec.tasks if t.capability is not None]
    if fixed:
        lines.append("Steps already bound (read them by name):")
        lines += [f"- {t.name}: {t.capability} {interface(catalog, t.capability)}" for t in fixed
                  if t.capability in catalog.capabilities]
    lines.append("Steps written as sentences (bind each one; a step's output is read by its name):")
    for s in sentence_steps(spec):
        lines.append(f"- {s.name}: \"{s.does}\" reads {', '.join(s.reads) or 'nothing'}")
    return "\n".join(lines)


def _parse(data: object, how: str) -> list[StepResolution]:
    answer = _Answer.model_validate(data)
    out = []
    for step in answer.steps:
        ports: dict[str, str] = {}
        for p in step.inputs:
            if p.port in ports:
                raise SpecError(f"port '{p.port}' is given twice", task=step.task, fix="map each port once")
            ports[p.port] = p.source
        out.append(StepResolution(task=step.task, executor=step.executor, inputs=ports, how=how))
    return out


def _closest(spec: WorkflowSpec, catalog: Catalog, task: str | None) -> str:
    """'task 'x' ("sentence"): closest a; b; c' for the step an error names (else every sentence step)."""
    matcher = Matcher(catalog)
    steps = [s for s in sentence_steps(spec) if task is None or s.name == task] or sentence_steps(spec)
    try:
        return " | ".join(f"task '{s.name}' (\"{s.does}\"): closest "
                          + "; ".join(r.label() for r in matcher.closest(spec, s.name)) for s in steps)
    except SpecError:           # the reads themselves are wrong (a cycle, an unknown source): the error says so
        return "the steps' reads do not form a DAG"


def resolve_with_llm(spec: WorkflowSpec, backend: ChatBackend, catalog: Catalog | None = None,
                     source: SourceMap | None = None, tries: int = 3) -> Compiled:
    cat = catalog or load_catalog()
    check_tries(tries)
    attempt = {"n": 0}

    def check(data: object) -> tuple[WorkflowSpec, LogicalWorkflow, list[StepResolution]]:
        attempt["n"] += 1
        resolutions = _parse(data, f"orchestrator LLM, answer {attempt['n']}")
        resolved = apply_resolutions(spec, resolutions, cat)
        return resolved, build_workflow(resolved, cat), resolutions

    messages = [{"role": "system", "content": SYSTEM.format(library=library_text(cat))},
                {"role": "user", "content": question(spec, cat)}]
    try:
        got = ask_until_valid(backend, messages, TOOL_NAME, TOOL_DESCRIPTION, answer_schema(spec, cat), check, tries)
    except Rejected as exc:
        last = exc.rejected[-1]
        task = next((s.name for s in sentence_steps(spec) if f"task '{s.name}'" in last), None)
        where = f"{source.file}: " if source and source.file else ""
        raise Rejected(f"{where}the orchestrator found no binding that type-checks in {tries} tries; last error: "
                       f"{last} (fix: reword the sentence(s), or write capability and inputs by hand; "
                       f"{_closest(spec, cat, task)})", exc.rejected) from None
    resolved, wf, resolutions = got.value
    # the final check with the source map, so a reviewer sees file lines
    wf = build_workflow(resolved, cat, source)
    return Compiled(resolved, wf, tuple(resolutions), f"orchestrator LLM {backend.cfg.model}", got.rejected)


def resolve_with_matcher(spec: WorkflowSpec, catalog: Catalog | None = None, source: SourceMap | None = None,
                         threshold: float = DEFAULT_THRESHOLD) -> Compiled:
    cat = catalog or load_catalog()
    resolutions = Matcher(cat, threshold).resolve(spec, source)
    resolved = apply_resolutions(spec, resolutions, cat, source)
    return Compiled(resolved, build_workflow(resolved, cat, source), tuple(resolutions), "matcher")


def compile_spec(spec: WorkflowSpec, *, source: SourceMap | None = None, backend: ChatBackend | None = None,
                 catalog: Catalog | None = None, tries: int = 3,
                 threshold: float = DEFAULT_THRESHOLD) -> Compiled:
    """Resolve every sentence step of `spec` (by the LLM when `backend` is given, else the matcher)
    and return the type-checked result. A spec with no sentence step is only type-checked."""
    cat = catalog or load_catalog()
    if not sentence_steps(spec):
        return Compiled(spec, build_workflow(spec, cat, source), (), "none needed")
    if backend is not None:
        return resolve_with_llm(spec, backend, cat, source, tries)
    return resolve_with_matcher(spec, cat, source, threshold)


__all__ = ["Compiled", "OrchestratorError", "compile_spec", "resolve_with_llm", "resolve_with_matcher",
           "answer_schema", "question"]
