"""The deterministic matcher: resolves sentence steps without an LLM.

For each step (in data-flow order, so the types it reads are known) every executor is scored by how
much of the sentence its text covers: the capability's name and description, the executor's name
and description, and its output type with that type's description. Words are weighted by rarity
across executors (inverse document frequency), so "transcribe" counts for more than "answer". Only
executors whose capability can take exactly the step's sources (one port per source, by type, every
required port filled) are eligible. The best eligible one is taken when its confidence (the weighted
share of the sentence it covers) reaches the threshold and no other eligible executor ties it;
otherwise the step is refused with the closest candidates. The same type checks as any spec follow
(`build_workflow`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from murakkab.catalog import Catalog, Capability
from murakkab.errors import SpecError
from murakkab.names import did_you_mean
from murakkab.orchestrator.text import content_words, matches
from murakkab.spec import graph
from murakkab.spec.logical import parse_source
from murakkab.spec.model import WorkflowSpec
from murakkab.spec.sentences import StepResolution, sentence_steps, source_types
from murakkab.spec.yaml_io import SourceMap

DEFAULT_THRESHOLD = 0.3


@dataclass(frozen=True)
class Ranked:
    """One executor's standing for one sentence."""
    executor: str
    capability: str
    score: float                       # weighted share of the sentence's words it covers, 0..1
    ports: dict[str, str] | None       # port -> source when the step's sources fit, else None
    misfit: str = ""                   # why they do not fit

    def label(self) -> str:
        fit = "" if self.ports is not None else f", does not fit: {self.misfit}"
        return f"{self.executor} ({self.capability}, {self.score:.2f}{fit})"


def assign_ports(cap: Capability, reads: dict[str, str]) -> tuple[dict[str, str] | None, str]:
    """Map each read source (source -> type) to the one port of `cap` taking its type.
    Returns (port -> source, "") or (None, why not)."""
    ports: dict[str, str] = {}
    for src, typ in reads.items():
        free = [p for p, port in cap.inputs.items() if port.type == typ and p not in ports]
        if not free:
            return None, f"no port of {cap.name} takes {src} ({typ})"
        if len(free) > 1:
            return None, f"{src} ({typ}) could go to port {' or '.join(free)}"
        ports[free[0]] = src
    missing = [p for p, port in cap.inputs.items() if not port.optional and p not in ports]
    if missing:
        return None, f"port {', '.join(missing)} of {cap.name} would read nothing"
    return ports, ""


class Matcher:
    def __init__(self, catalog: Catalog, threshold: float = DEFAULT_THRESHOLD):
        if not 0.0 < threshold <= 1.0:
            raise SpecError(f"matcher threshold {threshold} is outside (0, 1]", fix="use e.g. 0.3")
        self.cat, self.threshold = catalog, threshold
        self.docs: dict[str, set[str]] = {}
        for e in catalog.executors.values():
            cap = catalog.capabilities[e.capability]
            text = " ".join((cap.name, cap.description, e.name, e.description, cap.output,
                             catalog.types.get(cap.output, "")))
            self.docs[e.name] = set(content_words(text))
        n = len(self.docs)
        self._n = n

    def _idf(self, word: str) -> float:
        df = sum(1 for d in self.docs.values() if matches(word, d))
        return math.log(1.0 + self._n / max(df, 1))

    def rank(self, sentence: str, reads: dict[str, str]) -> list[Ranked]:
        """Every executor scored for `sentence` given the step's sources and their types, best first
        (eligible ones ahead of those whose ports do not fit)."""
        words = list(dict.fromkeys(content_words(sentence)))
        weights = {w: self._idf(w) for w in words}
        total = sum(weights.values())
        out = []
        for name, doc in self.docs.items():
            ex = self.cat.executors[name]
            covered = sum(wt for w, wt in weights.items() if matches(w, doc))
            ports, why = assign_ports(self.cat.capabilities[ex.capability], reads)
            out.append(Ranked(name, ex.capability, covered / total if total else 0.0, ports, why))
        return sorted(out, key=lambda r: (r.ports is None, -r.score, r.executor))

    def _walk(self, spec: WorkflowSpec, src: SourceMap):
        """(step, ranking, line) per sentence step in data-flow order; each step's output type is that
        of its best fitting executor, so the steps reading it are ranked with known types."""
        steps = {s.name: s for s in sentence_steps(spec)}
        index = {t.name: i for i, t in enumerate(spec.tasks)}
        preds = {n: tuple(name for kind, name in map(parse_source, s.reads) if kind == "task" and name in steps)
                 for n, s in steps.items()}
        cycle = graph.find_cycle(preds)
        if cycle:
            raise SpecError(f"the sentence steps read each other in a cycle: {' -> '.join(cycle)}", file=src.file,
                            line=src.line(("tasks", index[cycle[0]])), task=cycle[0],
                            fix="remove one of these reads so data flows one way")
        types = source_types(spec, self.cat)
        for name in graph.topological_order(preds):
            step = steps[name]
            where = src.line(("tasks", index[name], "does"))
            reads: dict[str, str] = {}
            for s in step.reads:
                if s not in types:
                    raise SpecError(f"reads unknown source '{s}'", file=src.file, line=where, task=name,
                                    fix="read a workflow input as inputs.<name> or another step by its name; "
                                        f"{did_you_mean(s, types)}")
                reads[s] = types[s]
            ranked = self.rank(step.does, reads)
            yield step, ranked, where
            if ranked[0].ports is not None:
                types[name] = self.cat.capabilities[ranked[0].capability].output

    def closest(self, spec: WorkflowSpec, task: str, n: int = 3) -> list[Ranked]:
        """The `n` best executors for sentence step `task` (for error messages; no threshold)."""
        for step, ranked, _ in self._walk(spec, SourceMap(file=None)):
            if step.name == task:
                return ranked[:n]
        return []

    def resolve(self, spec: WorkflowSpec, source: SourceMap | None = None) -> list[StepResolution]:
        """A resolution for every sentence step of `spec`; raises one SpecError for the first step it
        cannot resolve with confidence, naming the closest candidates."""
        src = source or SourceMap(file=None)
        out: list[StepResolution] = []
        for step, ranked, where in self._walk(spec, src):
            best, name = ranked[0], step.name
            closest = "; ".join(r.label() for r in ranked[:3])
            if best.ports is None or best.score < self.threshold:
                raise SpecError(f"no executor matches '{step.does}' with confidence >= {self.threshold:g}",
                                file=src.file, line=where, task=name,
                                fix=f"reword the sentence, or write capability and inputs by hand; closest: {closest}")
            if len(ranked) > 1 and ranked[1].ports is not None and ranked[1].score == best.score:
                raise SpecError(f"'{step.does}' matches {best.executor} and {ranked[1].executor} equally",
                                file=src.file, line=where, task=name,
                                fix=f"say more in the sentence, or write capability by hand; closest: {closest}")
            out.append(StepResolution(task=name, executor=best.executor, inputs=best.ports, how="matcher",
                                      confidence=round(best.score, 3)))
        order = {t.name: i for i, t in enumerate(spec.tasks)}
        return sorted(out, key=lambda r: order[r.task])
