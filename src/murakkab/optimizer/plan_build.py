"""Turn MILP solutions into the versioned Plan document, with per-pool and per-request accounting."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from murakkab.catalog import load_catalog
from murakkab.optimizer import milp
from murakkab.optimizer.candidates import ModelPool, idle_w, node_overhead_w
from murakkab.plan import Plan, PlanTotals, Pool, PoolUser, Route, RouteVariant, SolveInfo, StepPlan
from murakkab.plan.ids import PoolId, RouteKey
from murakkab.plan.schema import PoolShare
from murakkab.spec.graph import heaviest_of


def pool_energy_wh(p: milp.PoolCandidate, instances: int, busy_avg: float, epoch_h: float, pue: float) -> float:
    """Facility energy of a pool over an epoch: provisioned idle + node power, plus busy power above idle."""
    return pue * epoch_h * (instances * (p.power_idle_w + p.node_overhead_w) + busy_avg * (p.power_busy_w - p.power_idle_w))


@dataclass
class _Loads:
    """Busy instance-seconds per second of every pool of one solved part, in total and per user."""
    chosen: dict = field(default_factory=dict)                  # group id -> its configuration
    peak: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    avg: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    user_avg: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    user_peak: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))

    def user_fraction(self, pid: str, user: tuple[str, str, str]) -> float:
        """A user's share of the pool's average load (of its peak load when it has no average load)."""
        if self.avg[pid] > 0:
            return self.user_avg[pid][user] / self.avg[pid]
        total = sum(self.user_peak[pid].values())
        return self.user_peak[pid][user] / total if total > 0 else 0.0


def _loads(asm, sol) -> _Loads:
    """Pool loads per user from the solution's shares."""
    out = _Loads()
    for g in asm.problem.groups:
        w = RouteKey.parse(g.id).workflow
        cfg = next(c for c in asm.models[w].configs if c.id == sol.config[g.id])
        out.chosen[g.id] = cfg
        d = asm.demand[g.id]
        for task, step in cfg.steps.items():
            for c in step.choices:
                share = sol.shares.get((g.id, task, c.pool.id), 0.0)
                if share <= 0:
                    continue
                user = (w, asm.tiers[g.id].key, task)
                out.peak[c.pool.id] += d.peak_rps * share * c.busy_s
                out.avg[c.pool.id] += d.avg_rps * share * c.busy_s_avg
                out.user_avg[c.pool.id][user] += d.avg_rps * share * c.busy_s_avg
                out.user_peak[c.pool.id][user] += d.peak_rps * share * c.busy_s
    return out


def _plan_pools(asm, sol, loads: _Loads, pid_of, notes: set[str]) -> list[Pool]:
    """The plan's Pool documents of one solved part (pools with instances), noting non-measured profiles."""
    prob = asm.problem
    pools = []
    for pid, n in sorted(sol.instances.items()):
        src = asm.pools[pid]
        users = [PoolUser(workflow=u[0], tier=u[1], task=u[2], share_of_pool_load=round(loads.user_fraction(pid, u), 6))
                 for u in sorted(loads.user_avg[pid])]
        common = dict(id=pid_of(pid), hardware=src.hardware.name, units_per_instance=src.units,
                      power_busy_w=prob.pools[pid].power_busy_w, power_idle_w=src.power_idle_w,
                      node_overhead_w=src.node_overhead_w, price_usd_per_hour=src.price_usd_per_hour,
                      instances=n, busy_s_per_s_peak=loads.peak[pid], busy_s_per_s_avg=loads.avg[pid],
                      utilisation_avg=loads.avg[pid] / n if n else 0.0, users=users)
        if isinstance(src, ModelPool):
            pt = src.point
            pools.append(Pool(kind="model", model=src.model, profile=src.profile.key.label(),
                              profile_basis=src.basis, max_num_seqs=pt.max_num_seqs, tpot_p50_s=pt.tpot_median_s,
                              tpot_p90_s=pt.tpot_p90_s, ttft_s=pt.ttft_s, throughput_tok_s=pt.throughput_tok_s,
                              concurrency=pt.max_num_seqs, **common))
            if src.basis != "measured":
                notes.add(f"{src.model} on {src.hardware.name}: profile basis {src.basis} "
                          f"({src.profile.key.label()})")
        else:
            pools.append(Pool(kind="tool", tool=src.tool, profile=f"{src.tool}@{src.units}x{src.hardware.name}",
                              profile_basis=src.profile.source.basis, concurrency=src.profile.concurrency, **common))
    return pools


def _step_plan(task: str, step, shares: list[PoolShare]) -> StepPlan:
    tok = step.tokens
    return StepPlan(task=task, capability=step.capability, executor=step.executor.name,
                    kind=step.executor.kind if step.model or step.executor.kind == "tool" else "tool",
                    model=step.model, skipped=step.skipped, calls_sequential=step.calls_sequential,
                    calls_parallel=step.calls_parallel,
                    input_tokens=tok.input_tokens if tok else 0.0,
                    output_tokens_p50=tok.output_p50 if tok else 0.0,
                    output_tokens_p90=tok.output_p90 if tok else 0.0,
                    output_tokens_p99=tok.output_p99 if tok else 0.0, pools=shares)


def _route_latencies(cfg, variants, lat50: dict, lat90: dict) -> tuple[float, float]:
    """Predicted p50 and p90 end-to-end latency: the critical path, the slowest variant's when the
    route has variants (each step on its variant's pool)."""
    if not variants:
        return heaviest_of(cfg.paths, lat50), heaviest_of(cfg.paths, lat90)
    by_pool50 = {(t, c.pool.id): c.latency_p50_s for t, st in cfg.steps.items() for c in st.choices}
    by_pool90 = {(t, c.pool.id): c.latency_p90_s for t, st in cfg.steps.items() for c in st.choices}
    return (max(heaviest_of(cfg.paths, {t: by_pool50[(t, p)] for t, p in v.items()}) for _, v in variants),
            max(heaviest_of(cfg.paths, {t: by_pool90[(t, p)] for t, p in v.items()}) for _, v in variants))


def _plan_route(req, asm, sol, g, loads: _Loads, energy: dict, cost: dict, pid_of) -> Route:
    """One group's Route: its steps with their pool shares, latency, and per-request energy and cost
    (each step's part of its pools' energy and cost, spread over the group's requests)."""
    w = RouteKey.parse(g.id).workflow
    cfg = loads.chosen[g.id]
    d = asm.demand[g.id]
    steps, lat50, lat90 = [], {}, {}
    e_req = c_req = 0.0
    requests = d.avg_rps * req.epoch_s
    for task, step in cfg.steps.items():
        shares = []
        for c in step.choices:
            share = sol.shares.get((g.id, task, c.pool.id), 0.0)
            if share <= 1e-9:
                continue
            shares.append(PoolShare(pool=pid_of(c.pool.id), share=min(1.0, share),
                                    latency_p50_s=c.latency_p50_s, latency_p90_s=c.latency_p90_s,
                                    busy_s_per_request=c.busy_s_avg, latency_slo_s=c.latency_slo_s,
                                    ttft_s=c.ttft_s))
            lat50[task] = max(lat50.get(task, 0.0), c.latency_p50_s)
            lat90[task] = max(lat90.get(task, 0.0), c.latency_p90_s)
            if requests > 0 and loads.avg[c.pool.id] > 0:
                part = d.avg_rps * share * c.busy_s_avg / loads.avg[c.pool.id]
                e_req += energy[c.pool.id] * part / requests
                c_req += cost[c.pool.id] * part / requests
        steps.append(_step_plan(task, step, shares))
    edges = []
    for path in cfg.paths:
        edges.extend(zip(path, path[1:]))
    solved_variants = sol.variants.get(g.id, [])
    variants = [RouteVariant(share=min(1.0, share), pools={t: pid_of(p) for t, p in pools_.items()})
                for share, pools_ in solved_variants]
    latency_p50, latency_p90 = _route_latencies(cfg, solved_variants, lat50, lat90)
    return Route(workflow=w, tier=asm.tiers[g.id], knobs=dict(cfg.profile.knobs), steps=steps,
                 edges=sorted(set(edges)), variants=variants, accuracy_percent=cfg.profile.accuracy_percent,
                 accuracy_basis=cfg.profile.accuracy_source.basis, latency_p50_s=latency_p50,
                 latency_p90_s=latency_p90, rate_peak_rps=d.peak_rps, rate_avg_rps=d.avg_rps,
                 rate_slot_peaks_rps=d.slot_peaks,
                 energy_wh_per_request=e_req, cost_usd_per_request=c_req)


def _totals(req, pools: list[Pool], routes: list[Route], catalog) -> PlanTotals:
    """GPUs and CPU nodes by type, energy and cost per epoch and per request, mean delivered accuracy."""
    epoch_h = req.epoch_s / 3600.0
    gpus: dict[str, int] = defaultdict(int)
    cpus: dict[str, int] = defaultdict(int)
    for p in pools:
        (gpus if catalog.hardware[p.hardware].kind == "gpu" else cpus)[p.hardware] += p.instances * p.units_per_instance
    energy_wh = sum(pool_energy_wh(milp.PoolCandidate(p.id, p.hardware, p.units_per_instance, p.power_busy_w,
                                                      p.power_idle_w, p.node_overhead_w, p.price_usd_per_hour),
                                   p.instances, p.busy_s_per_s_avg, epoch_h, req.pue) for p in pools)
    cost_usd = sum(p.price_usd_per_hour * epoch_h * p.instances for p in pools)
    requests = sum(r.rate_avg_rps for r in routes) * req.epoch_s
    acc = (sum(r.accuracy_percent * r.rate_avg_rps for r in routes) / sum(r.rate_avg_rps for r in routes)
           if requests > 0 else 0.0)
    return PlanTotals(gpus_by_type=dict(gpus), cpu_nodes_by_type=dict(cpus), energy_kwh_per_epoch=energy_wh / 1000.0,
                      energy_wh_per_request=energy_wh / requests if requests > 0 else 0.0,
                      cost_usd_per_epoch=cost_usd, cost_usd_per_request=cost_usd / requests if requests > 0 else 0.0,
                      accuracy_percent_avg=acc)


def _user_catalogue_notes(user_dir: str, used_pools, configs) -> set[str]:
    """What the plan takes from the user catalogue (catalog/user.py), and which packaged entries it replaces."""
    from murakkab.profiles.store import load_profiles
    replaced = load_profiles().replaced
    notes = set()
    for src in used_pools:
        if isinstance(src, ModelPool) and src.point.source.file.startswith(user_dir):
            label = src.profile.key.label()
            notes.add(f"{src.model} on {src.hardware.name}: user catalogue profile {src.point.source.file} row "
                      f"{src.point.source.row}" + (" (replaces the packaged profile)"
                                                   if any(label in r for r in replaced) else ""))
    for cfg in configs:
        acc = cfg.profile.accuracy_source
        if acc.file.startswith(user_dir):
            notes.add(f"{cfg.id}: user catalogue workflow profile {acc.file} row {acc.row}")
    return notes


def build_plan(req, parts, started: float, plan_id: str) -> Plan:
    """`parts`: (Assembled, Solution) pairs; several for the per-workflow policy (pools not shared)."""
    catalog = load_catalog()
    epoch_h = req.epoch_s / 3600.0
    routes: list[Route] = []
    pools: list[Pool] = []
    solves: list[SolveInfo] = []
    notes: set[str] = set()
    prefix_pools = len(parts) > 1
    for asm, sol in parts:
        prob = asm.problem
        solves.append(SolveInfo(solver="HiGHS", status=sol.status, solve_time_s=sol.solve_time_s, mip_gap=sol.mip_gap,
                                objective_value=sol.objective_value, variables=sol.variables,
                                integer_variables=sol.integer_variables, constraints=sol.constraints))
        # per-workflow parts hold one group each: their pools are that group's own
        scope = prob.groups[0].id
        pid_of = (lambda pid: str(PoolId.parse(pid).scoped(scope))) if prefix_pools else (lambda pid: pid)
        loads = _loads(asm, sol)
        energy = {pid: pool_energy_wh(prob.pools[pid], n, loads.avg[pid], epoch_h, req.pue)
                  for pid, n in sol.instances.items()}
        cost = {pid: prob.pools[pid].price_usd_per_hour * epoch_h * n for pid, n in sol.instances.items()}
        pools += _plan_pools(asm, sol, loads, pid_of, notes)
        routes += [_plan_route(req, asm, sol, g, loads, energy, cost, pid_of) for g in prob.groups]
        if catalog.user_dir:
            notes |= _user_catalogue_notes(catalog.user_dir, [asm.pools[pid] for pid in sol.instances],
                                           [loads.chosen[g.id] for g in prob.groups])
    unknown_idle = [h.name for h in catalog.hardware.values() if idle_w(h) is None or node_overhead_w(h) is None]
    if unknown_idle:
        notes.add(f"left out (idle or node power unknown, so energy cannot be accounted): {', '.join(unknown_idle)}")
    return Plan(plan_id=plan_id, created_unix=started, policy=req.policy, objective=req.objective, epoch_s=req.epoch_s,
                pue=req.pue, token_percentile_capacity=req.capacity_percentile,
                latency_quantile=req.latency_quantile, alpha=req.alpha,
                latency_target_utilisation=req.latency_target_utilisation if req.policy != "static" else 1.0,
                latency_wait_probability=(1.0 if req.policy == "static" else req.latency_wait_probability
                                          if req.latency_wait_probability is not None
                                          else 1.0 - req.latency_quantile),
                routes=routes, pools=pools, totals=_totals(req, pools, routes, catalog),
                solve=solves, notes=sorted(notes) + [f"planned in {time.time() - started:.2f} s"])
