"""Structured ids, each with one text form and one parser.

Plans, journals and the MILP keep ids as text (JSON keys, dict keys, file names); whatever builds or
reads the parts of one goes through these types, never through `split` by hand.

- `RouteKey`: a (workflow, tier) pair, "video_qa/latency:good". Workflow names may hold "/" (an
  upload is "tenant/name"); tier keys never do, so the last "/" separates them.
- `TenantWorkflow`: an uploaded workflow's name in plans, "tenant/name".
- `WorkflowCopy`: a demand name for a copy of a workflow with demand of its own, "video_qa#7"
  (scaled scenarios plan several copies of one workflow).
- `StepName`: a route's step, a workflow task or the tool part the plan adds to a composition task
  ("tests.run": the generated tests run in the Python interpreter).
- `PoolId`: a pool the optimizer made, "model|profile label|mns64" or "tool|1xCPU-64C", with
  "~latency" when the pool is reserved for latency tiers and "scope::" in front when the
  per-workflow policy gives one (workflow, tier) its own pools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_TIER = re.compile(r"^(accuracy|latency):[A-Za-z0-9_-]+$")


def _check(part: str, what: str, text: str, forbidden: str = "") -> str:
    if not part or any(ch in part for ch in forbidden):
        bad = f" (it may not contain {' or '.join(repr(c) for c in forbidden)})" if forbidden else ""
        raise ValueError(f"'{text}' is not a valid {what}: empty or malformed part '{part}'{bad}")
    return part


@dataclass(frozen=True, order=True)
class RouteKey:
    workflow: str
    tier: str                      # tier key, e.g. latency:good

    def __post_init__(self) -> None:
        _check(self.workflow, "route key", str(self))
        if not _TIER.match(self.tier):
            raise ValueError(f"'{self}' is not a valid route key: tier '{self.tier}' is not metric:name "
                             "(fix: e.g. video_qa/latency:good)")

    def __str__(self) -> str:
        return f"{self.workflow}/{self.tier}"

    @classmethod
    def parse(cls, text: str) -> "RouteKey":
        workflow, sep, tier = text.rpartition("/")
        if not sep:
            raise ValueError(f"'{text}' is not a route key 'workflow/metric:tier' (fix: e.g. video_qa/latency:good)")
        return cls(workflow, tier)


@dataclass(frozen=True)
class TenantWorkflow:
    tenant: str
    name: str

    def __post_init__(self) -> None:
        _check(self.tenant, "tenant workflow", str(self), "/")
        _check(self.name, "tenant workflow", str(self), "/")

    def __str__(self) -> str:
        return f"{self.tenant}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> "TenantWorkflow":
        tenant, sep, name = text.partition("/")
        if not sep:
            raise ValueError(f"'{text}' is not a tenant workflow (fix: name it 'tenant/workflow')")
        return cls(tenant, name)


@dataclass(frozen=True)
class WorkflowCopy:
    base: str                      # the workflow whose profiles the copy uses
    index: int | None = None       # None: the workflow itself

    def __str__(self) -> str:
        return self.base if self.index is None else f"{self.base}#{self.index}"

    @classmethod
    def parse(cls, text: str) -> "WorkflowCopy":
        base, sep, index = text.partition("#")
        _check(base, "workflow name", text)
        if not sep:
            return cls(base)
        if not index.isdigit():
            raise ValueError(f"'{text}' is not a workflow copy 'name#N' (fix: a whole number after '#')")
        return cls(base, int(index))


TOOL_PART = ".run"


@dataclass(frozen=True)
class StepName:
    task: str                      # the workflow's task
    tool_part: bool = False        # the tool part the plan adds to a composition task

    def __str__(self) -> str:
        return self.task + (TOOL_PART if self.tool_part else "")

    @classmethod
    def parse(cls, text: str) -> "StepName":
        if text.endswith(TOOL_PART) and len(text) > len(TOOL_PART):
            return cls(text[: -len(TOOL_PART)], True)
        return cls(text)


LATENCY_COPY = "~latency"
_SCOPE = "::"


@dataclass(frozen=True)
class PoolId:
    name: str                          # model id (model pools) or tool executor (tool pools)
    placement: str                     # the profile label (models) or units x hardware (tools)
    max_num_seqs: int | None = None    # the operating point of a model pool; None for tools
    latency_copy: bool = False         # reserved for latency tiers (the joint policy's twin pools)
    scope: str | None = None           # the route key whose own pool this is (per-workflow policy)

    def __post_init__(self) -> None:
        for part in (self.name, self.placement):
            _check(part, "pool id", part, "|~")

    @property
    def kind(self) -> str:
        return "tool" if self.max_num_seqs is None else "model"

    def __str__(self) -> str:
        text = f"{self.name}|{self.placement}" + ("" if self.max_num_seqs is None else f"|mns{self.max_num_seqs}")
        text += LATENCY_COPY if self.latency_copy else ""
        return text if self.scope is None else f"{self.scope}{_SCOPE}{text}"

    def short(self) -> str:
        """Where and how the pool runs, for tables: 'profile label|mns64' or '1xCPU-64C'."""
        return self.placement + ("" if self.max_num_seqs is None else f"|mns{self.max_num_seqs}")

    def as_latency_copy(self) -> "PoolId":
        return replace(self, latency_copy=True)

    def scoped(self, scope: str) -> "PoolId":
        return replace(self, scope=scope)

    @classmethod
    def parse(cls, text: str) -> "PoolId":
        scope, sep, rest = text.rpartition(_SCOPE)
        copy = rest.endswith(LATENCY_COPY)
        if copy:
            rest = rest[: -len(LATENCY_COPY)]
        parts = rest.split("|")
        if len(parts) == 3 and parts[2].startswith("mns") and parts[2][3:].isdigit():
            return cls(parts[0], parts[1], int(parts[2][3:]), copy, scope if sep else None)
        if len(parts) == 2:
            return cls(parts[0], parts[1], None, copy, scope if sep else None)
        raise ValueError(f"'{text}' is not a pool id the optimizer makes ('model|profile|mnsN' or "
                         "'tool|NxHARDWARE', optionally 'scope::' before and '~latency' after)")


def unscoped(text: str) -> str:
    """A pool id without its per-workflow scope, for tables; other ids as they are."""
    try:
        return str(replace(PoolId.parse(text), scope=None))
    except ValueError:
        return text


def pool_label(text: str) -> str:
    """A pool's short label for tables; a pool id not made by the optimizer (a hand-written plan's) as
    it is."""
    try:
        return PoolId.parse(text).short()
    except ValueError:
        return text
