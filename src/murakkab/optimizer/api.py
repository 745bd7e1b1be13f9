"""make_plan: demand + objective + budgets -> a Plan, under one of three policies in one code path.

- joint: every (workflow, tier) in one MILP; pools are shared wherever two users pick the same
  (model, hardware, parallelism, operating point).
- per-workflow: each (workflow, tier) solved alone with pools of its own (no sharing).
- static: one hand-picked configuration and pool per workflow for every tier
  (`data/static_baseline.yaml`), instance counts sized by the same capacity rule.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from murakkab.catalog import load_catalog
from murakkab.errors import MurakkabError
from murakkab.optimizer import milp
from murakkab.optimizer.steps import ConfigModel
from murakkab.optimizer.tiers import derive_tiers, tier_by_key
from murakkab.optimizer.world import WorkflowModel, workflow_model
from murakkab.plan import Plan, TierSpec
from murakkab.spec import LogicalWorkflow

Policy = Literal["static", "per-workflow", "joint"]


@dataclass(frozen=True)
class Demand:
    """Request rates of one (workflow, tier) over an epoch: peak sizes instances, average drives energy."""
    peak_rps: float
    avg_rps: float

    def __post_init__(self) -> None:
        if not (self.peak_rps >= 0 and self.avg_rps >= 0):
            raise MurakkabError(f"request rates must be >= 0 (got peak {self.peak_rps}, average {self.avg_rps})")
        if self.avg_rps > self.peak_rps + 1e-12:
            raise MurakkabError(f"average rate {self.avg_rps} exceeds peak rate {self.peak_rps}; "
                                "the peak must be at least the average")


@dataclass(frozen=True)
class ReusedWorkflow:
    """A workflow that is not built in, planned with the workflow profiles of `profiles` (a profiled
    workflow with the same tasks, capabilities and edges)."""
    workflow: LogicalWorkflow
    profiles: str


@dataclass(frozen=True)
class PlanRequest:
    demand: dict[tuple[str, str], Demand]           # (workflow, tier key "accuracy:good") -> rates
    objective: Literal["energy", "cost", "accuracy"] = "energy"
    policy: Policy = "joint"
    budgets: dict[str, int] = field(default_factory=dict)   # hardware -> GPUs (or CPU nodes) available
    pue: float = 1.2                                 # estimate: typical hyperscale facility
    epoch_s: float = 3600.0
    cost_budget_usd: float | None = None             # per epoch; for the accuracy objective
    alpha: float = 1.15                              # peak buffer (papers.md §1.10)
    # Latency-tier load may be planned at a target utilisation below 1 of the pools it uses, so that
    # queueing at a busy pool does not eat its latency budget (the latency model has no queueing
    # term). Off by default: alpha already buffers the peak.
    latency_target_utilisation: float = 1.0
    capacity_percentile: Literal["p50", "p90", "p99"] = "p90"   # paper: provision on p90 tokens
    latency_quantile: float = 0.99                   # latency SLOs are planned at this quantile
    hardware: tuple[str, ...] | None = None          # restrict to these hardware types
    mip_rel_gap: float = 1e-3
    time_limit_s: float = 60.0
    tiers: dict[str, list[TierSpec]] | None = None   # override derived tiers per workflow
    # demand names that are not built-in workflows (e.g. a tenant's upload "alice/my_vqa") -> the
    # workflow and the profiled workflow whose profiles it reuses
    workflows: dict[str, ReusedWorkflow] = field(default_factory=dict)


def _check_request(req: PlanRequest) -> None:
    cat = load_catalog()
    if not req.demand:
        raise MurakkabError("no demand given: pass at least one (workflow, tier) with a request rate")
    if req.pue < 1.0:
        raise MurakkabError(f"PUE must be >= 1 (got {req.pue})")
    if req.epoch_s <= 0:
        raise MurakkabError(f"epoch length must be > 0 s (got {req.epoch_s})")
    for hw, n in req.budgets.items():
        cat.hw(hw)
        if n < 0:
            raise MurakkabError(f"budget for {hw} must be >= 0 (got {n})")
    if req.budgets and all(n == 0 for n in req.budgets.values()) and req.hardware is None:
        raise MurakkabError("every hardware budget is 0: nothing can run; raise a budget")
    for hw in req.hardware or ():
        cat.hw(hw)
    if req.objective == "accuracy" and (req.cost_budget_usd is None or req.cost_budget_usd <= 0):
        raise MurakkabError("the accuracy objective needs a positive cost budget per epoch (cost_budget_usd)")
    if not 0.1 <= req.latency_target_utilisation <= 1.0:
        raise MurakkabError(f"latency target utilisation must be in [0.1, 1] (got {req.latency_target_utilisation})")
    if not 0.5 <= req.latency_quantile < 1.0:
        raise MurakkabError(f"latency quantile must be in [0.5, 1) (got {req.latency_quantile})")


def _models(req: PlanRequest) -> dict[str, WorkflowModel]:
    names = sorted({w for w, _ in req.demand})
    allowed = set(req.hardware) | {h for h, hw in load_catalog().hardware.items() if hw.kind == "cpu"} \
        if req.hardware else None
    # "video_qa#7" is a copy of the built-in video_qa with its own demand (scaled scenarios)
    out = {}
    for w in names:
        reused = req.workflows.get(w)
        if reused is not None:
            out[w] = workflow_model(reused.workflow, latency_quantile=req.latency_quantile,
                                    capacity_percentile=req.capacity_percentile, hardware_allowed=allowed,
                                    profiles=reused.profiles)
        else:
            out[w] = _cached_model(base_workflow(w), req.latency_quantile, req.capacity_percentile,
                                   tuple(sorted(allowed)) if allowed else None)
    return out


def base_workflow(name: str) -> str:
    """The workflow a demand key refers to: 'video_qa#7' -> 'video_qa'."""
    return name.split("#", 1)[0]


def _profiled_as(req: PlanRequest, name: str) -> str:
    """The profiled workflow a demand name is planned as (its reused profiles, else its base)."""
    reused = req.workflows.get(name)
    return reused.profiles if reused is not None else base_workflow(name)


@cache
def _cached_model(workflow: str, latency_quantile: float, capacity_percentile: str,
                  allowed: tuple[str, ...] | None) -> WorkflowModel:
    return workflow_model(workflow, latency_quantile=latency_quantile, capacity_percentile=capacity_percentile,
                          hardware_allowed=set(allowed) if allowed else None)


def tiers_for(workflow: str | LogicalWorkflow, profiles: str | None = None) -> list[TierSpec]:
    """The workflow's accuracy and latency tiers, derived from the catalogue. A workflow object that
    is not built in is given with `profiles`, the profiled workflow whose profiles it reuses."""
    if isinstance(workflow, LogicalWorkflow):
        return derive_tiers(workflow_model(workflow, profiles=profiles))
    return derive_tiers(_cached_model(workflow, 0.99, "p90", None))


@cache
def _static_baseline() -> dict:
    text = resources.files("murakkab.optimizer").joinpath("data", "static_baseline.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def eligible_configs(model: WorkflowModel, tier: TierSpec) -> list[ConfigModel]:
    """Configurations whose accuracy meets the tier (or its floor, for latency tiers)."""
    need = tier.threshold if tier.metric == "accuracy" else (tier.accuracy_floor or 0.0)
    return [c for c in model.configs if c.profile.accuracy_percent >= need - 1e-9]


def _group(gid: str, model: WorkflowModel, tier: TierSpec, demand: Demand, configs: list[ConfigModel],
           pool_filter=None, latency_utilisation: float = 1.0) -> milp.Group:
    choices = []
    for cfg in configs:
        steps = {}
        for task, step in cfg.steps.items():
            if step.skipped:
                continue
            headroom = 1.0 / latency_utilisation if tier.metric == "latency" else 1.0
            opts = tuple(milp.StepOption(pool=c.pool.id, latency_s=c.latency_slo_s, busy_s=c.busy_s * headroom,
                                         busy_s_avg=c.busy_s_avg)
                         for c in step.choices
                         if (tier.metric != "latency" or c.latency_slo_s <= tier.threshold + 1e-9)
                         and (pool_filter is None or pool_filter(task, c.pool)))
            steps[task] = opts
        if all(steps.values()):
            choices.append(milp.ConfigChoice(id=cfg.id, accuracy=cfg.profile.accuracy_percent, steps=steps))
    return milp.Group(id=gid, rate_peak=demand.peak_rps, rate_avg=demand.avg_rps, configs=tuple(choices),
                      paths=configs[0].paths if configs else (), 
                      latency_max_s=tier.threshold if tier.metric == "latency" else None)


def group_id(workflow: str, tier_key: str) -> str:
    return f"{workflow}/{tier_key}"


@dataclass(frozen=True)
class Assembled:
    """A MILP problem with the lookups needed to turn its solution into a Plan."""
    problem: milp.Problem
    models: dict[str, WorkflowModel]
    tiers: dict[str, TierSpec]          # group id -> tier
    demand: dict[str, Demand]           # group id -> demand
    pools: dict[str, object]            # pool id -> ModelPool | ToolPool


def assemble(req: PlanRequest, groups_subset: list[tuple[str, str]] | None = None) -> Assembled:
    """Build the MILP for the request's (workflow, tier) pairs (all, or a subset)."""
    models = _models(req)
    tiers_by_wf = {w: (req.tiers or {}).get(_profiled_as(req, w)) or derive_tiers(m) for w, m in models.items()}
    pairs = groups_subset or sorted(req.demand)
    groups, tiers, demand, pools = [], {}, {}, {}
    static = _static_baseline()["workflows"] if req.policy == "static" else None
    for w, tkey in pairs:
        model = models[w]
        tier = tier_by_key(tiers_by_wf[w], tkey)
        gid = group_id(w, tkey)
        if static is not None:
            pick = static.get(_profiled_as(req, w))
            if pick is None:
                raise MurakkabError(f"the static baseline has no hand-picked configuration for '{w}'")
            configs = [c for c in model.configs if c.profile.knobs == pick["knobs"] and c.profile.models == pick["models"]]
            if not configs:
                raise MurakkabError(f"static baseline configuration for '{w}' is not in the profiles: {pick}")

            def pool_filter(task, pool, pick=pick):
                want = pick["pools"].get(task)
                return want is None or pool.id.endswith(want) or pool.id == want
            # The static policy serves every tier with its one configuration: no SLO filtering.
            tier_for_group = TierSpec(workflow=w, name=tier.name, metric="accuracy", threshold=0.0,
                                      source="static baseline: one configuration for every request")
            group = _group(gid, model, tier_for_group, req.demand[(w, tkey)], configs, pool_filter)
        else:
            group = _group(gid, model, tier, req.demand[(w, tkey)], eligible_configs(model, tier),
                           latency_utilisation=req.latency_target_utilisation)
        groups.append(group)
        tiers[gid] = tier
        demand[gid] = req.demand[(w, tkey)]
        for cfg in model.configs:
            for step in cfg.steps.values():
                for c in step.choices:
                    pools[c.pool.id] = c.pool
    problem = milp.Problem(
        groups=tuple(groups),
        pools={pid: milp.PoolCandidate(id=pid, hardware=p.hardware.name, units=p.units,
                                       power_busy_w=p.power_busy_w, power_idle_w=p.power_idle_w,
                                       node_overhead_w=p.node_overhead_w, price_usd_per_hour=p.price_usd_per_hour,
                                       family=getattr(p, "model", None) or p.tool)
               for pid, p in pools.items()},
        objective=req.objective, epoch_h=req.epoch_s / 3600.0, pue=req.pue, alpha=req.alpha,
        budgets=dict(req.budgets), cost_budget_usd=req.cost_budget_usd, mip_rel_gap=req.mip_rel_gap,
        time_limit_s=req.time_limit_s,
        allow_split=req.policy != "static")
    return Assembled(problem=problem, models=models, tiers=tiers, demand=demand, pools=pools)


def make_plan(req: PlanRequest) -> Plan:
    """Plan the request under its policy. Raises InfeasiblePlan (with the binding constraint) if none exists."""
    _check_request(req)
    started = time.time()
    plan = _make_plan(req, started)
    reused = [f"{w}: planned with the workflow profiles of '{r.profiles}' (same tasks, capabilities and edges)"
              for w, r in sorted(req.workflows.items()) if any(d == w for d, _ in req.demand)]
    return plan.model_copy(update={"notes": reused + plan.notes}) if reused else plan


def _make_plan(req: PlanRequest, started: float) -> Plan:
    from murakkab.optimizer.explain import InfeasiblePlan, explain
    from murakkab.optimizer.plan_build import build_plan
    if req.policy == "per-workflow":
        parts = []
        for pair in sorted(req.demand):
            asm = assemble(req, [pair])
            try:
                sol = milp.solve(asm.problem)
            except milp.InfeasibleProblem as exc:
                raise InfeasiblePlan(explain(req, asm, exc)) from None
            parts.append((asm, sol))
        # Budgets are shared by the whole fleet, even when pools are not.
        plan = build_plan(req, parts, started, plan_id=_new_id())
        _check_budgets_overall(req, plan)
        return plan
    asm = assemble(req)
    try:
        sol = milp.solve(asm.problem)
    except milp.InfeasibleProblem as exc:
        raise InfeasiblePlan(explain(req, asm, exc)) from None
    return build_plan(req, [(asm, sol)], started, plan_id=_new_id())


def _check_budgets_overall(req: PlanRequest, plan: Plan) -> None:
    from murakkab.optimizer.explain import InfeasiblePlan
    for hw, cap in req.budgets.items():
        used = plan.totals.gpus_by_type.get(hw, 0) + plan.totals.cpu_nodes_by_type.get(hw, 0)
        if used > cap:
            raise InfeasiblePlan(f"per-workflow plans need {used} x {hw} together but the budget is {cap}: "
                                 f"each (workflow, tier) fits alone, not all at once without sharing; "
                                 f"nearest feasible budget: {hw}={used}, or use the joint policy")


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def with_policy(req: PlanRequest, policy: Policy) -> PlanRequest:
    return replace(req, policy=policy)
