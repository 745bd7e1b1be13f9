"""Turn MILP solutions into the versioned Plan document, with per-pool and per-request accounting."""

from __future__ import annotations

import time
from collections import defaultdict

from murakkab.catalog import load_catalog
from murakkab.optimizer import milp
from murakkab.optimizer.candidates import ModelPool
from murakkab.plan import Plan, PlanTotals, Pool, PoolUser, Route, RouteVariant, SolveInfo, StepPlan
from murakkab.plan.schema import PoolShare
from murakkab.spec.graph import heaviest_of


def pool_energy_wh(p: milp.PoolCandidate, instances: int, busy_avg: float, epoch_h: float, pue: float) -> float:
    """Facility energy of a pool over an epoch: provisioned idle + node power, plus busy power above idle."""
    return pue * epoch_h * (instances * (p.power_idle_w + p.node_overhead_w) + busy_avg * (p.power_busy_w - p.power_idle_w))


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
        pid_of = (lambda pid, gid: f"{gid}::{pid}") if prefix_pools else (lambda pid, gid: pid)
        # Pool loads per user from the solution's shares.
        peak: dict[str, float] = defaultdict(float)
        avg: dict[str, float] = defaultdict(float)
        user_avg: dict[str, dict[tuple[str, str, str], float]] = defaultdict(lambda: defaultdict(float))
        user_peak: dict[str, dict[tuple[str, str, str], float]] = defaultdict(lambda: defaultdict(float))
        chosen = {}
        for g in prob.groups:
            w = g.id.rsplit("/", 1)[0]        # tier keys have no "/"; workflow names may (tenant/name)
            cfg = next(c for c in asm.models[w].configs if c.id == sol.config[g.id])
            chosen[g.id] = cfg
            for task, step in cfg.steps.items():
                for c in step.choices:
                    share = sol.shares.get((g.id, task, c.pool.id), 0.0)
                    if share <= 0:
                        continue
                    d = asm.demand[g.id]
                    peak[c.pool.id] += d.peak_rps * share * c.busy_s
                    avg[c.pool.id] += d.avg_rps * share * c.busy_s_avg
                    user_avg[c.pool.id][(w, asm.tiers[g.id].key, task)] += d.avg_rps * share * c.busy_s_avg
                    user_peak[c.pool.id][(w, asm.tiers[g.id].key, task)] += d.peak_rps * share * c.busy_s
        energy = {pid: pool_energy_wh(prob.pools[pid], n, avg[pid], epoch_h, req.pue) for pid, n in sol.instances.items()}
        cost = {pid: prob.pools[pid].price_usd_per_hour * epoch_h * n for pid, n in sol.instances.items()}

        def user_fraction(pid: str, user: tuple[str, str, str]) -> float:
            if avg[pid] > 0:
                return user_avg[pid][user] / avg[pid]
            total = sum(user_peak[pid].values())
            return user_peak[pid][user] / total if total > 0 else 0.0

        for pid, n in sorted(sol.instances.items()):
            src = asm.pools[pid]
            gid_for_prefix = prob.groups[0].id   # per-workflow parts hold one group each
            users = [PoolUser(workflow=u[0], tier=u[1], task=u[2], share_of_pool_load=round(user_fraction(pid, u), 6))
                     for u in sorted(user_avg[pid])]
            common = dict(id=pid_of(pid, gid_for_prefix), hardware=src.hardware.name, units_per_instance=src.units,
                          power_busy_w=prob.pools[pid].power_busy_w, power_idle_w=src.power_idle_w,
                          node_overhead_w=src.node_overhead_w, price_usd_per_hour=src.price_usd_per_hour,
                          instances=n, busy_s_per_s_peak=peak[pid], busy_s_per_s_avg=avg[pid],
                          utilisation_avg=avg[pid] / n if n else 0.0, users=users)
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

        for g in prob.groups:
            w, tier_key = g.id.rsplit("/", 1)
            cfg = chosen[g.id]
            d = asm.demand[g.id]
            steps, lat50, lat90 = [], {}, {}
            e_req = c_req = 0.0
            for task, step in cfg.steps.items():
                shares = []
                for c in step.choices:
                    share = sol.shares.get((g.id, task, c.pool.id), 0.0)
                    if share <= 1e-9:
                        continue
                    shares.append(PoolShare(pool=pid_of(c.pool.id, prob.groups[0].id), share=min(1.0, share),
                                            latency_p50_s=c.latency_p50_s, latency_p90_s=c.latency_p90_s,
                                            busy_s_per_request=c.busy_s_avg, latency_slo_s=c.latency_slo_s,
                                            ttft_s=c.ttft_s))
                    lat50[task] = max(lat50.get(task, 0.0), c.latency_p50_s)
                    lat90[task] = max(lat90.get(task, 0.0), c.latency_p90_s)
                    requests = d.avg_rps * req.epoch_s
                    if requests > 0 and avg[c.pool.id] > 0:
                        # this step's part of the pool's energy and cost, spread over the group's requests
                        part = d.avg_rps * share * c.busy_s_avg / avg[c.pool.id]
                        e_req += energy[c.pool.id] * part / requests
                        c_req += cost[c.pool.id] * part / requests
                tok = step.tokens
                steps.append(StepPlan(task=task, capability=step.capability, executor=step.executor.name,
                                      kind=step.executor.kind if step.model or step.executor.kind == "tool" else "tool",
                                      model=step.model, skipped=step.skipped, calls_sequential=step.calls_sequential,
                                      calls_parallel=step.calls_parallel,
                                      input_tokens=tok.input_tokens if tok else 0.0,
                                      output_tokens_p50=tok.output_p50 if tok else 0.0,
                                      output_tokens_p90=tok.output_p90 if tok else 0.0,
                                      output_tokens_p99=tok.output_p99 if tok else 0.0, pools=shares))
            edges = []
            for path in cfg.paths:
                edges.extend(zip(path, path[1:]))
            variants = [RouteVariant(share=min(1.0, share), pools={t: pid_of(p, prob.groups[0].id) for t, p in pools_.items()})
                        for share, pools_ in sol.variants.get(g.id, [])]
            if variants:
                # the route's latency is its slowest variant's
                by_pool50 = {(t, c.pool.id): c.latency_p50_s for t, st in cfg.steps.items() for c in st.choices}
                by_pool90 = {(t, c.pool.id): c.latency_p90_s for t, st in cfg.steps.items() for c in st.choices}
                lat50 = {}
                lat90 = {}
                worst50 = max(heaviest_of(cfg.paths, {t: by_pool50[(t, p)] for t, p in v.items()})
                              for _, v in sol.variants[g.id])
                worst90 = max(heaviest_of(cfg.paths, {t: by_pool90[(t, p)] for t, p in v.items()})
                              for _, v in sol.variants[g.id])
            routes.append(Route(
                workflow=w, tier=asm.tiers[g.id], knobs=dict(cfg.profile.knobs), steps=steps,
                edges=sorted(set(edges)), variants=variants, accuracy_percent=cfg.profile.accuracy_percent,
                accuracy_basis=cfg.profile.accuracy_source.basis,
                latency_p50_s=worst50 if variants else heaviest_of(cfg.paths, lat50),
                latency_p90_s=worst90 if variants else heaviest_of(cfg.paths, lat90), rate_peak_rps=d.peak_rps, rate_avg_rps=d.avg_rps,
                energy_wh_per_request=e_req, cost_usd_per_request=c_req))

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
    unknown_idle = [h.name for h in catalog.hardware.values() if h.idle_w is None or h.node_idle_kw is None]
    if unknown_idle:
        notes.add(f"left out (idle or node power unknown, so energy cannot be accounted): {', '.join(unknown_idle)}")
    return Plan(plan_id=plan_id, created_unix=started, policy=req.policy, objective=req.objective, epoch_s=req.epoch_s,
                pue=req.pue, token_percentile_capacity=req.capacity_percentile,
                latency_quantile=req.latency_quantile, alpha=req.alpha,
                latency_target_utilisation=req.latency_target_utilisation if req.policy != "static" else 1.0,
                latency_wait_probability=(1.0 if req.policy == "static" else req.latency_wait_probability
                                          if req.latency_wait_probability is not None
                                          else 1.0 - req.latency_quantile),
                routes=routes, pools=pools,
                totals=PlanTotals(gpus_by_type=dict(gpus), cpu_nodes_by_type=dict(cpus),
                                  energy_kwh_per_epoch=energy_wh / 1000.0,
                                  energy_wh_per_request=energy_wh / requests if requests > 0 else 0.0,
                                  cost_usd_per_epoch=cost_usd,
                                  cost_usd_per_request=cost_usd / requests if requests > 0 else 0.0,
                                  accuracy_percent_avg=acc),
                solve=solves, notes=sorted(notes) + [f"planned in {time.time() - started:.2f} s"])
