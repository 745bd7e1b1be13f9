"""Dynamic composition: a natural-language request with attached data and no workflow named becomes
a composite DAG of registered workflows and executors (components).

    query "check this student's solution from the lecture video" + data {video: video}
      -> watch:  video_qa(video <- request.video, question <- request.query)
         code:   code_gen(problem <- watch)            output: code

The request's data are sources `request.query` (text) and `request.<name>` (its declared type); a
step reads them or other steps' outputs (a workflow's output type is its output task's type, an
executor's its capability's). The orchestrator LLM proposes the composite; `check_composite`
type-checks it (known components, every required input fed once with the right type, no cycle,
every step used by the output) and a rejected proposal goes back with the error, within a bound.
Without an LLM, the matcher picks the single component that best covers the query and whose inputs
the request's data can feed (a workflow before an executor that scores the same).
Accepted composites are cached by the request's shape (its data names and types, the query's
content words, the workflows offered), so a similar request skips decomposition.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from murakkab.catalog.schema import Capability, Executor

from murakkab.names import did_you_mean
from murakkab.orchestrator.backend import ChatBackend, OrchestratorError
from murakkab.orchestrator.loop import Rejected, ask_until_valid, check_tries
from murakkab.orchestrator.text import content_words, matches
from murakkab.spec import graph
from murakkab.spec.logical import LogicalWorkflow

REQUEST = "request."
QUERY = "query"
MAX_STEPS = 8
DEFAULT_THRESHOLD = 0.3
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class CompositionError(OrchestratorError):
    """A composite DAG does not type-check, or no workflow fits the request."""


@dataclass(frozen=True)
class Component:
    """What the composer sees of a registered workflow or an executor: typed inputs and output."""
    name: str
    kind: Literal["workflow", "executor"]
    description: str
    inputs: dict[str, str]
    output_type: str
    capabilities: tuple[str, ...]
    optional: tuple[str, ...] = ()    # inputs that may stay unfed (an executor's optional ports)

    @classmethod
    def of_workflow(cls, name: str, wf: LogicalWorkflow) -> "Component":
        return cls(name=name, kind="workflow", description=wf.description, inputs=dict(wf.inputs),
                   output_type=wf.tasks[wf.output].output_type,
                   capabilities=tuple(wf.tasks[t].capability for t in wf.topological_order()))

    @classmethod
    def of_executor(cls, ex: Executor, cap: Capability) -> "Component":
        return cls(name=ex.name, kind="executor", description=f"{cap.description} {ex.description}",
                   inputs={p: port.type for p, port in cap.inputs.items()}, output_type=cap.output,
                   capabilities=(cap.name,), optional=tuple(p for p, port in cap.inputs.items() if port.optional))

    def interface(self) -> str:
        ins = ", ".join(f"{k}: {v}{' (optional)' if k in self.optional else ''}" for k, v in self.inputs.items())
        return f"{self.name} ({ins}) -> {self.output_type}"


@dataclass(frozen=True)
class CompositeStep:
    name: str
    uses: str                         # a registered workflow or an executor
    kind: Literal["workflow", "executor"]
    inputs: dict[str, str]            # input -> source (request.<name> or a step)
    output_type: str

    @property
    def after(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for s in self.inputs.values() if not s.startswith(REQUEST)))


@dataclass(frozen=True)
class Composite:
    """A type-checked composite DAG; `steps` in execution order."""
    steps: tuple[CompositeStep, ...]
    output: str
    why: str = ""

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(p, s.name) for s in self.steps for p in s.after]

    def shape(self) -> dict:
        """Plain data for a result: which DAG runs."""
        return {"steps": [{"name": s.name, "uses": s.uses, "kind": s.kind, "inputs": dict(s.inputs),
                           "output_type": s.output_type} for s in self.steps],
                "edges": [list(e) for e in self.edges], "output": self.output}


@dataclass(frozen=True)
class Decomposition:
    composite: Composite
    how: str                          # "orchestrator LLM <model>", "matcher", "cache (first by ...)"
    confidence: float | None = None
    rejected: tuple[str, ...] = ()


# ---- the answer's shape ----------------------------------------------------------------------------
class _Port(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: str
    source: str


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    uses: str
    inputs: list[_Port]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[_Step] = Field(min_length=1)
    output: str
    why: str = ""


def answer_schema(registry: dict[str, Component], data: dict[str, str]) -> dict:
    """JSON schema of a proposal. Arrays and strings are bounded, so a grammar-constrained weak model
    must close them and its answer always parses; the type check judges the rest."""
    ports = sorted({p for w in registry.values() for p in w.inputs})
    most = max((len(w.inputs) for w in registry.values()), default=1)
    return {
        "type": "object", "additionalProperties": False, "required": ["steps", "output", "why"],
        "properties": {
            "steps": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": {
                "type": "object", "additionalProperties": False, "required": ["name", "uses", "inputs"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 24},
                    "uses": {"type": "string", "enum": sorted(registry)},
                    "inputs": {"type": "array", "maxItems": most, "items": {
                        "type": "object", "additionalProperties": False, "required": ["port", "source"],
                        "properties": {"port": {"type": "string", "enum": ports},
                                       "source": {"type": "string", "maxLength": 40}}}}}}},
            "output": {"type": "string", "maxLength": 24},
            "why": {"type": "string", "maxLength": 200}}}


def request_sources(data: dict[str, str]) -> dict[str, str]:
    """source -> type for the request's query and attached data."""
    return {f"{REQUEST}{QUERY}": "text", **{f"{REQUEST}{k}": t for k, t in data.items()}}


def check_composite(answer: object, registry: dict[str, Component], data: dict[str, str]) -> Composite:
    """Type-check a proposed composite (raw answer data or an `_Answer`). Raises CompositionError
    naming the step and the fix."""
    a = answer if isinstance(answer, _Answer) else _Answer.model_validate(answer)
    if len(a.steps) > MAX_STEPS:
        raise CompositionError(f"the composite has {len(a.steps)} steps; at most {MAX_STEPS} are allowed")
    sources = request_sources(data)
    names: dict[str, _Step] = {}
    for s in a.steps:
        if not _NAME.match(s.name) or s.name in ("request", "inputs"):
            raise CompositionError(f"step name '{s.name}' is not allowed (fix: letters, digits and '_'; not "
                                   "'request' or 'inputs')")
        if s.name in names:
            raise CompositionError(f"step name '{s.name}' is used twice (fix: name every step once)")
        if s.uses not in registry:
            raise CompositionError(f"step '{s.name}': no registered workflow or executor '{s.uses}' (fix: use one "
                                   f"of them; {did_you_mean(s.uses, registry)})")
        names[s.name] = s
    out_type = {n: registry[s.uses].output_type for n, s in names.items()}
    steps: dict[str, CompositeStep] = {}
    for s in a.steps:
        wf = registry[s.uses]
        ins: dict[str, str] = {}
        for p in s.inputs:
            if p.port not in wf.inputs:
                raise CompositionError(f"step '{s.name}': {wf.kind} '{wf.name}' has no input '{p.port}' "
                                       f"(fix: its inputs are {', '.join(f'{k}: {v}' for k, v in wf.inputs.items())})")
            if p.port in ins:
                raise CompositionError(f"step '{s.name}': input '{p.port}' is fed twice (fix: feed it once)")
            if p.source in sources:
                typ = sources[p.source]
            elif p.source in out_type:
                typ = out_type[p.source]
            else:
                raise CompositionError(f"step '{s.name}': unknown source '{p.source}' (fix: read "
                                       f"{', '.join(sources)} or another step by name)")
            if typ != wf.inputs[p.port]:
                raise CompositionError(f"step '{s.name}': type mismatch on '{p.port}': '{p.source}' gives '{typ}' "
                                       f"but {wf.kind} '{wf.name}' expects '{wf.inputs[p.port]}' "
                                       f"(fix: feed '{p.port}' from a source of type '{wf.inputs[p.port]}')")
            ins[p.port] = p.source
        missing = [k for k in wf.inputs if k not in ins and k not in wf.optional]
        if missing:
            raise CompositionError(f"step '{s.name}': input(s) {', '.join(missing)} of {wf.kind} '{wf.name}' are not "
                                   f"fed (fix: feed each from the request or another step)")
        steps[s.name] = CompositeStep(s.name, s.uses, wf.kind, ins, out_type[s.name])
    preds = {n: st.after for n, st in steps.items()}
    cycle = graph.find_cycle(preds)
    if cycle:
        raise CompositionError(f"the composite loops: {' -> '.join(cycle)} (fix: data must flow one way)")
    if a.output not in steps:
        raise CompositionError(f"output names unknown step '{a.output}' (fix: name one of {', '.join(steps)})")
    needed, todo = set(), [a.output]
    while todo:
        n = todo.pop()
        if n not in needed:
            needed.add(n)
            todo.extend(preds[n])
    unused = [n for n in steps if n not in needed]
    if unused:
        raise CompositionError(f"step(s) {', '.join(unused)} feed nothing the output uses (fix: remove them or "
                               "wire their result into the output's inputs)")
    order = graph.topological_order(preds)
    return Composite(tuple(steps[n] for n in order), a.output, a.why.strip())


# ---- the two composers -------------------------------------------------------------------------------
SYSTEM = """You are the orchestrator of murakkab, a system that serves AI workflows. A user sent a request
in plain language with some attached data and named no workflow. Compose registered workflows and
executors into a small DAG that answers it: each step uses one of them; feed every input of a step
(optional ones may stay unfed) from the request's data (request.query is the user's text;
request.<name> is an attachment) or from an earlier step's output, always with matching types.
Prefer a whole workflow to rebuilding it from executors. Use as few steps as answer the request;
name the step whose result answers it as the output, and say briefly why.

{components}"""


def _components_text(registry: dict[str, Component]) -> str:
    lines = []
    for kind, title in (("workflow", "Registered workflows"), ("executor", "Executors (one step each)")):
        items = [c for c in registry.values() if c.kind == kind]
        if items:
            lines.append(f"{title} (name (inputs) -> output type: description):")
            lines += [f"- {c.interface()}: {c.description or 'steps ' + ', '.join(c.capabilities)}" for c in items]
    return "\n".join(lines)


def decompose_with_llm(query: str, data: dict[str, str], registry: dict[str, Component],
                       backend: ChatBackend, tries: int = 3) -> Decomposition:
    check_tries(tries)
    user = (f"Request: {query}\nAttached data: "
            + (", ".join(f"{s}: {t}" for s, t in request_sources(data).items())))
    messages = [{"role": "system", "content": SYSTEM.format(components=_components_text(registry))},
                {"role": "user", "content": user}]
    try:
        got = ask_until_valid(backend, messages, "compose_workflows", "The composite DAG that answers the request.",
                              answer_schema(registry, data), lambda d: check_composite(d, registry, data), tries)
    except Rejected as exc:
        raise Rejected(f"the orchestrator found no composite that type-checks in {tries} tries; last error: "
                       f"{exc.rejected[-1]} (fix: name a workflow and invoke it, or rephrase the request; "
                       f"closest: {closest_components(query, data, registry)})", exc.rejected) from None
    return Decomposition(got.value, f"orchestrator LLM {backend.cfg.model}", None, got.rejected)


def _feed(wf: Component, data: dict[str, str]) -> dict[str, str] | None:
    """Feed each input of `wf` from the request by type: one source per type, or None when the request
    cannot feed a required one unambiguously. Every attachment must be used (else it would be
    silently ignored)."""
    sources = request_sources(data)
    by_type: dict[str, list[str]] = {}
    for s, t in sources.items():
        by_type.setdefault(t, []).append(s)
    ins: dict[str, str] = {}
    for port, typ in wf.inputs.items():
        cands = by_type.get(typ, [])
        if len(cands) != 1 or sum(1 for t in wf.inputs.values() if t == typ) != 1:
            if port in wf.optional:
                continue
            return None
        ins[port] = cands[0]
    attached = {s for s in sources if s != f"{REQUEST}{QUERY}"}
    return ins if attached <= set(ins.values()) else None


def _scores(query: str, registry: dict[str, Component]) -> dict[str, float]:
    """Weighted share of the query's content words each workflow's text covers (as the sentence matcher)."""
    from murakkab.catalog import load_catalog
    cat = load_catalog()
    docs = {}
    for w in registry.values():
        caps = " ".join(f"{c} {cat.capabilities[c].description}" for c in w.capabilities if c in cat.capabilities)
        docs[w.name] = set(content_words(f"{w.name} {w.description} {caps} {w.output_type}"))
    words = list(dict.fromkeys(content_words(query)))
    n = len(docs)
    weight = {wd: math.log(1.0 + n / max(1, sum(1 for d in docs.values() if matches(wd, d)))) for wd in words}
    total = sum(weight.values())
    return {name: (sum(wt for wd, wt in weight.items() if matches(wd, d)) / total if total else 0.0)
            for name, d in docs.items()}


def closest_components(query: str, data: dict[str, str], registry: dict[str, Component]) -> str:
    sc = _scores(query, registry)
    best = sorted(registry, key=lambda n: (-sc[n], n))[:3]
    return "; ".join(f"{n} ({sc[n]:.2f}{'' if _feed(registry[n], data) else ', the request cannot feed its inputs'})"
                     for n in best)


def _best(query: str, data: dict[str, str], registry: dict[str, Component], threshold: float):
    """(score, name) of the component that covers the query best among those the request feeds
    (the query included), or (None, why not)."""
    sc = _scores(query, registry)
    fit = sorted(((sc[n], n) for n, w in registry.items()
                  if (ins := _feed(w, data)) is not None and f"{REQUEST}{QUERY}" in ins.values()),
                 key=lambda x: (-x[0], x[1]))
    if not fit:
        return None, "no registered workflow or executor can take this request's query and data"
    if fit[0][0] < threshold:
        return None, f"the best match covers {fit[0][0]:.2f} of the query, under the threshold {threshold:g}"
    if len(fit) > 1 and fit[1][0] == fit[0][0]:
        return None, f"{fit[0][1]} and {fit[1][1]} match equally"
    return fit[0], ""


def decompose_with_matcher(query: str, data: dict[str, str], registry: dict[str, Component],
                           threshold: float = DEFAULT_THRESHOLD) -> Decomposition:
    """The one component that best covers the query and whose inputs the request feeds (the query
    among them): a registered workflow when one fits, else an executor (a workflow is the tuned whole)."""
    why = ""
    for kind in ("workflow", "executor"):
        pool = {n: c for n, c in registry.items() if c.kind == kind}
        if not pool:
            continue
        best, reason = _best(query, data, pool, threshold)
        if best is not None:
            break
        why = why or reason
    else:
        raise CompositionError(f"cannot compose the request without an orchestrator LLM: {why} (fix: name a "
                               f"workflow, rephrase, or run the server with --orchestrator; closest: "
                               f"{closest_components(query, data, registry)})")
    score, name = best
    wf = registry[name]
    ins = _feed(wf, data)
    step = _Step(name=name.replace("/", "_").replace("-", "_"), uses=name,
                 inputs=[_Port(port=p, source=s) for p, s in ins.items()])
    comp = check_composite(_Answer(steps=[step], output=step.name,
                                   why=f"the query's words match '{name}' best ({score:.2f}) and the request "
                                       "feeds its inputs"), registry, data)
    return Decomposition(comp, "matcher", round(score, 3))


# ---- the cache ---------------------------------------------------------------------------------------
def shape_key(query: str, data: dict[str, str], registry: dict[str, Component]) -> tuple:
    """Requests of one shape: the same data names and types, the same content words in the query
    (order, case, function words and inflections aside) and the same workflows on offer."""
    return (tuple(sorted(data.items())), tuple(sorted(set(content_words(query)))), tuple(sorted(registry)))


@dataclass
class Composer:
    """Decomposes requests (LLM when `backend` is set, else the matcher) and caches composites by shape.
    Thread-safe: the server calls it from worker threads."""
    backend: ChatBackend | None = None
    tries: int = 3
    threshold: float = DEFAULT_THRESHOLD
    cache_size: int = 256
    _cache: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    hits: int = 0
    misses: int = 0

    def decompose(self, query: str, data: dict[str, str], registry: dict[str, Component],
                  tenant: str = "") -> Decomposition:
        if not query.strip():
            raise CompositionError("the request has no query (fix: say what you want in 'query')")
        for name, typ in data.items():
            if not _NAME.match(name) or name == QUERY:
                raise CompositionError(f"attachment name '{name}' is not allowed (fix: letters, digits and '_'; "
                                       f"not '{QUERY}')")
        if not registry:
            raise CompositionError("no registered workflow can serve this request's tier in the running plan "
                                   "(fix: deploy a plan with routes for the tier)")
        key = (tenant, *shape_key(query, data, registry))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return Decomposition(hit.composite, f"cache (first decomposed by {hit.how})", hit.confidence)
        if self.backend is not None:
            got = decompose_with_llm(query, data, registry, self.backend, self.tries)
        else:
            got = decompose_with_matcher(query, data, registry, self.threshold)
        with self._lock:
            self.misses += 1
            self._cache[key] = got
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return got


__all__ = ["Component", "Composer", "Composite", "CompositeStep", "CompositionError", "Decomposition",
           "check_composite", "decompose_with_llm", "decompose_with_matcher", "shape_key"]
