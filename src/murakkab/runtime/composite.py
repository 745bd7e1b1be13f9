"""Run a composite request: a natural-language query with attached data, decomposed by the
orchestrator into registered workflows and executors (`orchestrator/compose.py`), data flowing
between steps as text. A workflow step runs as a request of its own on the running plan's route for
the request's tier (on the plan's pools, journalled and accounted like any request). An executor
step runs as the one step of a route of the running plan at that tier that uses the executor, with
that route's model, knobs and pools (metered and accounted in the result; it has no journal row of
its own). The result says which DAG ran, why (who decomposed it, the cache, rejected proposals),
each step's request, and the totals."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from murakkab.errors import MurakkabError
from murakkab.orchestrator.compose import REQUEST, Component
from murakkab.plan.schema import Route, StepPlan
from murakkab.runtime.dag import StepFailed, run_dag
from murakkab.runtime.steps import StepRunner
from murakkab.spec import graph

if TYPE_CHECKING:
    from murakkab.runtime.service import Runtime


class Attachment(BaseModel):
    type: str = Field(description="catalogue data type, e.g. video or text")
    value: str = Field(description="the data: text, or a file path / URL for a video")


class CompositeStepResult(BaseModel):
    name: str
    uses: str                                # the workflow or executor
    kind: Literal["workflow", "executor"]
    request_id: str | None = None            # workflow steps: their request (GET /v1/jobs/{id})
    route: str | None = None                 # executor steps: the plan route whose step ran
    status: Literal["completed", "failed", "cancelled", "not run"] = "not run"
    latency_s: float = 0.0
    model_latency_s: float = 0.0
    energy_wh: float = 0.0
    cost_usd: float = 0.0
    predicted_latency_p90_s: float = 0.0     # the plan's route for this step's workflow and tier
    output: Any = None
    error: str | None = None


class CompositeResult(BaseModel):
    composite_id: str
    status: Literal["completed", "failed"]
    query: str
    tier: str
    plan_id: str
    dag: dict                                  # steps (workflow, inputs), edges, output
    decomposed_by: str                         # orchestrator LLM <model> | matcher | cache (first by ...)
    confidence: float | None = None            # the matcher's, when it decomposed
    why: str = ""
    rejected: list[str] = Field(default_factory=list)   # proposals sent back before one type-checked
    steps: list[CompositeStepResult]
    output: Any = None
    error: str | None = None
    latency_s: float = 0.0                     # wall clock, decomposition included
    decompose_s: float = 0.0
    model_critical_path_s: float = 0.0         # critical path of the steps' model latencies
    predicted_latency_p90_s: float = 0.0       # critical path of the routes' predicted p90
    slo_s: float | None = None
    slo_met: bool | None = None                # model_critical_path_s <= slo_s, when an SLO was given
    energy_wh: float = 0.0
    cost_usd: float = 0.0


def output_text(output: Any) -> str:
    """A step's output as text, for a chat answer or the next step's text input."""
    import json
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and "answer" in output:
        return str(output["answer"])
    if isinstance(output, list):
        return "\n\n".join(str(x) for x in output)
    return json.dumps(output, default=str)


def executor_steps(rt: "Runtime", tenant: str, tier: str) -> dict[str, tuple[Route, StepPlan]]:
    """For each executor that some route of the running plan at `tier` runs (on a route `tenant` may
    use), the first such route and step: where an executor step of a composite runs."""
    out: dict[str, tuple[Route, StepPlan]] = {}
    if rt.cluster is None:
        return out
    mine = {rt.registry.plan_name(tenant, n) for n in rt.registry.names(tenant)}
    for route in rt.cluster.current_plan().routes:
        if route.workflow not in mine or tier not in (route.tier.key, route.tier.name):
            continue
        for step in route.steps:
            if not step.skipped and "." not in step.task and step.pools:
                out.setdefault(step.executor, (route, step))
    return out


def registry_for(rt: "Runtime", tenant: str, tier: str) -> dict[str, Component]:
    """The workflows `tenant` may use that the running plan has a route for at `tier`, and the
    executors those routes run."""
    from murakkab.catalog import load_catalog
    out: dict[str, Component] = {}
    if rt.cluster is None:
        return out
    for name in rt.registry.names(tenant):
        try:
            rt.cluster.current_plan().route(rt.registry.plan_name(tenant, name), tier)
            wf = rt.workflow(tenant, name)
        except (KeyError, MurakkabError):
            continue
        out[name] = Component.of_workflow(name, wf)
    cat = load_catalog()
    for ex in executor_steps(rt, tenant, tier):
        if ex in cat.executors and ex not in out:
            e = cat.executors[ex]
            out[ex] = Component.of_executor(e, cat.capabilities[e.capability])
    return out


async def run_composite(rt: "Runtime", tenant: str, query: str, data: dict[str, Attachment], tier: str, *,
                        slo_s: float | None = None, max_concurrency: int | None = None) -> CompositeResult:
    """Decompose (or take from the cache), type-check, and run. Raises MurakkabError before anything
    runs when the request cannot be composed; a step that fails ends the composite as failed."""
    from murakkab.catalog import load_catalog
    t0 = time.perf_counter()
    if rt.cluster is None:
        from murakkab.runtime.service import Conflict
        raise Conflict("no plan is deployed (fix: POST /v1/plans with the demand to plan for)")
    if slo_s is not None and not slo_s > 0:
        raise MurakkabError(f"slo_s must be > 0 seconds, got {slo_s}")
    types = load_catalog().types
    for name, a in data.items():
        if a.type not in types:
            from murakkab.names import did_you_mean
            raise MurakkabError(f"attachment '{name}' has unknown type '{a.type}' (fix: use a catalogue type; "
                                f"{did_you_mean(a.type, types)})")
    registry = registry_for(rt, tenant, tier)
    dec = await asyncio.to_thread(rt.composer.decompose, query, {k: a.type for k, a in data.items()}, registry,
                                  tenant)
    decompose_s = time.perf_counter() - t0
    comp = dec.composite
    order = [s.name for s in comp.steps]
    by_name = {s.name: s for s in comp.steps}
    preds = {s.name: s.after for s in comp.steps}
    placed = executor_steps(rt, tenant, tier)
    predicted: dict[str, float] = {}
    steps: dict[str, CompositeStepResult] = {}
    for s in comp.steps:
        if s.kind == "workflow":
            predicted[s.name] = rt.route(rt.registry.plan_name(tenant, s.uses), tier).latency_p90_s
            steps[s.name] = CompositeStepResult(name=s.name, uses=s.uses, kind=s.kind)
        else:
            route, plan_step = placed[s.uses]
            predicted[s.name] = max(ps.latency_p90_s for ps in plan_step.pools)
            steps[s.name] = CompositeStepResult(name=s.name, uses=s.uses, kind=s.kind,
                                                route=f"{route.workflow}/{route.tier.key}/{plan_step.task}")
        steps[s.name].predicted_latency_p90_s = predicted[s.name]
    values = {f"{REQUEST}query": query, **{f"{REQUEST}{k}": a.value for k, a in data.items()}}
    outputs: dict[str, Any] = {}
    runner = StepRunner(rt.cluster, max_tokens=rt.cfg.max_tokens)
    composite_id = uuid.uuid4().hex

    async def run_executor(name: str, ins: dict) -> None:
        route, plan_step = placed[by_name[name].uses]
        started = time.perf_counter()
        res = await runner.run(f"{composite_id}/{name}", route, plan_step, ins, route.knobs)
        latency = time.perf_counter() - started
        steps[name] = steps[name].model_copy(update={
            "status": "completed", "latency_s": latency,
            "model_latency_s": latency / rt.cfg.time_scale if res.simulated else latency,
            "energy_wh": res.energy_wh, "cost_usd": res.cost_usd, "output": res.output})
        outputs[name] = res.output

    async def run(name: str) -> None:
        step = by_name[name]
        ins = {port: values[src] if src.startswith(REQUEST) else output_text(outputs[src])
               for port, src in step.inputs.items()}
        if step.kind == "executor":
            return await run_executor(name, ins)
        rid = rt.submit(tenant, step.uses, tier, ins, mode="sync", max_concurrency=max_concurrency)
        steps[name].request_id = rid
        res = await rt.wait(rid)
        steps[name] = steps[name].model_copy(update={
            "status": res.status, "latency_s": res.latency_s, "model_latency_s": res.model_latency_s,
            "energy_wh": res.energy_wh, "cost_usd": res.cost_usd, "output": res.output, "error": res.error})
        if res.status != "completed":
            raise MurakkabError(f"step '{name}' ({step.uses}) {res.status}: {res.error}")
        outputs[name] = res.output

    error = None
    try:
        await run_dag(preds, run)
    except StepFailed as exc:
        error = str(exc.cause)
        if steps[exc.step].status == "not run":      # an executor step that raised
            steps[exc.step] = steps[exc.step].model_copy(update={"status": "failed", "error": error})
    model_cp = graph.critical_path(preds, {n: s.model_latency_s for n, s in steps.items()})[0]
    status = "completed" if error is None else "failed"
    return CompositeResult(
        composite_id=composite_id, status=status, query=query, tier=tier, plan_id=rt.cluster.plan.plan_id, dag=comp.shape(),
        decomposed_by=dec.how, confidence=dec.confidence, why=comp.why, rejected=list(dec.rejected),
        steps=[steps[n] for n in order], output=outputs.get(comp.output), error=error,
        latency_s=time.perf_counter() - t0, decompose_s=decompose_s, model_critical_path_s=model_cp,
        predicted_latency_p90_s=graph.critical_path(preds, predicted)[0],
        slo_s=slo_s, slo_met=(status == "completed" and model_cp <= slo_s) if slo_s is not None else None,
        energy_wh=sum(s.energy_wh for s in steps.values()), cost_usd=sum(s.cost_usd for s in steps.values()))
