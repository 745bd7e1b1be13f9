"""DAG-aware placement of tool steps: every CPU/GPU placement of a workflow's tools, each planned by
the optimizer, next to the optimizer's own free choice.

The MILP already places tool steps: each tool step may run on any of its profiled placements (a CPU
node or a GPU), the latency SLO is checked on every DAG path (so a slow CPU step on a parallel
branch matters only if that branch is critical), and the objective picks the least energy. This
module makes that decision visible and checkable, as in the Murakkab paper's DAG-aware scheduling
study (papers.md §1.14.6: OmDet and Whisper beside a VLM under a 30 s SLO): for each forced
placement (the other choices left free) it plans the same demand and reports GPUs, CPU nodes,
energy and the critical path at the SLO quantile, or why nothing fits; then it plans with the
placement free. The free plan's energy equals the least energy over the feasible forced placements
(an exhaustive search the tests compare it with).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from murakkab.catalog import load_catalog
from murakkab.errors import MurakkabError
from murakkab.optimizer.api import Demand, PlanRequest, ReusedWorkflow, make_plan
from murakkab.plan import Plan, TierSpec
from murakkab.spec import build_workflow, load_builtin
from murakkab.spec.model import Preferences

Kind = Literal["cpu", "gpu"]
STUDY = "placement-study/"     # demand-name prefix: each placement is planned as a workflow of its own


@dataclass(frozen=True)
class PlacementOutcome:
    placement: dict[str, Kind] | None      # tool task -> where it is forced; None: the optimizer's free choice
    feasible: bool
    chosen: dict[str, str]                 # tool task -> hardware the plan runs it on
    gpus: dict[str, int]
    cpu_nodes: dict[str, int]
    energy_kwh_per_epoch: float | None
    critical_path_s: float | None          # at the plan's latency quantile (what the SLO is checked on)
    reason: str = ""                       # why no plan exists

    @property
    def total_gpus(self) -> int:
        return sum(self.gpus.values())

    def label(self) -> str:
        if self.placement is None:
            return "optimizer's choice"
        return ", ".join(f"{t} on {k.upper()}" for t, k in self.placement.items())


@dataclass(frozen=True)
class PlacementStudy:
    workflow: str
    slo_s: float
    rate_rps: float
    hardware: tuple[str, ...]
    outcomes: tuple[PlacementOutcome, ...]     # forced placements, in enumeration order
    free: PlacementOutcome                     # the optimizer's own choice

    def least_energy_forced(self) -> PlacementOutcome | None:
        ok = [o for o in self.outcomes if o.feasible]
        return min(ok, key=lambda o: o.energy_kwh_per_epoch) if ok else None


def placeable_tools(workflow: str) -> list[str]:
    """Tool tasks of a built-in workflow that have both a CPU and a GPU placement."""
    cat, wf = load_catalog(), load_builtin(workflow)
    out = []
    for name in wf.topological_order():
        ex = cat.executors[wf.tasks[name].candidates[0].executor]
        if ex.kind == "tool" and {"cpu", "gpu"} <= set(ex.placements):
            out.append(name)
    return out


def _variant(workflow: str, placement: dict[str, Kind], knobs: dict[str, dict], prefer_models: dict[str, list[str]]):
    """The built-in workflow with knobs fixed, models preferred and each forced tool's other kind forbidden."""
    cat = load_catalog()
    spec = load_builtin(workflow).to_spec()
    kinds = {k: [h for h, hw in cat.hardware.items() if hw.kind == k] for k in ("cpu", "gpu")}
    tasks = []
    for t in spec.tasks:
        update: dict = {}
        if t.name in knobs:
            update["knobs"] = {**t.knobs, **knobs[t.name]}
        if t.name in prefer_models:
            update["prefer"] = Preferences(models=list(prefer_models[t.name]))
        if t.name in placement:
            other = "gpu" if placement[t.name] == "cpu" else "cpu"
            update["forbid"] = Preferences(hardware=kinds[other])
        tasks.append(t.model_copy(update=update))
    return build_workflow(spec.model_copy(update={"tasks": tasks}))


def _outcome(plan: Plan, placement: dict[str, Kind] | None, tools: list[str]) -> PlacementOutcome:
    route = plan.routes[0]
    pools = {p.id: p for p in plan.pools}
    chosen = {s.task: "+".join(sorted({pools[ps.pool].hardware for ps in s.pools})) for s in route.steps
              if s.task in tools}
    cp = route.critical_path({s.task: max(ps.latency_slo_s or ps.latency_p90_s for ps in s.pools)
                              for s in route.steps if s.pools})[0]
    return PlacementOutcome(placement, True, chosen, dict(plan.totals.gpus_by_type), dict(plan.totals.cpu_nodes_by_type),
                            plan.totals.energy_kwh_per_epoch, cp)


def placement_study(workflow: str = "video_qa", *, slo_s: float = 30.0, rate_rps: float = 0.1,
                    hardware: tuple[str, ...] = ("A100-80GB",), knobs: dict[str, dict] | None = None,
                    prefer_models: dict[str, list[str]] | None = None) -> PlacementStudy:
    """Plan `workflow` at `rate_rps` under a latency SLO of `slo_s` seconds (at the optimizer's 0.99
    quantile), minimising energy on `hardware` (GPUs; CPU nodes are always allowed), once per forced
    placement of its CPU-or-GPU tool steps and once free. `knobs` fixes knob values per task and
    `prefer_models` the models per task (both as a spec's preferences)."""
    if not slo_s > 0 or not rate_rps > 0:
        raise MurakkabError(f"the SLO and the rate must be > 0 (got {slo_s} s, {rate_rps} rps)")
    tools = placeable_tools(workflow)
    if not tools:
        raise MurakkabError(f"workflow '{workflow}' has no tool step that can run on both CPU and GPU")
    knobs, prefer_models = knobs or {}, prefer_models or {}

    def plan(placement: dict[str, Kind] | None) -> PlacementOutcome:
        name = f"{STUDY}{workflow}"
        wf = _variant(workflow, placement or {}, knobs, prefer_models)
        tier = TierSpec(workflow=name, name="study", metric="latency", threshold=slo_s,
                        source=f"placement study: {slo_s:g} s")
        req = PlanRequest(demand={(name, tier.key): Demand(rate_rps, rate_rps)}, objective="energy",
                          policy="per-workflow", hardware=hardware, solver_threads=1,
                          workflows={name: ReusedWorkflow(wf, workflow)}, tiers={workflow: [tier]})
        try:
            return _outcome(make_plan(req), placement, tools)
        except MurakkabError as exc:
            return PlacementOutcome(placement, False, {}, {}, {}, None, None, reason=str(exc))

    forced = tuple(plan(dict(zip(tools, kinds))) for kinds in itertools.product(("gpu", "cpu"), repeat=len(tools)))
    return PlacementStudy(workflow, slo_s, rate_rps, tuple(hardware), forced, plan(None))


def study_table(study: PlacementStudy) -> list[dict]:
    """Rows for printing: placement, GPUs, CPU nodes, energy, critical path, SLO verdict."""
    rows = []
    for o in (*study.outcomes, study.free):
        rows.append({"placement": o.label(), "runs on": ", ".join(f"{t}: {h}" for t, h in o.chosen.items()),
                     "GPUs": o.total_gpus if o.feasible else None,
                     "CPU nodes": sum(o.cpu_nodes.values()) if o.feasible else None,
                     "kWh/epoch": o.energy_kwh_per_epoch, "critical path s": o.critical_path_s,
                     "SLO": "met" if o.feasible else "cannot be met", "why": o.reason})
    return rows
