"""An independent check of a Plan against the constraints it claims to meet.

It does not trust the MILP: it recomputes every step's latency and pool time from the plan's own
tokens, TTFT, TPOT, throughput and tool profiles, then checks routing shares, tiers (accuracy,
accuracy floor, latency on every DAG path), pooled capacity at the buffered peak, the queueing bound
of pools with a latency-tier user (Erlang C on that recomputed load), and budgets.
"""

from __future__ import annotations

from collections import defaultdict

from murakkab.catalog import load_catalog
from murakkab.optimizer.queueing import erlang_c
from murakkab.plan import Plan
from murakkab.profiles.schema import TokenStats, Source
from murakkab.profiles.store import load_profiles
from murakkab.profiles.tokens import LogNormalTokens, max_of_parallel_quantile

TOL = 1e-6


def _step_tokens(step) -> TokenStats:
    return TokenStats(input_tokens=step.input_tokens, output_p50=step.output_tokens_p50,
                      output_p90=step.output_tokens_p90, output_p99=step.output_tokens_p99,
                      source=Source(file="plan", basis="derived"))


def _tool_latency(pool, step, knobs: dict) -> float:
    from murakkab.optimizer.steps import work_units
    prof = next(t for t in load_profiles().for_tool(pool.tool)
                if t.hardware == pool.hardware and t.units == pool.units_per_instance)
    return prof.latency_s + prof.per_unit_latency_s * work_units(prof.work_unit, knobs)


def check_plan(plan: Plan, budgets: dict[str, int] | None = None) -> list[str]:
    """Every violated constraint as a sentence; an empty list means the plan is valid."""
    problems: list[str] = []
    pools = {p.id: p for p in plan.pools}
    # per pool and time slot (one slot unless the routes carry slot peaks): the buffered peak load,
    # and the same without utilisation headroom
    n_slots = max((len(r.rate_slot_peaks_rps) for r in plan.routes), default=0) or 1
    load: dict[str, list[float]] = defaultdict(lambda: [0.0] * n_slots)
    peak: dict[str, list[float]] = defaultdict(lambda: [0.0] * n_slots)
    latency_users: set[str] = set()
    for r in plan.routes:
        where = f"{r.workflow}/{r.tier.key}"
        step_latency: dict[str, float] = {}
        pool_latency: dict[tuple[str, str], float] = {}
        for s in r.steps:
            if s.skipped:
                if s.pools:
                    problems.append(f"{where}: skipped step {s.task} has pools")
                step_latency[s.task] = 0.0
                continue
            total = sum(ps.share for ps in s.pools)
            if abs(total - 1.0) > 1e-6:
                problems.append(f"{where}: shares of step {s.task} sum to {total:.6f}, not 1")
            worst = 0.0
            for ps in s.pools:
                pool = pools.get(ps.pool)
                if pool is None:
                    problems.append(f"{where}: step {s.task} routes to unknown pool {ps.pool}")
                    continue
                if pool.kind == "model":
                    if pool.model != s.model:
                        problems.append(f"{where}: step {s.task} uses model {s.model} but pool {pool.id} serves "
                                        f"{pool.model}")
                    tokens = LogNormalTokens.from_stats(_step_tokens(s))
                    q = max_of_parallel_quantile(plan.latency_quantile, s.calls_parallel)
                    ttft = ps.ttft_s if ps.ttft_s is not None else pool.ttft_s
                    latency = s.calls_sequential * (ttft + tokens.quantile(q) * pool.tpot_p50_s)
                    cap_tokens = {"p50": s.output_tokens_p50, "p90": s.output_tokens_p90,
                                  "p99": s.output_tokens_p99}[plan.token_percentile_capacity]
                    busy = s.calls_sequential * s.calls_parallel * cap_tokens / pool.throughput_tok_s
                else:
                    latency = _tool_latency(pool, s, r.knobs)
                    busy = latency / pool.concurrency
                worst = max(worst, latency)
                pool_latency[(s.task, ps.pool)] = latency
                headroom = 1.0 / plan.latency_target_utilisation if r.tier.metric == "latency" else 1.0
                for k in range(n_slots):
                    rate = r.rate_slot_peaks_rps[k] if r.rate_slot_peaks_rps else r.rate_peak_rps
                    load[ps.pool][k] += plan.alpha * rate * ps.share * busy * headroom
                    peak[ps.pool][k] += plan.alpha * rate * ps.share * busy
                if r.tier.metric == "latency":
                    latency_users.add(ps.pool)
            step_latency[s.task] = worst
        if plan.policy == "static":
            continue  # the static baseline serves every tier with one configuration: no SLO is promised
        if r.tier.metric == "accuracy" and r.accuracy_percent < r.tier.threshold - TOL:
            problems.append(f"{where}: accuracy {r.accuracy_percent:.3f}% below the tier's {r.tier.threshold:.3f}%")
        if r.tier.metric == "latency":
            if r.tier.accuracy_floor is not None and r.accuracy_percent < r.tier.accuracy_floor - TOL:
                problems.append(f"{where}: accuracy {r.accuracy_percent:.3f}% below the floor {r.tier.accuracy_floor:.3f}%")
            if r.variants:
                # requests follow one variant end to end: each must meet the SLO
                if abs(sum(v.share for v in r.variants) - 1.0) > 1e-6:
                    problems.append(f"{where}: variant shares sum to {sum(v.share for v in r.variants):.6f}")
                worst_path = max(r.critical_path({t: pool_latency.get((t, p), 0.0) for t, p in v.pools.items()})[0]
                                 for v in r.variants)
            else:
                worst_path = r.critical_path(step_latency)[0]
            if worst_path > r.tier.threshold * (1 + 1e-6) + TOL:
                problems.append(f"{where}: latency {worst_path:.3f} s at q={plan.latency_quantile} exceeds the "
                                f"tier's {r.tier.threshold:.3f} s")
    for pid, offered in ((p, max(v)) for p, v in load.items()):
        if offered > pools[pid].instances * (1 + 1e-6) + TOL:
            problems.append(f"pool {pid}: buffered peak load {offered:.3f} instance-s/s exceeds its "
                            f"{pools[pid].instances} instances")
        elif pid in latency_users and plan.latency_wait_probability < 1.0 and pools[pid].instances > 0:
            # the queueing bound on the recomputed buffered peak load: a slot is held for its call's share
            # of the instance's time, so the offered Erlangs are load × slots per instance
            slots = pools[pid].max_num_seqs if pools[pid].kind == "model" else pools[pid].concurrency
            wait = erlang_c(pools[pid].instances * slots, max(peak[pid]) * slots)
            if wait > plan.latency_wait_probability + 1e-9:
                problems.append(f"pool {pid}: an arriving call waits with probability {wait:.4f} at the buffered "
                                f"peak, above the plan's {plan.latency_wait_probability:g}")
    catalog = load_catalog()
    used: dict[str, int] = defaultdict(int)
    for p in plan.pools:
        used[p.hardware] += p.instances * p.units_per_instance
    for hw, cap in (budgets or {}).items():
        if used.get(hw, 0) > cap:
            problems.append(f"{hw}: plan uses {used[hw]} but the budget is {cap}")
    for hw, n in plan.totals.gpus_by_type.items():
        if catalog.hardware[hw].kind == "gpu" and n != used[hw]:
            problems.append(f"totals say {n} x {hw} but pools hold {used[hw]}")
    return problems
