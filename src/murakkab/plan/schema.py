"""Versioned Plan document (JSON). Produced by the optimizer; read by the runtime and the simulator.

Vocabulary
- Route: one (workflow, tier): its configuration (knob values), and per step the executor, model and
  the pools that serve it with routing shares.
- Pool: instances of one (model or tool) x hardware x parallelism x operating point, shared by every
  route that sends calls to it. Instance count sized for the forecast peak.
- Busy-seconds: instance-seconds of a pool one call occupies (tokens / instance throughput for a
  model; latency / concurrency for a tool). Capacity and energy are linear in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from murakkab.spec import graph

PLAN_SCHEMA_VERSION = 1
KnobValue = Union[int, str]


class TierSpec(BaseModel):
    """An SLO tier of one workflow: accuracy >= threshold, or p-latency <= threshold seconds."""
    model_config = ConfigDict(frozen=True)
    workflow: str
    name: str                                     # best | good | fair | basic
    metric: Literal["accuracy", "latency"]
    threshold: float                              # percent (accuracy) or seconds (latency)
    accuracy_floor: float | None = None           # latency tiers still get at least this accuracy
    source: str = ""                              # how the threshold was derived

    @property
    def key(self) -> str:
        return f"{self.metric}:{self.name}"


class PoolShare(BaseModel):
    """Fraction of a step's calls routed to one pool."""
    model_config = ConfigDict(frozen=True)
    pool: str
    share: float = Field(gt=0, le=1)
    latency_p50_s: float          # this step's latency on this pool (all sequential calls)
    latency_p90_s: float
    busy_s_per_request: float     # instance-seconds of the pool per request (all calls of the step)
    latency_slo_s: float | None = None   # at the plan's latency quantile (what latency SLOs are checked on)
    ttft_s: float | None = None          # TTFT used for this step on this pool (estimated if not measured)


class StepPlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    task: str
    capability: str
    executor: str
    kind: Literal["llm", "composition", "tool"]
    model: str | None = None                      # catalogue model id (None for tools)
    skipped: bool = False                          # e.g. speech-to-text switched off by a knob
    calls_sequential: int = 1
    calls_parallel: int = 1
    input_tokens: float = 0.0                      # per call
    output_tokens_p50: float = 0.0                 # per call
    output_tokens_p90: float = 0.0
    output_tokens_p99: float = 0.0
    pools: list[PoolShare] = Field(default_factory=list)


class RouteVariant(BaseModel):
    """A share of a route's requests that runs every step on the given pools together.

    Present when a latency SLO couples the steps: each variant meets the SLO on its own, while
    independent per-step choices might not. Routers then pick a variant per request.
    """
    model_config = ConfigDict(frozen=True)
    share: float = Field(gt=0, le=1)
    pools: dict[str, str]                          # task -> pool id


class Route(BaseModel):
    """The executable DAG of one (workflow, tier)."""
    model_config = ConfigDict(frozen=True)
    workflow: str
    tier: TierSpec
    knobs: dict[str, KnobValue]
    steps: list[StepPlan]                          # in topological order
    edges: list[tuple[str, str]]                   # (producer task, consumer task)
    variants: list[RouteVariant] = Field(default_factory=list)  # joint pool choices; empty = per-step shares
    accuracy_percent: float
    accuracy_basis: str                            # measured | derived
    latency_p50_s: float                           # predicted end-to-end (critical path)
    latency_p90_s: float
    rate_peak_rps: float
    rate_avg_rps: float
    # peak rate per time slot of the epoch when the plan was sized slot by slot (empty: one slot)
    rate_slot_peaks_rps: tuple[float, ...] = ()
    energy_wh_per_request: float
    cost_usd_per_request: float

    @model_validator(mode="after")
    def _a_dag_over_its_steps(self) -> "Route":
        where = f"route {self.workflow}/{self.tier.key}"
        names = [s.task for s in self.steps]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{where}: step(s) {', '.join(dup)} appear more than once (fix: one step per task)")
        known = set(names)
        for a, b in self.edges:
            unknown = [n for n in (a, b) if n not in known]
            if unknown:
                raise ValueError(f"{where}: edge ({a}, {b}) names unknown step(s) {', '.join(unknown)}; the steps "
                                 f"are {', '.join(names)} (fix: an edge joins two of the route's steps)")
            if a == b:
                raise ValueError(f"{where}: edge ({a}, {b}) joins a step to itself (fix: remove it)")
        cycle = graph.find_cycle(self.predecessors())
        if cycle:
            raise ValueError(f"{where}: its steps form a cycle {' -> '.join(cycle)} (fix: a route is a DAG)")
        for v in self.variants:
            stray = sorted(set(v.pools) - known)
            if stray:
                raise ValueError(f"{where}: a variant names unknown step(s) {', '.join(stray)}")
        return self

    def predecessors(self) -> dict[str, tuple[str, ...]]:
        """task -> the tasks it reads from, in step order (the map spec/graph.py works on)."""
        preds: dict[str, list[str]] = {s.task: [] for s in self.steps}
        for a, b in self.edges:
            if a not in preds[b]:
                preds[b].append(a)
        return {t: tuple(ps) for t, ps in preds.items()}

    def topological_order(self) -> list[str]:
        """Tasks so that every task follows its producers (ties keep step order)."""
        return graph.topological_order(self.predecessors())

    def critical_path(self, weight: Mapping[str, float]) -> tuple[float, tuple[str, ...]]:
        """The heaviest source-to-sink path by summed step weight (a step missing from `weight` weighs
        0, e.g. one that did not run): (total, path)."""
        preds = self.predecessors()
        return graph.critical_path(preds, {t: weight.get(t, 0.0) for t in preds})


class PoolUser(BaseModel):
    model_config = ConfigDict(frozen=True)
    workflow: str
    tier: str                                      # TierSpec.key
    task: str
    share_of_pool_load: float                      # fraction of the pool's average busy time


class Pool(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    kind: Literal["model", "tool"]
    model: str | None = None                       # catalogue model id (model pools)
    tool: str | None = None                        # executor name (tool pools)
    profile: str                                   # ProfileKey label or tool profile label
    profile_basis: str                             # measured | proxy | derived | estimate
    hardware: str
    units_per_instance: int                        # GPUs (or CPU nodes) per instance
    max_num_seqs: int | None = None                # operating point (model pools)
    tpot_p50_s: float | None = None
    tpot_p90_s: float | None = None
    ttft_s: float | None = None
    throughput_tok_s: float | None = None          # per instance at the operating point
    concurrency: int = 1                           # calls one instance serves at once
    power_busy_w: float                            # per instance, accelerators only
    power_idle_w: float                            # per instance, accelerators only
    node_overhead_w: float                         # per instance: its share of non-accelerator node power
    price_usd_per_hour: float                      # per instance
    instances: int
    busy_s_per_s_peak: float                       # offered load at the forecast peak (instance-seconds/s)
    busy_s_per_s_avg: float
    utilisation_avg: float
    users: list[PoolUser]


class PlanTotals(BaseModel):
    model_config = ConfigDict(frozen=True)
    gpus_by_type: dict[str, int]
    cpu_nodes_by_type: dict[str, int] = Field(default_factory=dict)
    energy_kwh_per_epoch: float
    energy_wh_per_request: float
    cost_usd_per_epoch: float
    cost_usd_per_request: float
    accuracy_percent_avg: float                    # request-weighted over routes


class SolveInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    solver: str
    status: str
    solve_time_s: float
    mip_gap: float
    objective_value: float
    variables: int
    integer_variables: int
    constraints: int


class Plan(BaseModel):
    schema_version: int = PLAN_SCHEMA_VERSION
    plan_id: str
    created_unix: float
    policy: Literal["static", "per-workflow", "joint"]
    objective: Literal["energy", "cost", "accuracy"]
    epoch_s: float
    pue: float
    token_percentile_capacity: str                 # p50 | p90 | p99: tokens per call used for capacity
    latency_quantile: float = 0.99                 # latency SLOs are planned at this quantile
    alpha: float = 1.15                            # peak buffer applied to capacity
    latency_target_utilisation: float = 1.0        # latency-tier load counts 1/this against capacity
    # pools with a latency-tier user: an arriving call finds every slot busy (Erlang C at the buffered
    # peak) with at most this probability; 1.0: no queueing bound (plans before it, static)
    latency_wait_probability: float = 1.0
    routes: list[Route]
    pools: list[Pool]
    totals: PlanTotals
    solve: list[SolveInfo]                         # one per solve (per-workflow has several)
    notes: list[str] = Field(default_factory=list)

    def route(self, workflow: str, tier: str) -> Route:
        """The route for (workflow, tier key or tier name)."""
        for r in self.routes:
            if r.workflow == workflow and (r.tier.key == tier or r.tier.name == tier):
                return r
        known = ", ".join(f"{r.workflow}/{r.tier.key}" for r in self.routes)
        raise KeyError(f"no route for {workflow}/{tier}; plan has: {known}")

    def pool(self, pool_id: str) -> Pool:
        for p in self.pools:
            if p.id == pool_id:
                return p
        raise KeyError(f"no pool '{pool_id}' in plan {self.plan_id}")

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        return cls.model_validate_json(text)
