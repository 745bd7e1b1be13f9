"""The request one instance serves, and the errors a backend raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from murakkab.errors import MurakkabError


@dataclass
class CallRequest:
    """One model or tool call. Model calls carry chat `messages`; tool calls carry `payload`.
    `out_p50`/`out_p90` are the plan's output tokens per call (the simulated backend draws from a
    log-normal fitted to them); `service_s` is a simulated tool's service time (model seconds)."""
    call_id: str
    messages: list[dict] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None                 # sent to real backends; the simulated one has no sampling
    input_tokens: float = 0.0
    out_p50: float = 0.0
    out_p90: float = 0.0
    service_s: float = 0.0
    payload: Any = None
    on_token: Callable[[str], None] | None = None   # streaming: called with each content delta


@dataclass(frozen=True)
class CallOrigin:
    """Which step of which route a call serves: what moving it off a retired pool needs."""
    workflow: str
    tier: str           # tier key, e.g. "accuracy:good"
    task: str


class BackendError(MurakkabError):
    """A call failed on one instance. `retryable`: another attempt (same or other instance) may
    succeed (HTTP 5xx, timeout, connection lost); `instance_down`: skip this instance for a while."""

    def __init__(self, message: str, *, retryable: bool = True, instance_down: bool = False,
                 status: int | None = None):
        super().__init__(message)
        self.retryable, self.instance_down, self.status = retryable, instance_down, status


class BadInput(MurakkabError):
    """The request's own input cannot be used (e.g. its video file is missing or not a video): the
    client must fix it, so it is not retried and the request fails with HTTP 422."""


class NoInstanceLeft(MurakkabError):
    """Every instance of the pool failed or none is ready: the call cannot be served (HTTP 503)."""
