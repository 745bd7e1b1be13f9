"""make_plan: demand + objective + budgets -> a Plan, under one of three policies in one code path.

- joint: every (workflow, tier) in one MILP; pools are shared wherever two users pick the same
  (model, hardware, parallelism, operating point).
- per-workflow: each (workflow, tier) solved alone with pools of its own (no sharing).
- static: one hand-picked configuration and pool per workflow for every tier
  (`data/static_baseline.yaml`), instance counts sized by the same capacity rule.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from murakkab.catalog import load_catalog
from murakkab.catalog.user import active_user_dir
from murakkab.errors import MurakkabError
from murakkab.optimizer import milp
from murakkab.optimizer.milp import Stop
from murakkab.optimizer.steps import ConfigModel
from murakkab.optimizer.tiers import derive_tiers, tier_by_key
from murakkab.optimizer.world import WorkflowModel, workflow_model
from murakkab.plan.ids import PoolId, RouteKey, WorkflowCopy
from murakkab.plan import Plan, TierSpec
from murakkab.spec import LogicalWorkflow

Policy = Literal["static", "per-workflow", "joint"]


@dataclass(frozen=True)
class Demand:
    """Request rates of one (workflow, tier) over an epoch: peak sizes instances, average drives energy.
    `slot_peaks`, when given, is the peak rate in each time slot of the epoch (their maximum is the
    peak): a pool is then sized on the peak over slots of its users' summed load."""
    peak_rps: float
    avg_rps: float
    slot_peaks: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.slot_peaks:
            if any(not (r >= 0 and math.isfinite(r)) for r in self.slot_peaks):
                raise MurakkabError(f"slot peak rates must be finite and >= 0 (got {self.slot_peaks})")
            if abs(max(self.slot_peaks) - self.peak_rps) > 1e-9 * max(1.0, self.peak_rps):
                raise MurakkabError(f"the peak rate {self.peak_rps} must be the largest slot peak "
                                    f"({max(self.slot_peaks)}); fix: peak_rps=max(slot_peaks)")
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
    alpha: float = 1.15                              # peak buffer: served rate ≤ α × demand (the paper's default)
    # Latency-tier load may be planned at a target utilisation below 1 of the pools it uses, so that
    # queueing at a busy pool does not eat its latency budget (the latency model has no queueing
    # term). Off by default: alpha already buffers the peak.
    latency_target_utilisation: float = 1.0
    # Pools with a latency-tier user are sized so that an arriving call finds every slot busy with at
    # most this probability (Erlang C on instances × slots; optimizer/queueing.py). None: 1 − the
    # latency quantile, i.e. a call that waits is counted as a miss against the same 1 % allowance
    # the token tail has. 1.0 turns the bound off.
    latency_wait_probability: float | None = None
    capacity_percentile: Literal["p50", "p90", "p99"] = "p90"   # paper: provision on p90 tokens
    latency_quantile: float = 0.99                   # latency SLOs are planned at this quantile
    hardware: tuple[str, ...] | None = None          # restrict to these hardware types
    mip_rel_gap: float = 1e-3
    # wall-clock seconds for every solve of the plan together (queueing passes, per-workflow parts);
    # the best plan found by then is returned, SolveStopped when none was
    time_limit_s: float = 60.0
    # independent parts of the MILP solved at once; None: one per CPU (os.cpu_count())
    solver_threads: int | None = None
    tiers: dict[str, list[TierSpec]] | None = None   # override derived tiers per workflow
    # the static policy's picks per workflow ({knobs, models, pools}; scenario_files.load_static_baseline);
    # None: the packaged optimizer/data/static_baseline.yaml
    static_baseline: dict[str, dict] | None = None
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
    usable = usable_hardware(req)
    if not usable:
        raise MurakkabError(f"every hardware type the request may use has a budget of 0 "
                            f"({', '.join(f'{h}=0' for h in sorted(req.budgets))}): nothing can run; raise a budget")
    for hw in req.hardware or ():
        cat.hw(hw)
    if req.objective == "accuracy" and (req.cost_budget_usd is None or req.cost_budget_usd <= 0):
        raise MurakkabError("the accuracy objective needs a positive cost budget per epoch (cost_budget_usd)")
    if not 0.1 <= req.latency_target_utilisation <= 1.0:
        raise MurakkabError(f"latency target utilisation must be in [0.1, 1] (got {req.latency_target_utilisation})")
    if not 0.5 <= req.latency_quantile < 1.0:
        raise MurakkabError(f"latency quantile must be in [0.5, 1) (got {req.latency_quantile})")
    if not (req.time_limit_s > 0 and math.isfinite(req.time_limit_s)):
        raise MurakkabError(f"the planning time limit must be a number of seconds > 0 (got {req.time_limit_s})")
    if req.solver_threads is not None and req.solver_threads < 1:
        raise MurakkabError(f"solver threads must be at least 1 (got {req.solver_threads}; fix: 1, or leave unset "
                            "for one per CPU)")
    if req.latency_wait_probability is not None and not 0 < req.latency_wait_probability <= 1:
        raise MurakkabError(f"latency wait probability must be in (0, 1] (got {req.latency_wait_probability}; "
                            "fix: e.g. 0.01, or 1 to turn the queueing bound off)")


def usable_hardware(req: PlanRequest, budgets: bool = True) -> set[str]:
    """Hardware types the request may plan on: its `hardware` (CPU types always with it) or the whole
    catalogue, less (with `budgets`) every type whose budget is 0."""
    cat = load_catalog().hardware
    allowed = set(req.hardware) | {h for h, hw in cat.items() if hw.kind == "cpu"} if req.hardware else set(cat)
    return {h for h in allowed if req.budgets.get(h) != 0} if budgets else allowed


def _models(req: PlanRequest, latency_copies: bool = False, budgets: bool = True) -> dict[str, WorkflowModel]:
    """The workflow models of the request's demand, on `usable_hardware` (a budget of 0 takes a type
    out, exactly as leaving it out of `hardware` does); with `latency_copies`, each with its latency
    twins (`with_latency_copies`; cached with the built-in models)."""
    names = sorted({w for w, _ in req.demand})
    allowed = usable_hardware(req, budgets) if req.hardware or (budgets and 0 in req.budgets.values()) else None
    # "video_qa#7" is a copy of the built-in video_qa with its own demand (scaled scenarios)
    out = {}
    for w in names:
        reused = req.workflows.get(w)
        if reused is not None:
            out[w] = workflow_model(reused.workflow, latency_quantile=req.latency_quantile,
                                    capacity_percentile=req.capacity_percentile, hardware_allowed=allowed,
                                    profiles=reused.profiles)
            if latency_copies:
                out[w] = with_latency_copies(out[w])
        else:
            out[w] = _cached_model(base_workflow(w), req.latency_quantile, req.capacity_percentile,
                                   tuple(sorted(allowed)) if allowed else None, latency_copies, active_user_dir())
    return out


def base_workflow(name: str) -> str:
    """The workflow a demand key refers to: 'video_qa#7' -> 'video_qa'."""
    return WorkflowCopy.parse(name).base


def _profiled_as(req: PlanRequest, name: str) -> str:
    """The profiled workflow a demand name is planned as (its reused profiles, else its base)."""
    reused = req.workflows.get(name)
    return reused.profiles if reused is not None else base_workflow(name)


@cache
def _cached_model(workflow: str, latency_quantile: float, capacity_percentile: str,
                  allowed: tuple[str, ...] | None, latency_copies: bool = False,
                  user_catalog: str | None = None) -> WorkflowModel:
    """`user_catalog` (the selected user catalogue directory) keys the cache: its profiles change the model."""
    if latency_copies:
        return with_latency_copies(_cached_model(workflow, latency_quantile, capacity_percentile, allowed,
                                                 user_catalog=user_catalog))
    return workflow_model(workflow, latency_quantile=latency_quantile, capacity_percentile=capacity_percentile,
                          hardware_allowed=set(allowed) if allowed else None)


def tiers_for(workflow: str | LogicalWorkflow, profiles: str | None = None) -> list[TierSpec]:
    """The workflow's accuracy and latency tiers, derived from the catalogue. A workflow object that
    is not built in is given with `profiles`, the profiled workflow whose profiles it reuses."""
    if isinstance(workflow, LogicalWorkflow):
        return derive_tiers(workflow_model(workflow, profiles=profiles))
    return derive_tiers(_cached_model(workflow, 0.99, "p90", None, user_catalog=active_user_dir()))


@cache
def _static_baseline() -> dict:
    text = resources.files("murakkab.optimizer").joinpath("data", "static_baseline.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def eligible_configs(model: WorkflowModel, tier: TierSpec) -> list[ConfigModel]:
    """Configurations whose accuracy meets the tier (or its floor, for latency tiers)."""
    need = tier.threshold if tier.metric == "accuracy" else (tier.accuracy_floor or 0.0)
    return [c for c in model.configs if c.profile.accuracy_percent >= need - 1e-9]


def _group(gid: str, model: WorkflowModel, tier: TierSpec, demand: Demand, configs: list[ConfigModel],
           pool_filter=None, latency_utilisation: float = 1.0,
           pool_headroom: dict[str, float] | None = None) -> milp.Group:
    """`pool_headroom`: pool id -> factor on the capacity load of every option on that pool, whatever
    its tier (the queueing bound: a pool's wait depends on all of its load)."""
    choices = []
    pool_headroom = pool_headroom or {}
    for cfg in configs:
        steps = {}
        for task, step in cfg.steps.items():
            if step.skipped:
                continue
            headroom = 1.0 / latency_utilisation if tier.metric == "latency" else 1.0
            opts = tuple(milp.StepOption(pool=c.pool.id, latency_s=c.latency_slo_s,
                                         busy_s=c.busy_s * headroom * pool_headroom.get(c.pool.id, 1.0),
                                         busy_s_avg=c.busy_s_avg)
                         for c in step.choices
                         if (tier.metric != "latency" or c.latency_slo_s <= tier.threshold + 1e-9)
                         and (pool_filter is None or pool_filter(task, c.pool)))
            steps[task] = opts
        if all(steps.values()):
            choices.append(milp.ConfigChoice(id=cfg.id, accuracy=cfg.profile.accuracy_percent, steps=steps))
    return milp.Group(id=gid, rate_peak=demand.peak_rps, rate_avg=demand.avg_rps, configs=tuple(choices),
                      slot_peaks=demand.slot_peaks,
                      paths=configs[0].paths if configs else (), 
                      latency_max_s=tier.threshold if tier.metric == "latency" else None)


def group_id(workflow: str, tier_key: str) -> str:
    """The MILP's id of a (workflow, tier) group: its RouteKey's text."""
    return str(RouteKey(workflow, tier_key))


@dataclass(frozen=True)
class Assembled:
    """A MILP problem with the lookups needed to turn its solution into a Plan."""
    problem: milp.Problem
    models: dict[str, WorkflowModel]
    tiers: dict[str, TierSpec]          # group id -> tier
    demand: dict[str, Demand]           # group id -> demand
    pools: dict[str, object]            # pool id -> ModelPool | ToolPool


def assemble(req: PlanRequest, groups_subset: list[tuple[str, str]] | None = None,
             pool_headroom: dict[str, float] | None = None,
             models: dict[str, WorkflowModel] | None = None, budgets: dict[str, int] | None = None) -> Assembled:
    """Build the MILP for the request's (workflow, tier) pairs (all, or a subset); `budgets` replaces
    the request's hardware budgets in the MILP (the queueing passes hold units back); `pool_headroom`
    scales the capacity load of chosen pools and `models` replaces the request's workflow models
    (both from `solve_queueing`). With `models` given, latency tiers run on the latency copies of pools
    only and the other tiers on the originals only (see `with_latency_copies`)."""
    split = models is not None
    models = models or _models(req)
    # Tiers come from the hardware the request may use (a budget of 0 takes a type out, as `hardware`
    # does), never from the units its budgets hold back for the queueing top-ups.
    usable = _models(req)
    tiers_by_wf = {w: (req.tiers or {}).get(_profiled_as(req, w)) or derive_tiers(usable[w]) for w in models}
    pairs = groups_subset or sorted(req.demand)
    groups, tiers, demand, pools = [], {}, {}, {}
    static = (req.static_baseline or _static_baseline()["workflows"]) if req.policy == "static" else None
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
            wants_copy = tier.metric == "latency"
            side = None if not split else (lambda task, pool, want=wants_copy: is_latency_copy(pool.id) == want)
            group = _group(gid, model, tier, req.demand[(w, tkey)], eligible_configs(model, tier),
                           pool_filter=side, latency_utilisation=req.latency_target_utilisation,
                           pool_headroom=pool_headroom)
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
        budgets=dict(req.budgets if budgets is None else budgets), cost_budget_usd=req.cost_budget_usd,
        mip_rel_gap=req.mip_rel_gap,
        time_limit_s=req.time_limit_s, threads=req.solver_threads or os.cpu_count() or 1,
        allow_split=req.policy != "static")
    return Assembled(problem=problem, models=models, tiers=tiers, demand=demand, pools=pools)


def make_plan(req: PlanRequest, stop: Stop | None = None) -> Plan:
    """Plan the request under its policy. Raises InfeasiblePlan (with the binding constraint) if none
    exists or the demand is beyond any fleet (`limits`), and SolveStopped when `req.time_limit_s` ran
    out, or `stop()` (asked between solves and while HiGHS runs, e.g. a client that left) returned
    True, before any plan was found."""
    _check_request(req)
    started = time.time()
    plan = _make_plan(req, started, _Clock(time.perf_counter() + req.time_limit_s, stop))
    if req.policy != "static" and wait_probability(req) < 1.0:
        wait_p = wait_probability(req)
        bound = [f"pools with a latency-tier user sized so an arriving call waits with probability <= {wait_p:g} "
                 f"at the buffered peak (Erlang C on instances x slots; assumes Poisson arrivals)"]
        plan = plan.model_copy(update={"notes": plan.notes + bound})
    reused = [f"{w}: planned with the workflow profiles of '{r.profiles}' (same tasks, capabilities and edges)"
              for w, r in sorted(req.workflows.items()) if any(d == w for d, _ in req.demand)]
    return plan.model_copy(update={"notes": reused + plan.notes}) if reused else plan


@dataclass(frozen=True)
class _Clock:
    """When a plan's solves must end, and who may stop them sooner."""
    deadline: float                    # time.perf_counter() value
    stop: Stop | None = None

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def stopped(self) -> bool:
        return self.left() <= 0 or (self.stop is not None and self.stop())


def _make_plan(req: PlanRequest, started: float, clock: _Clock) -> Plan:
    from murakkab.optimizer.plan_build import build_plan
    if req.policy == "per-workflow":
        parts = []
        for pair in sorted(req.demand):
            parts.append(solve_queueing(req, [pair], clock))
        # Budgets are shared by the whole fleet, even when pools are not.
        plan = build_plan(req, parts, started, plan_id=_new_id())
        _check_budgets_overall(req, plan)
        return plan
    return build_plan(req, [solve_queueing(req, None, clock)], started, plan_id=_new_id())


def wait_probability(req: PlanRequest) -> float:
    """The queueing target of the request: its own, or 1 − its latency quantile."""
    return req.latency_wait_probability if req.latency_wait_probability is not None else 1.0 - req.latency_quantile


# solves with re-derived headroom, each topped up, the best kept. Measured (docs/benchmarks.md): passes 3
# and 4 gained 0-0.9 % energy on the standard scenario and doubled its planning time
MAX_QUEUEING_PASSES = 2
MAX_QUEUEING_PASSES_WHEN_SHORT = 4   # while every pass so far broke a budget with its top-up
def is_latency_copy(pool_id: str) -> bool:
    """Whether a pool is the twin reserved for latency tiers (joint policy, see `with_latency_copies`)."""
    return PoolId.parse(pool_id).latency_copy


def with_latency_copies(model: WorkflowModel) -> WorkflowModel:
    """The model with a twin of every step choice on a pool of its own (`PoolId.latency_copy`). Under the
    queueing bound (joint policy), `assemble` gives latency tiers the twins and every other tier the
    originals: latency tiers share pools with each other, accuracy tiers with each other, never a
    latency tier with an accuracy tier. The bound counts all of a pool's load, so a latency tier on a
    pool shared with a large accuracy load would need instances for that load too (measured: joint
    plans then cost up to 10 % more than per-workflow ones); kept apart, the joint problem contains
    every per-workflow plan again."""
    def twin(c):
        return replace(c, pool=replace(c.pool, id=str(PoolId.parse(c.pool.id).as_latency_copy())))
    configs = tuple(replace(cfg, steps={t: replace(st, choices=st.choices + tuple(twin(c) for c in st.choices))
                                        for t, st in cfg.steps.items()})
                    for cfg in model.configs)
    return replace(model, configs=configs)


def pool_loads(asm: Assembled, sol, average: bool = False) -> dict[str, tuple[float, bool]]:
    """Per pool of a solution: (capacity load at the forecast peak in instance-seconds per second,
    the largest over the epoch's slots, without the alpha buffer or any headroom, or with `average`
    the energy load at the average rate; whether a latency tier uses it)."""
    slots = 1 if average else milp.slot_count(asm.problem)
    per_slot: dict[str, list[float]] = {}
    users: dict[str, bool] = {}
    for g in asm.problem.groups:
        w = RouteKey.parse(g.id).workflow
        cfg = next(c for c in asm.models[w].configs if c.id == sol.config[g.id])
        latency = asm.tiers[g.id].metric == "latency" and g.latency_max_s is not None
        for task, step in cfg.steps.items():
            for c in step.choices:
                share = sol.shares.get((g.id, task, c.pool.id), 0.0)
                if share <= 0:
                    continue
                loads = per_slot.setdefault(c.pool.id, [0.0] * slots)
                users[c.pool.id] = users.get(c.pool.id, False) or latency
                for s in range(slots):
                    rate = asm.demand[g.id].avg_rps if average else g.rate_in_slot(s)
                    loads[s] += rate * share * (c.busy_s_avg if average else c.busy_s)
    return {pid: (max(loads), users[pid]) for pid, loads in per_slot.items()}


def pool_slots(pool) -> int:
    """Concurrent calls one instance of a candidate pool serves (operating point or tool concurrency)."""
    point = getattr(pool, "point", None)
    return point.max_num_seqs if point is not None else pool.profile.concurrency


def solve_queueing(req: PlanRequest, pairs: list[tuple[str, str]] | None = None, clock: _Clock | None = None):
    """Solve the MILP for `pairs` (all when None) so that every pool serving a latency tier meets the
    Erlang C wait bound at the buffered peak; returns (Assembled, Solution).

    The bound is not linear in the instance count. Each solve is followed by a top-up: pools with a
    latency user get the instances n* the bound needs for their load (exact, pooled over instances ×
    slots). So that the MILP can also trade, e.g. move latency load off a pool that would need many
    more instances, it is solved again with a capacity headroom n*/(alpha × load) on every pool that
    had a latency user (exact at that load; re-derived from each pass, as n* grows slower than the
    load), up to MAX_QUEUEING_PASSES solves, each from the previous pass's topped-up plan (feasible
    under the new headroom, so HiGHS starts with it). The topped-up solution with the best objective (energy or
    cost recomputed from the instance counts; the last one for the accuracy objective) is returned,
    with the solver time of every pass and the gap of its own MILP (the top-up is outside the MILP:
    the plan's optimality is that of the linear model it solved). The time limit holds for all passes
    together (`clock`: its deadline and stop request; by default `req.time_limit_s` from now). A top-up that would break a hardware budget is not made: that pass's plan is not used, and
    more passes run (up to MAX_QUEUEING_PASSES_WHEN_SHORT) so that the MILP can move the load within the
    budgets; if none fits, InfeasiblePlan names the pools and budgets. Passes also go on (to the same
    limit) while each one still improves on the best so far."""
    from murakkab.optimizer.explain import InfeasiblePlan, explain
    from murakkab.optimizer.limits import fleet_too_large
    clock = clock or _Clock(time.perf_counter() + req.time_limit_s)
    wait_p = wait_probability(req)
    headroom: dict[str, float] = {}
    candidates = []            # (asm, topped-up solution, what the budgets kept short: [] when none)
    models = None
    if req.policy == "joint" and wait_p < 1.0:
        models = _models(req, latency_copies=True)
    spent = 0.0                # solver seconds over every pass: what the plan reports
    passes = 0
    reserve: dict[str, int] = {}   # hardware -> units kept back from the MILP for top-ups
    while passes < MAX_QUEUEING_PASSES or (passes < MAX_QUEUEING_PASSES_WHEN_SHORT
                                           and (not any(not short for _, _, short in candidates)
                                                or _last_pass_improved(req, candidates))):
        passes += 1
        # the MILP plans within the budgets less what earlier passes' top-ups lacked, so that this
        # pass's top-up has room (else more budget could make a feasible request infeasible)
        asm = assemble(req, pairs, pool_headroom=headroom, models=models,
                       budgets={h: max(0, b - reserve.get(h, 0)) for h, b in req.budgets.items()})
        if passes == 1 and (why := fleet_too_large(asm.problem, label=lambda gid: gid.replace("/", " "))):
            raise InfeasiblePlan(why)
        if clock.stopped():
            if candidates:
                break
            raise _stopped(req, clock)
        try:
            sol = milp.solve(replace(asm.problem, time_limit_s=clock.left()),
                             start=candidates[-1][1] if candidates else None, stop=clock.stop)
        except milp.SolveStopped:
            if candidates:
                break
            raise _stopped(req, clock) from None
        except milp.InfeasibleProblem as exc:
            if not candidates:
                raise InfeasiblePlan(explain(replace(req, time_limit_s=max(clock.left(), 1.0)), asm, exc)) from None
            break
        spent += sol.solve_time_s
        sol = replace(sol, solve_time_s=spent)
        if wait_p >= 1.0 or req.policy == "static":
            return asm, sol
        need = queueing_need(asm, sol, req.alpha, wait_p)
        if all(sol.instances.get(pid, 0) >= n for pid, (n, _) in need.items()):
            candidates.append((asm, sol, []))
            break
        topped, short, lacking = _top_up(req, asm, sol, need)
        candidates.append((asm, topped, short))
        for h, n in lacking.items():
            reserve[h] = reserve.get(h, 0) + n
        # re-derived from this pass's loads; pools this pass left keep their last factor
        headroom = {**headroom, **{pid: n / (req.alpha * load) * (1 - 1e-9) for pid, (n, load) in need.items()}}
    valid = [(a, s) for a, s, short in candidates if not short]
    if not valid and req.budgets and any(n > 0 for n in req.budgets.values()):
        # the passes move load inside the budgets by heuristic: the plan without the (non-zero)
        # budgets is tried too, and kept if it fits them, so that a budget at or above what that plan
        # uses always plans (and so does the budget an infeasibility explanation suggests)
        free = solve_queueing(replace(req, budgets={h: 0 for h, n in req.budgets.items() if n == 0}), pairs, clock)
        if _fits(req, free[0], free[1]):
            return free
    if not valid:
        short = candidates[-1][2]
        raise InfeasiblePlan(
            f"the hardware budgets leave latency-tier pools short of the instances that keep the chance a call "
            f"waits at or below {wait_p:g} (Erlang C at the buffered peak): {'; '.join(short[:3])}. "
            f"Fix: raise those budgets, or allow more waiting (latency_wait_probability, 1 turns the bound off)")
    asm, sol = valid[-1] if req.objective == "accuracy" else min(valid, key=lambda c: _objective(req, *c))
    return asm, replace(sol, solve_time_s=spent)


def _stopped(req: PlanRequest, clock: _Clock) -> milp.SolveStopped:
    if clock.stop is not None and clock.stop():
        return milp.SolveStopped("planning was stopped before it found a plan (the caller asked it to stop)")
    return milp.SolveStopped(f"no plan was found within the planning time limit of {req.time_limit_s:g} s "
                             "(fix: raise the time limit, e.g. --time-limit 120, or plan fewer workflows and tiers "
                             "at once, or loosen the MIP gap)")


def _fits(req: PlanRequest, asm: Assembled, sol) -> bool:
    """Whether a solution's instances fit the request's hardware budgets."""
    used: dict[str, int] = {}
    for pid, n in sol.instances.items():
        p = asm.problem.pools[pid]
        used[p.hardware] = used.get(p.hardware, 0) + n * p.units
    return all(used.get(h, 0) <= cap for h, cap in req.budgets.items())


def _last_pass_improved(req: PlanRequest, candidates) -> bool:
    """Whether the newest pass gave a valid plan better than every earlier one (then the passes have
    not settled, and one more may improve again: a joint plan kept at two passes was measured 1.8 %
    dearer than the per-workflow plans it contains)."""
    if req.objective == "accuracy" or len(candidates) < 2 or candidates[-1][2]:
        return False
    earlier = [_objective(req, a, s) for a, s, short in candidates[:-1] if not short]
    return bool(earlier) and _objective(req, *candidates[-1][:2]) < min(earlier) * (1 - 1e-9)


def _objective(req: PlanRequest, asm: Assembled, sol) -> float:
    """Energy (Wh) or cost ($) of a solution from its instance counts, as the plan will report it."""
    from murakkab.optimizer.plan_build import pool_energy_wh
    epoch_h = req.epoch_s / 3600.0
    if req.objective == "cost":
        return sum(asm.problem.pools[p].price_usd_per_hour * epoch_h * n for p, n in sol.instances.items())
    avg = pool_loads(asm, sol, average=True)
    return sum(pool_energy_wh(asm.problem.pools[p], n, avg.get(p, (0.0, False))[0], epoch_h, req.pue)
               for p, n in sol.instances.items())


def queueing_need(asm: Assembled, sol, alpha: float, wait_p: float) -> dict[str, tuple[int, float]]:
    """Pools with a latency user in a solution: pool id -> (instances the Erlang C bound needs at the
    buffered peak, the pool's load at the forecast peak)."""
    from murakkab.optimizer.queueing import instances_for_wait
    out = {}
    for pid, (load, latency) in pool_loads(asm, sol).items():
        if latency and load > 0:
            slots = pool_slots(asm.pools[pid])
            out[pid] = (instances_for_wait(slots, alpha * load * slots, wait_p), load)
    return out


def _top_up(req: PlanRequest, asm: Assembled, sol, need: dict[str, tuple[int, float]]):
    """The solution with every pool raised to the instances the queueing bound needs, the pools a
    hardware budget kept from it (as sentences; empty when every top-up fits) and the units each
    hardware type lacked for them."""
    instances = dict(sol.instances)
    used: dict[str, int] = {}
    for pid, n in instances.items():
        hw = asm.problem.pools[pid].hardware
        used[hw] = used.get(hw, 0) + n * asm.problem.pools[pid].units
    short = []
    wanted: dict[str, int] = {}      # hardware -> units the short top-ups asked for
    for pid, (n, _) in sorted(need.items()):
        extra = n - instances.get(pid, 0)
        if extra <= 0:
            continue
        cand = asm.problem.pools[pid]
        cap = req.budgets.get(cand.hardware)
        if cap is not None and used.get(cand.hardware, 0) + extra * cand.units > cap:
            short.append(f"pool {pid} needs {n} instances ({extra * cand.units} more {cand.hardware}; budget "
                         f"{cap}, {used.get(cand.hardware, 0)} in use)")
            wanted[cand.hardware] = wanted.get(cand.hardware, 0) + extra * cand.units
            continue
        instances[pid] = n
        used[cand.hardware] = used.get(cand.hardware, 0) + extra * cand.units
    lacking = {h: used.get(h, 0) + n - req.budgets[h] for h, n in wanted.items()}
    return replace(sol, instances=instances), short, lacking


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
