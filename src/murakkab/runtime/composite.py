"""Run a composite request: a natural-language query with attached data, decomposed by the
orchestrator into registered workflows (`orchestrator/compose.py`), each step run as a request of
its own on the running plan's route for the request's tier (so on the plan's pools, journalled and
accounted like any request), data flowing between steps as text. The result says which DAG ran,
why (who decomposed it, the cache, rejected proposals), each step's request, and the totals."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from murakkab.errors import MurakkabError
from murakkab.orchestrator.compose import REQUEST, WorkflowInterface
from murakkab.runtime.dag import StepFailed, run_dag
from murakkab.spec import graph

if TYPE_CHECKING:
    from murakkab.runtime.service import Runtime


class Attachment(BaseModel):
    type: str = Field(description="catalogue data type, e.g. video or text")
    value: str = Field(description="the data: text, or a file path / URL for a video")


class CompositeStepResult(BaseModel):
    name: str
    workflow: str
    request_id: str | None = None
    status: Literal["completed", "failed", "cancelled", "not run"] = "not run"
    latency_s: float = 0.0
    model_latency_s: float = 0.0
    energy_wh: float = 0.0
    cost_usd: float = 0.0
    predicted_latency_p90_s: float = 0.0     # the plan's route for this step's workflow and tier
    output: Any = None
    error: str | None = None


class CompositeResult(BaseModel):
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


def registry_for(rt: "Runtime", tenant: str, tier: str) -> dict[str, WorkflowInterface]:
    """The workflows `tenant` may use that the running plan has a route for at `tier`."""
    out = {}
    if rt.cluster is None:
        return out
    for name in rt.workflow_names(tenant):
        try:
            rt.cluster.current_plan().route(rt.plan_name(tenant, name), tier)
            wf = rt.workflow(tenant, name)
        except (KeyError, MurakkabError):
            continue
        out[name] = WorkflowInterface.of(name, wf)
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
    routes = {s.name: rt.route(rt.plan_name(tenant, s.workflow), tier) for s in comp.steps}
    values = {f"{REQUEST}query": query, **{f"{REQUEST}{k}": a.value for k, a in data.items()}}
    steps = {s.name: CompositeStepResult(name=s.name, workflow=s.workflow,
                                         predicted_latency_p90_s=routes[s.name].latency_p90_s) for s in comp.steps}
    outputs: dict[str, Any] = {}

    async def run(name: str) -> None:
        step = by_name[name]
        ins = {port: values[src] if src.startswith(REQUEST) else output_text(outputs[src])
               for port, src in step.inputs.items()}
        rid = rt.submit(tenant, step.workflow, tier, ins, mode="sync", max_concurrency=max_concurrency)
        steps[name].request_id = rid
        res = await rt.wait(rid)
        steps[name] = steps[name].model_copy(update={
            "status": res.status, "latency_s": res.latency_s, "model_latency_s": res.model_latency_s,
            "energy_wh": res.energy_wh, "cost_usd": res.cost_usd, "output": res.output, "error": res.error})
        if res.status != "completed":
            raise MurakkabError(f"step '{name}' ({step.workflow}) {res.status}: {res.error}")
        outputs[name] = res.output

    error = None
    try:
        await run_dag(preds, run)
    except StepFailed as exc:
        error = str(exc.cause)
    model_cp = graph.critical_path(preds, {n: s.model_latency_s for n, s in steps.items()})[0]
    status = "completed" if error is None else "failed"
    return CompositeResult(
        status=status, query=query, tier=tier, plan_id=rt.cluster.plan.plan_id, dag=comp.shape(),
        decomposed_by=dec.how, confidence=dec.confidence, why=comp.why, rejected=list(dec.rejected),
        steps=[steps[n] for n in order], output=outputs.get(comp.output), error=error,
        latency_s=time.perf_counter() - t0, decompose_s=decompose_s, model_critical_path_s=model_cp,
        predicted_latency_p90_s=graph.critical_path(preds, {n: r.latency_p90_s for n, r in routes.items()})[0],
        slo_s=slo_s, slo_met=(status == "completed" and model_cp <= slo_s) if slo_s is not None else None,
        energy_wh=sum(s.energy_wh for s in steps.values()), cost_usd=sum(s.cost_usd for s in steps.values()))
