"""HTTP request bodies (pydantic; unknown fields rejected so typos surface)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The Idempotency-Key header: a retry with the same key returns the first request's job.
IDEMPOTENCY_KEY = {"max_length": 255, "description": "a retry with the same key (per tenant) returns the first "
                   "request's job instead of starting another; the key is journalled, so this holds across restarts"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkflowUpload(_Strict):
    spec: str = Field(description="The workflow spec as YAML text (never executed).")


class DemandItem(_Strict):
    workflow: str
    tier: str = Field(description="Tier key, e.g. accuracy:good")
    peak_rps: float = Field(gt=0, allow_inf_nan=False, description="requests/s the plan must carry at peak (> 0: "
                            "leave out a tier with no demand)")
    avg_rps: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _avg_within_peak(self):
        if self.avg_rps > self.peak_rps:
            raise ValueError(f"avg_rps {self.avg_rps} is above peak_rps {self.peak_rps} (fix: the average cannot "
                             "exceed the peak)")
        return self


class PlanBody(_Strict):
    demand: list[DemandItem] = Field(min_length=1)
    objective: Literal["energy", "cost", "accuracy"] = "energy"
    policy: Literal["static", "per-workflow", "joint"] = "joint"
    budgets: dict[str, int] = Field(default_factory=dict)
    cost_budget_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    deploy: bool = True

    @model_validator(mode="after")
    def _one_entry_per_tier(self):
        seen, twice = set(), []
        for d in self.demand:
            key = (d.workflow, d.tier)
            if key in seen and key not in twice:
                twice.append(key)
            seen.add(key)
        if twice:
            names = ", ".join(f"{w} {t}" for w, t in twice)
            raise ValueError(f"demand lists {names} more than once (fix: one entry per workflow and tier, with the "
                             "summed rates)")
        return self


class InvokeBody(_Strict):
    inputs: dict[str, str]
    tier: str = Field(description="Tier key (accuracy:good) or name")
    mode: Literal["sync", "job"] = "sync"
    deadline_s: float | None = Field(default=None, gt=0, allow_inf_nan=False, description="fail the request "
                                     "(504) when it runs longer than this many seconds; default: 3x a latency "
                                     "tier's target, else the server's --request-timeout")
    cancel_on_disconnect: bool = Field(default=False, description="jobs: cancel when the client watching "
                                       "/v1/jobs/{id}/events leaves before the job ends (sync requests always are)")


class TextPart(BaseModel):
    """An OpenAI content part; only `text` parts carry what a chat-shaped workflow takes."""
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    role: str
    content: str | list[TextPart] | None = None

    def text(self) -> str | None:
        """The message's text: a string as it is; content parts' texts joined by newlines."""
        if self.content is None or isinstance(self.content, str):
            return self.content
        others = sorted({p.type for p in self.content if p.type != "text"})
        if others:
            from murakkab.errors import MurakkabError
            raise MurakkabError(f"content parts of type {others} are not supported: chat-shaped workflows take text "
                                "(fix: send only {'type': 'text', 'text': ...} parts)")
        return "\n".join(p.text or "" for p in self.content)


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
