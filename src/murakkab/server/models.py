"""HTTP request bodies (pydantic; unknown fields rejected so typos surface)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkflowUpload(_Strict):
    spec: str = Field(description="The workflow spec as YAML text (never executed).")


class DemandItem(_Strict):
    workflow: str
    tier: str = Field(description="Tier key, e.g. accuracy:good")
    peak_rps: float = Field(ge=0)
    avg_rps: float = Field(ge=0)


class PlanBody(_Strict):
    demand: list[DemandItem] = Field(min_length=1)
    objective: Literal["energy", "cost", "accuracy"] = "energy"
    policy: Literal["static", "per-workflow", "joint"] = "joint"
    budgets: dict[str, int] = Field(default_factory=dict)
    cost_budget_usd: float | None = None
    deploy: bool = True


class InvokeBody(_Strict):
    inputs: dict[str, str]
    tier: str = Field(description="Tier key (accuracy:good) or name")
    mode: Literal["sync", "job"] = "sync"


class ChatMessage(BaseModel):
    role: str
    content: str | None = None


class ChatBody(BaseModel):
    """OpenAI chat-completions request; `model` is 'workflow:tier', e.g. 'reasoning:accuracy:good'."""
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, description="cap on generated tokens per model call of the "
                                   "workflow's output step")
    temperature: float | None = Field(default=None, ge=0, le=2, description="sampling temperature of the output "
                                      "step's model calls (real backends; the simulated one does not sample)")


class ComposeBody(_Strict):
    """A request in plain language with attached data and no workflow named (dynamic composition)."""
    query: str = Field(min_length=1, max_length=4000)
    data: dict[str, "Attachment"] = Field(default_factory=dict, description="name -> {type, value}")
    tier: str = Field(default="accuracy:good", description="Tier key every step runs at, e.g. latency:good")
    slo_s: float | None = Field(default=None, gt=0, description="latency SLO of the whole composite, seconds")


from murakkab.runtime.composite import Attachment  # noqa: E402  (the runtime's type of one attachment)

ComposeBody.model_rebuild()
