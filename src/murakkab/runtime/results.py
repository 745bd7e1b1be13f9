"""What one call, one step and one request report back: latency, tokens, energy (Wh, with its
basis), cost ($). Pydantic models because they cross the HTTP boundary and the journal."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from murakkab.policy.accounting import EnergyBasis, merge_basis


class CallOutcome(BaseModel):
    """One backend call. `text` is the model/tool output (None for simulated calls without content)."""
    text: str | None = None
    data: Any = None                       # structured tool output (scenes, frames, test report ...)
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0                 # wall-clock seconds
    energy_wh: float = 0.0                 # facility Wh (GPU + node share) x PUE
    energy_basis: EnergyBasis = "modelled"
    cost_usd: float = 0.0
    pool: str = ""
    instance: str = ""
    attempts: int = 1
    simulated: bool = False


class StepResult(BaseModel):
    task: str
    executor: str
    kind: str
    model: str | None = None
    skipped: bool = False
    pools: list[str] = Field(default_factory=list)
    instances: list[str] = Field(default_factory=list)
    calls: int = 0
    attempts: int = 0
    started_s: float = 0.0                 # offset from the request start
    latency_s: float = 0.0                 # wall clock
    model_latency_s: float = 0.0           # model time: a simulated step's latency_s / time_scale, else latency_s
    tokens_in: int = 0
    tokens_out: int = 0
    energy_wh: float = 0.0
    energy_basis: EnergyBasis = "modelled"
    cost_usd: float = 0.0
    simulated: bool = False
    output: Any = None


def step_from_calls(step: StepResult, calls: list[CallOutcome]) -> StepResult:
    """Add up the calls of a step into it (tokens, energy, cost; pools and instances used)."""
    basis = None
    for c in calls:
        step.tokens_in += c.tokens_in
        step.tokens_out += c.tokens_out
        step.energy_wh += c.energy_wh
        step.cost_usd += c.cost_usd
        step.attempts += c.attempts
        basis = merge_basis(basis, c.energy_basis)
        if c.pool and c.pool not in step.pools:
            step.pools.append(c.pool)
        if c.instance and c.instance not in step.instances:
            step.instances.append(c.instance)
    step.calls += len(calls)
    step.simulated = step.simulated or any(c.simulated for c in calls)
    if basis is not None:
        step.energy_basis = basis
    return step


class RequestResult(BaseModel):
    request_id: str
    workflow: str
    tier: str
    plan_id: str
    status: Literal["completed", "failed", "cancelled"]
    output: Any = None
    error: str | None = None
    steps: list[StepResult] = Field(default_factory=list)
    latency_s: float = 0.0                 # end to end, wall clock
    # model time (what SLOs are judged on): critical path of the steps' model latencies plus the
    # orchestration overhead (a real cost, not scaled); equals latency_s at time_scale 1
    model_latency_s: float = 0.0
    time_scale: float = 1.0
    tokens_in: int = 0
    tokens_out: int = 0
    energy_wh: float = 0.0
    energy_basis: EnergyBasis = "modelled"
    cost_usd: float = 0.0
    overhead_s: float = 0.0                # latency_s minus the critical path of step latencies
    slo_met: bool | None = None            # policy.slo's verdict on model_latency_s; False unless completed

    @classmethod
    def total(cls, *, request_id: str, workflow: str, tier: str, plan_id: str, steps: list[StepResult],
              output: Any, latency_s: float, critical_path_s: float, model_critical_path_s: float | None = None,
              time_scale: float = 1.0) -> "RequestResult":
        basis = None
        for s in steps:
            if not s.skipped and s.calls:
                basis = merge_basis(basis, s.energy_basis)
        return cls(request_id=request_id, workflow=workflow, tier=tier, plan_id=plan_id, status="completed",
                   output=output, steps=steps, latency_s=latency_s,
                   tokens_in=sum(s.tokens_in for s in steps), tokens_out=sum(s.tokens_out for s in steps),
                   energy_wh=sum(s.energy_wh for s in steps), energy_basis=basis or "modelled",
                   cost_usd=sum(s.cost_usd for s in steps),
                   overhead_s=max(latency_s - critical_path_s, 0.0), time_scale=time_scale,
                   model_latency_s=(critical_path_s if model_critical_path_s is None else model_critical_path_s)
                   + max(latency_s - critical_path_s, 0.0))
