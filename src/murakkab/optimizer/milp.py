"""The planning MILP, pure: a `Problem` in, a `Solution` out, solved with HiGHS. It is the Murakkab
paper's formulation (arXiv 2508.18298, Appendix A.5) with per-step choices, DAG critical-path latency,
operating points and pools shared by every (workflow, tier) routed to them.

Decisions, for every group g = (workflow, tier):
  y[g,c]      binary   configuration c (knob values + model per step) serves g
  x[g,c,t,o]  >= 0     share of g's requests whose step t runs on step option o (a pool)
  u[g,c,t,o]  binary   option o is used by (g,c,t): only for latency tiers, to bound the critical path
  L[g,t]      >= 0     latency of step t for g (latency tiers)
and for every pool candidate p:
  n[p]        integer  instances, sized for the forecast peak.

Constraints:
  sum_c y[g,c] = 1                                        one configuration per group
  sum_o x[g,c,t,o] = y[g,c]                               every step of the chosen config is routed
  x <= u,  L[g,t] >= lat[o] * u,  sum_{t in path} L <= SLO  critical-path latency (latency tiers)
  sum alpha * rate[g, s] * busy[o] * x <= n[p]  for every slot s   pooled capacity on the peak load
                                                                  (one slot, rate_peak, without slot peaks)
  sum_{p of type h} units[p] * n[p] <= budget[h]          hardware budgets
Accuracy SLOs and the accuracy floor of latency tiers are applied by leaving infeasible
configurations out (they are constants per configuration).

Objective (per epoch of T hours):
  energy: PUE * sum_p [ n[p] * (idle_w + node_w) * T + rate_avg*busy_avg*x * (busy_w - idle_w) * T ]  (Wh)
  cost:   sum_p n[p] * price_per_hour * T                                                           ($)
  accuracy: maximise request-weighted accuracy - eps * cost, subject to cost <= budget.
Power at a pool's average utilisation u is idle + u * (busy - idle), which is what the energy
objective integrates; instances are provisioned for the whole epoch.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import highspy
import numpy as np
from scipy.sparse import csc_matrix

from murakkab.errors import MurakkabError

Objective = Literal["energy", "cost", "accuracy"]
ACCURACY_COST_EPSILON = 1e-3  # the paper's ε: maximise accuracy − ε·cost, so ties in accuracy go to the cheaper plan


@dataclass(frozen=True)
class PoolCandidate:
    """A (model or tool) x hardware x parallelism x operating point that may get instances."""
    id: str
    hardware: str
    units: int                 # accelerators (or CPU nodes) per instance, counted against budgets
    power_busy_w: float        # per instance at the operating point, accelerators only
    power_idle_w: float        # per instance, accelerators only
    node_overhead_w: float     # per instance: share of non-accelerator node power
    price_usd_per_hour: float  # per instance
    family: str = ""           # what it serves (model or tool); dominance is only checked within a family


@dataclass(frozen=True)
class StepOption:
    """Running one step of one configuration on one pool."""
    pool: str
    latency_s: float     # step latency counted against a latency SLO
    busy_s: float        # pool instance-seconds per request, for capacity (planning percentile)
    busy_s_avg: float    # pool instance-seconds per request, for energy (mean tokens)


@dataclass(frozen=True)
class ConfigChoice:
    id: str
    accuracy: float
    steps: dict[str, tuple[StepOption, ...]]   # task -> options; a task absent here takes no time


@dataclass(frozen=True)
class Group:
    """One (workflow, tier) with its demand and SLO."""
    id: str
    rate_peak: float
    rate_avg: float
    configs: tuple[ConfigChoice, ...]
    paths: tuple[tuple[str, ...], ...]          # source-to-sink task paths of the DAG
    latency_max_s: float | None = None          # latency SLO, if a latency tier
    # peak rate in each time slot of the epoch (empty: rate_peak in every slot). Pools are sized on
    # the peak over slots of their summed load, so users whose peaks fall in different slots share.
    slot_peaks: tuple[float, ...] = ()

    def rate_in_slot(self, s: int) -> float:
        return self.slot_peaks[s] if self.slot_peaks else self.rate_peak


@dataclass(frozen=True)
class Problem:
    groups: tuple[Group, ...]
    pools: dict[str, PoolCandidate]
    objective: Objective = "energy"
    epoch_h: float = 1.0
    pue: float = 1.0
    alpha: float = 1.15                         # peak buffer: served rate ≤ α × demand (the paper's default)
    budgets: dict[str, int] = field(default_factory=dict)   # hardware -> units available
    cost_budget_usd: float | None = None        # per epoch; required for the accuracy objective
    allow_split: bool = True                    # may a step's requests be split across pools
    mip_rel_gap: float = 1e-3
    time_limit_s: float = 60.0
    threads: int = 1                            # independent parts solved at once (see `solve`)


@dataclass(frozen=True)
class Solution:
    status: str
    config: dict[str, str]                                  # group -> config id
    shares: dict[tuple[str, str, str], float]               # (group, task, pool) -> share of requests
    instances: dict[str, int]                               # pool -> instances
    variants: dict[str, list[tuple[float, dict[str, str]]]]  # group -> (share, task -> pool) joint routes
    objective_value: float
    energy_wh: float
    cost_usd: float
    mip_gap: float
    solve_time_s: float
    variables: int
    integer_variables: int
    constraints: int


class InfeasibleProblem(MurakkabError):
    """No plan meets every constraint; `Problem` analysis lives in optimizer.explain."""


class SolveStopped(MurakkabError):
    """HiGHS stopped (its time limit, or a stop request) before it found any plan."""


Stop = Callable[[], bool]      # asked while HiGHS runs: True stops the solve
_banner_lock = threading.Lock()
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance. HiGHS writes its banner (version and licence line) to the process's stdout,
    at C level, when the first instance of a process is made, before any option can turn its output
    off; that one is made with stdout pointed at the null device, so that stdout carries only
    murakkab's own output (tables, JSON) and stderr only its progress and errors."""
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()
        _banner_shown = True
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
            import ctypes
            ctypes.CDLL(None).fflush(None)          # the banner leaves C's buffer while fd 1 is the null device
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        return h


class _Builder:
    """Collects columns and rows, then hands one sparse model to HiGHS."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.rows_lo: list[float] = []
        self.rows_hi: list[float] = []
        self.coo_r: list[int] = []
        self.coo_c: list[int] = []
        self.coo_v: list[float] = []

    def var(self, cost: float = 0.0, lo: float = 0.0, hi: float = math.inf, integer: bool = False) -> int:
        self.cost.append(cost)
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: list[tuple[int, float]], lo: float = -math.inf, hi: float = math.inf) -> None:
        r = len(self.rows_lo)
        self.rows_lo.append(lo)
        self.rows_hi.append(hi)
        for c, v in terms:
            if v != 0.0:
                self.coo_r.append(r)
                self.coo_c.append(c)
                self.coo_v.append(v)

    def solve(self, sense_max: bool, gap: float, time_limit: float, *, relax: bool = False,
              zero: frozenset[int] = frozenset(), start: np.ndarray | None = None,
              stop: Stop | None = None) -> tuple[highspy.Highs, float]:
        """Run HiGHS on the collected model. `relax`: drop integrality (the LP relaxation); `zero`:
        columns held at 0; `start`: a feasible point handed to HiGHS as its first incumbent; `stop`:
        asked at HiGHS' interrupt points, True interrupts it (status 'Interrupted by user')."""
        ncol, nrow = len(self.cost), len(self.rows_lo)
        a = csc_matrix((self.coo_v, (self.coo_r, self.coo_c)), shape=(nrow, ncol))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_ = np.asarray(self.cost, dtype=float)
        lp.col_lower_ = np.asarray(self.lower, dtype=float)
        upper = np.asarray(self.upper, dtype=float)
        if zero:
            upper[list(zero)] = 0.0
        lp.col_upper_ = upper
        lp.row_lower_ = np.asarray(self.rows_lo, dtype=float)
        lp.row_upper_ = np.asarray(self.rows_hi, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
        lp.integrality_ = [highspy.HighsVarType.kInteger if i and not relax else highspy.HighsVarType.kContinuous
                           for i in self.integer]
        lp.sense_ = highspy.ObjSense.kMaximize if sense_max else highspy.ObjSense.kMinimize
        h = _new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", gap)
        h.setOptionValue("time_limit", time_limit)
        h.setOptionValue("threads", 1)
        # Measured on the standard scenario (docs/benchmarks.md, optimizer): the RINS/RENS sub-MIPs and
        # root restarts cost more than they save on these small models (the incumbent comes from the
        # other heuristics within the first root passes; the proof is what takes time). Unknown to an
        # older HiGHS: setOptionValue then returns an error status and the default stays.
        for option in ("mip_heuristic_run_rins", "mip_heuristic_run_rens", "mip_allow_restart"):
            h.setOptionValue(option, False)
        h.passModel(lp)
        if start is not None:
            point = highspy.HighsSolution()
            point.col_value = start.tolist()
            point.value_valid = True
            h.setSolution(point)
        if stop is not None:
            def interrupt(event) -> None:
                if stop():
                    event.interrupt()
            # callbacks are only set when a caller can stop: each costs a call into Python
            for name in ("cbMipInterrupt", "cbSimplexInterrupt", "cbIpmInterrupt"):
                if hasattr(h, name):             # older highspy: the stop is asked between solves only
                    getattr(h, name).subscribe(interrupt)
        t0 = time.perf_counter()
        h.run()
        return h, time.perf_counter() - t0


NOISE_SHARE = 1e-6      # a share under a millionth of a group's requests is solver tolerance
WARM_START_GAP = 1e-2   # relative gap of the fixed-configuration solve that seeds the MILP
MAX_ROUTE_COMBOS = 3000   # above this many feasible pool assignments, a config falls back to binaries


def _latency_mode(g: Group, c: ConfigChoice):
    """How the latency SLO of (group, config) is enforced, with the options that can ever meet it.

    - "free": every combination of the remaining options meets every path (no constraint needed);
    - "combos": the feasible combinations, few enough to be routes of their own;
    - "binary": per-option binaries and step latencies (big-M), for large combination spaces.
    Options that cannot meet the SLO even with the quickest options elsewhere are dropped first.
    """
    steps = dict(c.steps)
    if g.latency_max_s is None:
        return steps, "free", ()
    tau = g.latency_max_s + 1e-9
    fastest = {t: min((o.latency_s for o in opts), default=0.0) for t, opts in steps.items()}
    for t, opts in steps.items():
        through = [p for p in g.paths if t in p]
        steps[t] = tuple(o for o in opts if all(
            o.latency_s + sum(fastest.get(u, 0.0) for u in p if u != t) <= tau for p in through))
    slowest = {t: max((o.latency_s for o in opts), default=0.0) for t, opts in steps.items()}
    if all(sum(slowest.get(t, 0.0) for t in p) <= tau for p in g.paths):
        return steps, "free", ()
    tasks = sorted(steps)
    space = 1
    for t in tasks:
        space *= max(1, len(steps[t]))
    if space > 50 * MAX_ROUTE_COMBOS:
        return steps, "binary", ()
    combos = []
    for combo in itertools.product(*(steps[t] for t in tasks)):
        chosen = dict(zip(tasks, combo))
        if all(sum(chosen[t].latency_s for t in p if t in chosen) <= tau for p in g.paths):
            combos.append(chosen)
            if len(combos) > MAX_ROUTE_COMBOS:
                return steps, "binary", ()
    return steps, "combos", tuple(combos)


def _add_cover_cuts(b: _Builder, problem: Problem, n_var: dict[str, int], group_modes: dict[str, dict]) -> None:
    """Valid inequalities that tighten the relaxation on rounding instances up.

    Every step that all of a group's configurations run must put the group's buffered peak load
    somewhere among the pools its options name, so those pools together hold at least
    ceil(alpha x peak rate x the smallest pool time of any option) instances: at least one whole
    instance for any non-zero demand, where the LP relaxation alone would open a sliver.
    """
    for g in problem.groups:
        if g.rate_peak <= 0:
            continue
        modes = group_modes[g.id]
        common = None
        for steps, _, _ in modes.values():
            tasks = {t for t, opts in steps.items() if opts}
            common = tasks if common is None else common & tasks
        for t in sorted(common or ()):
            pools = sorted({o.pool for steps, _, _ in modes.values() for o in steps[t]})
            least = min(o.busy_s for steps, _, _ in modes.values() for o in steps[t])
            need = math.ceil(problem.alpha * g.rate_peak * least - 1e-9)
            if need >= 1:
                b.row([(n_var[p], 1.0) for p in pools], lo=float(need))


def drop_dominated_pools(problem: Problem) -> Problem:
    """Remove pools that another pool of the same family and hardware beats wherever they are used.

    Pool q dominates p when q holds no more units, costs no more per instance (idle + node power for
    energy, price for cost and accuracy), and every step option on p has a twin on q in the same
    (group, configuration, step) that takes no more pool time at peak, no more busy energy, and (for
    groups with a latency SLO) is no slower. Any plan using p then does at least as well with p's load and instances moved to q, so
    dropping p keeps the optimum (and the reported gap honest).
    """
    uses: dict[str, list[tuple[str, str, str]]] = {}
    index: dict[tuple[str, str, str], dict[str, StepOption]] = {}
    for g in problem.groups:
        for c in g.configs:
            for t, opts in c.steps.items():
                index[(g.id, c.id, t)] = {o.pool: o for o in opts}
                for o in opts:
                    uses.setdefault(o.pool, []).append((g.id, c.id, t))
    pools = problem.pools
    energy = problem.objective == "energy"

    def fixed(p: PoolCandidate) -> float:
        return p.power_idle_w + p.node_overhead_w if energy else p.price_usd_per_hour

    timed = {g.id for g in problem.groups if g.latency_max_s is not None}

    def no_worse(oq: StepOption, op: StepOption, group: str) -> bool:
        if group in timed and oq.latency_s > op.latency_s + 1e-12:
            return False
        if oq.busy_s > op.busy_s + 1e-12:
            return False
        if not energy:
            return True
        q, p = pools[oq.pool], pools[op.pool]
        return oq.busy_s_avg * (q.power_busy_w - q.power_idle_w) <= op.busy_s_avg * (p.power_busy_w - p.power_idle_w) + 1e-12

    families: dict[tuple[str, str], list[str]] = {}
    for pid in uses:
        families.setdefault((pools[pid].family, pools[pid].hardware), []).append(pid)
    dropped: set[str] = set()
    for (family, _), members in families.items():
        if not family or len(members) < 2:
            continue
        for pid in sorted(members):
            p = pools[pid]
            for qid in sorted(members):
                if qid == pid or qid in dropped:
                    continue
                q = pools[qid]
                if q.units > p.units or fixed(q) > fixed(p) + 1e-12:
                    continue
                if all(qid in index[k] and no_worse(index[k][qid], index[k][pid], k[0]) for k in uses[pid]):
                    dropped.add(pid)
                    break
    if not dropped:
        return problem
    groups = tuple(
        replace(g, configs=tuple(replace(c, steps={t: tuple(o for o in opts if o.pool not in dropped)
                                                   for t, opts in c.steps.items()}) for c in g.configs))
        for g in problem.groups)
    return replace(problem, groups=groups)


def _config_no_worse(better: ConfigChoice, worse: ConfigChoice) -> bool:
    """Every way of running `worse` has a way of running `better` that is no slower and no heavier
    on the same pools (steps `better` skips cost nothing)."""
    if not set(better.steps) <= set(worse.steps):
        return False
    for t, opts in worse.steps.items():
        if t not in better.steps:
            continue
        mine = {o.pool: o for o in better.steps[t]}
        for o in opts:
            b = mine.get(o.pool)
            if b is None or b.latency_s > o.latency_s + 1e-12 or b.busy_s > o.busy_s + 1e-12 \
                    or b.busy_s_avg > o.busy_s_avg + 1e-12:
                return False
    return True


def drop_dominated_configs(problem: Problem) -> Problem:
    """For the energy and cost objectives, drop configurations another configuration of the same group
    beats on every step option (e.g. more frames on the same model when fewer already meet the tier):
    moving a plan's requests to the better configuration never costs more, so the optimum is kept.
    Not applied to the accuracy objective, where a configuration's accuracy counts."""
    if problem.objective == "accuracy":
        return problem
    groups = []
    changed = False
    for g in problem.groups:
        keep: list[ConfigChoice] = []
        for c in g.configs:
            if any(_config_no_worse(k, c) for k in keep):
                changed = True
                continue
            survivors = [k for k in keep if not _config_no_worse(c, k)]
            changed |= len(survivors) != len(keep)
            keep = survivors + [c]
        groups.append(replace(g, configs=tuple(keep)))
    return replace(problem, groups=tuple(groups)) if changed else problem


def independent_parts(problem: Problem) -> list[Problem]:
    """Split a problem into parts that share nothing: groups connected through the pools their
    options name. With no hardware or cost budget (the only rows that span every pool), the optimum
    of the whole is the sum of the parts' optima, and parts solved each to a relative gap g have a
    sum within g of the whole's optimum (objectives are non-negative). Otherwise: one part."""
    if problem.budgets or problem.objective == "accuracy" or len(problem.groups) < 2:
        return [problem]
    owner: dict[str, int] = {}          # pool -> index of the first group seen using it
    parent = list(range(len(problem.groups)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, g in enumerate(problem.groups):
        for c in g.configs:
            for opts in c.steps.values():
                for o in opts:
                    j = owner.setdefault(o.pool, i)
                    parent[root(i)] = root(j)
    parts: dict[int, list[Group]] = {}
    for i, g in enumerate(problem.groups):
        parts.setdefault(root(i), []).append(g)
    if len(parts) == 1:
        return [problem]
    return [replace(problem, groups=tuple(gs)) for gs in parts.values()]


def _combine(parts: list[Solution]) -> Solution:
    """One solution from the solutions of independent parts (sums, and the gap of the sums)."""
    objective = sum(s.objective_value for s in parts)
    bound = sum(s.objective_value - s.mip_gap * abs(s.objective_value) for s in parts)
    merged_variants: dict[str, list[tuple[float, dict[str, str]]]] = {}
    for s in parts:
        merged_variants.update(s.variants)
    return Solution(
        status="Optimal" if all(s.status == "Optimal" for s in parts) else "Time limit reached",
        config={k: v for s in parts for k, v in s.config.items()},
        shares={k: v for s in parts for k, v in s.shares.items()},
        instances={k: v for s in parts for k, v in s.instances.items()},
        variants=merged_variants, objective_value=objective,
        energy_wh=sum(s.energy_wh for s in parts), cost_usd=sum(s.cost_usd for s in parts),
        mip_gap=(objective - bound) / abs(objective) if objective else 0.0,
        solve_time_s=sum(s.solve_time_s for s in parts), variables=sum(s.variables for s in parts),
        integer_variables=sum(s.integer_variables for s in parts),
        constraints=sum(s.constraints for s in parts))


def solve(problem: Problem, start: Solution | None = None, stop: Stop | None = None) -> Solution:
    """Solve the planning MILP. Raises InfeasibleProblem when no plan meets every constraint, and
    SolveStopped when the time limit or `stop` (asked while HiGHS runs) ends it before any plan.
    `start`: a plan believed feasible (e.g. an earlier solution, topped up), handed to HiGHS as its
    first incumbent; HiGHS drops it if it is not feasible here. `problem.threads` independent parts
    are solved at once (each HiGHS run is single-threaded; HiGHS releases the GIL while it solves).

    Exact reductions first (dominated configurations and pools), then independent parts (groups
    that share no pool) are solved apart: smaller models, same optimum (`independent_parts`). The
    solve time reported is wall-clock, from the first part's start to the last part's end."""
    problem = drop_dominated_pools(drop_dominated_configs(problem))
    if problem.objective == "accuracy" and problem.cost_budget_usd is None:
        raise MurakkabError("the accuracy objective needs a cost budget (set cost_budget_usd per epoch)")
    if problem.threads < 1:
        raise MurakkabError(f"threads must be at least 1 (got {problem.threads})")
    parts = independent_parts(problem)
    if len(parts) == 1:
        return _solve_model(problem, start, stop)
    started = time.perf_counter()
    # largest parts first, so that the longest solve starts at once
    order = sorted(parts, key=lambda part: -sum(len(c.steps) for g in part.groups for c in g.configs))
    threads = min(problem.threads, len(order))

    def run(part: Problem) -> Solution:
        left = problem.time_limit_s - (time.perf_counter() - started)
        if left <= 0 or (stop is not None and stop()):
            raise SolveStopped("the time limit or a stop request ended the solve before every part had a plan")
        return _solve_model(replace(part, time_limit_s=left), start, stop)

    if threads == 1:
        solutions = []
        for part in order:
            solutions.append(run(part))
    else:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=threads) as pool:
            solutions = list(pool.map(run, order))
    return replace(_combine(solutions), solve_time_s=time.perf_counter() - started)


def _warm_start(b: _Builder, sense_max: bool, problem: Problem,
                group_ys: list[list[int]], stop: Stop | None = None) -> tuple[np.ndarray | None, float]:
    """A first incumbent for the MILP, and the seconds spent finding it.

    The LP relaxation tends to pick each group's configuration right while leaving instance counts
    fractional; with the configurations fixed, the MILP is small and quick. Its solution is handed to
    HiGHS, which then only has to prove (or improve) it: measured 2x faster on the standard scenario
    at small scale (docs/benchmarks.md). Nothing to do when no group has a choice of configuration;
    no start when the fixed configurations admit no plan (a budget, say)."""
    if all(len(ys) < 2 for ys in group_ys):
        return None, 0.0
    h, spent = b.solve(sense_max, problem.mip_rel_gap, problem.time_limit_s, relax=True, stop=stop)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, spent
    lp = np.asarray(h.getSolution().col_value)
    others = frozenset(y for ys in group_ys for y in ys if y != max(ys, key=lambda v: lp[v]))
    # a 1% incumbent is enough to prune with; the final solve closes the gap to the problem's tolerance
    h, more = b.solve(sense_max, max(problem.mip_rel_gap, WARM_START_GAP), max(problem.time_limit_s - spent, 1e-3),
                      stop=stop,
                      zero=others)
    spent += more
    if h.getInfo().primal_solution_status != 2:
        return None, spent
    return np.asarray(h.getSolution().col_value), spent


def _point_of(sol: Solution, ncol: int, y_var, x_var, combo_var, n_var) -> np.ndarray:
    """A solution as a point of this model's columns (configurations, shares, variants, instances);
    what the model has and the solution does not name stays 0."""
    point = np.zeros(ncol)
    for (gid, cid), v in y_var.items():
        point[v] = 1.0 if sol.config.get(gid) == cid else 0.0
    for (gid, cid, t, pid), v in x_var.items():
        if sol.config.get(gid) == cid:
            point[v] = sol.shares.get((gid, t, pid), 0.0)
    for (gid, cid), items in combo_var.items():
        if sol.config.get(gid) == cid:
            by_pools = {tuple(sorted(pools.items())): share for share, pools in sol.variants.get(gid, [])}
            for r, pools in items:
                point[r] = by_pools.get(tuple(sorted(pools.items())), 0.0)
    for pid, v in n_var.items():
        point[v] = float(sol.instances.get(pid, 0))
    return point


@dataclass
class _Model:
    """The columns of one MILP and the terms the objective and the solution read back."""
    b: _Builder = field(default_factory=_Builder)
    n_var: dict[str, int] = field(default_factory=dict)                 # pool -> instances
    y_var: dict[tuple[str, str], int] = field(default_factory=dict)     # (group, config) -> chosen
    x_var: dict[tuple[str, str, str, str], int] = field(default_factory=dict)   # (group, config, task, pool) -> share
    combo_var: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    group_ys: dict[str, list[int]] = field(default_factory=dict)
    group_modes: dict[str, dict] = field(default_factory=dict)
    # pool -> (column, alpha x pool time per request, its group): the buffered load terms, per slot
    capacity: dict[str, list[tuple[int, float, Group]]] = field(default_factory=dict)
    energy_terms: list[tuple[int, float]] = field(default_factory=list)  # Wh per unit of each column
    cost_terms: list[tuple[int, float]] = field(default_factory=list)    # $ per unit
    accuracy_terms: list[tuple[int, float]] = field(default_factory=list)


def _pool_columns(m: _Model, problem: Problem, pool_ids: list[str]) -> None:
    """An integer instance count per pool, with its idle + node energy and its price over the epoch."""
    T = problem.epoch_h
    for pid in pool_ids:
        p = problem.pools[pid]
        m.n_var[pid] = v = m.b.var(integer=True)
        m.energy_terms.append((v, problem.pue * (p.power_idle_w + p.node_overhead_w) * T))
        m.cost_terms.append((v, p.price_usd_per_hour * T))
        m.capacity[pid] = []


def slot_count(problem: Problem) -> int:
    """Time slots the capacity rows run over: 1 when no group has slot peaks."""
    counts = {len(g.slot_peaks) for g in problem.groups if g.slot_peaks}
    if len(counts) > 1:
        raise MurakkabError(f"every group with slot peaks needs the same number of slots (got {sorted(counts)})")
    return counts.pop() if counts else 1


def _add_load(m: _Model, problem: Problem, g: Group, var: int, o: StepOption) -> None:
    """Column `var` sends g's calls of one step to pool o.pool: its capacity load and busy energy."""
    p = problem.pools[o.pool]
    m.capacity[o.pool].append((var, problem.alpha * o.busy_s, g))
    # rate (req/s) x busy (instance-s/req) = average busy instances; x watts x hours = Wh
    m.energy_terms.append((var, problem.pue * g.rate_avg * o.busy_s_avg * (p.power_busy_w - p.power_idle_w)
                           * problem.epoch_h))


def _combo_columns(m: _Model, problem: Problem, g: Group, c: ConfigChoice, y: int, combos) -> None:
    """Each feasible assignment of pools to steps is a route of its own: the latency SLO holds by
    construction and the LP relaxation stays tight."""
    b = m.b
    row = [(y, -1.0)]
    for combo in combos:
        r = b.var(lo=0.0, hi=1.0, integer=not problem.allow_split)
        row.append((r, 1.0))
        m.combo_var.setdefault((g.id, c.id), []).append((r, {t: o.pool for t, o in combo.items()}))
        for o in combo.values():
            _add_load(m, problem, g, r, o)
    b.row(row, lo=0.0, hi=0.0)


def _share_columns(m: _Model, problem: Problem, g: Group, c: ConfigChoice, y: int, steps, mode: str,
                   L: dict[str, int]) -> None:
    """Per step, a share of g's calls per pool option summing to y; with `binary` mode (or no splitting)
    a 0/1 use column per option, which bounds the step's latency L[t] on the critical path rows."""
    b = m.b
    for t, opts in steps.items():
        row = [(y, -1.0)]
        for o in opts:
            x = b.var(lo=0.0, hi=1.0)
            m.x_var[(g.id, c.id, t, o.pool)] = x
            row.append((x, 1.0))
            _add_load(m, problem, g, x, o)
            if mode == "binary" or not problem.allow_split:
                u = b.var(lo=0, hi=1, integer=True)
                b.row([(x, 1.0), (u, -1.0)], hi=0.0)
                if mode == "binary" and t in L:
                    b.row([(L[t], 1.0), (u, -o.latency_s)], lo=0.0)
                if not problem.allow_split:
                    # x is 0 or equals y: a step runs on exactly one pool
                    b.row([(x, 1.0), (u, -1.0), (y, -1.0)], lo=-1.0)
        b.row(row, lo=0.0, hi=0.0)


def _group_columns(m: _Model, problem: Problem, g: Group, total_avg_rate: float) -> None:
    """One configuration per group (binary y summing to 1), its accuracy, and how its steps are routed."""
    if not g.configs:
        raise InfeasibleProblem(f"group {g.id} has no configuration that meets its SLO")
    b = m.b
    ys = []
    L: dict[str, int] = {}
    modes = {c.id: _latency_mode(g, c) for c in g.configs}
    m.group_modes[g.id] = modes
    if g.latency_max_s is not None and any(md[1] == "binary" for md in modes.values()):
        # latency of each step on a path, bounded along every path by the tier's threshold
        L = {t: b.var() for t in sorted({t for path in g.paths for t in path})}
        for path in g.paths:
            b.row([(L[t], 1.0) for t in path], hi=g.latency_max_s)
    for c in g.configs:
        y = b.var(lo=0, hi=1, integer=True)
        m.y_var[(g.id, c.id)] = y
        m.group_ys.setdefault(g.id, []).append(y)
        ys.append((y, 1.0))
        m.accuracy_terms.append((y, g.rate_avg * c.accuracy / total_avg_rate))
        steps, mode, combos = modes[c.id]
        if mode == "combos":
            _combo_columns(m, problem, g, c, y, combos)
        else:
            _share_columns(m, problem, g, c, y, steps, mode, L)
    b.row(ys, lo=1.0, hi=1.0)


def _resource_rows(m: _Model, problem: Problem, pool_ids: list[str]) -> None:
    """Capacity per pool (buffered peak load within its instances), cover cuts, hardware budgets."""
    for pid, terms in m.capacity.items():
        for s in range(slot_count(problem)):
            m.b.row([(v, k * g.rate_in_slot(s)) for v, k, g in terms] + [(m.n_var[pid], -1.0)], hi=0.0)
    _add_cover_cuts(m.b, problem, m.n_var, m.group_modes)
    for hw, budget in problem.budgets.items():
        terms = [(m.n_var[pid], float(problem.pools[pid].units)) for pid in pool_ids
                 if problem.pools[pid].hardware == hw]
        if terms:
            m.b.row(terms, hi=float(budget))


def _set_objective(m: _Model, problem: Problem) -> bool:
    """Put the objective's coefficients on the columns; returns whether it is maximised."""
    def merged(terms: list[tuple[int, float]], scale: float = 1.0) -> None:
        for v, coef in terms:
            m.b.cost[v] += scale * coef

    if problem.objective == "energy":
        merged(m.energy_terms)
        return False
    if problem.objective == "cost":
        merged(m.cost_terms)
        return False
    m.b.row(m.cost_terms, hi=problem.cost_budget_usd)
    merged(m.accuracy_terms)
    merged(m.cost_terms, -ACCURACY_COST_EPSILON)
    return True


def _read_solution(m: _Model, sol: np.ndarray) -> tuple[dict, dict, dict, dict]:
    """(configuration per group, instances per pool, shares per (group, task, pool), variants per group)."""
    config = {gid: cid for (gid, cid), v in m.y_var.items() if sol[v] > 0.5}
    instances = {pid: int(round(sol[v])) for pid, v in m.n_var.items() if round(sol[v]) > 0}

    def kept(v: int, pools) -> float:
        # HiGHS' feasibility tolerance lets a sliver of load sit on a pool rounded to 0 instances:
        # noise, not a decision (a route to a pool without instances could not run)
        return float(sol[v]) if sol[v] >= NOISE_SHARE and all(instances.get(p, 0) > 0 for p in pools) else 0.0

    shares: dict[tuple[str, str, str], float] = {}
    for (gid, cid, t, pid), v in m.x_var.items():
        if config.get(gid) == cid and kept(v, (pid,)):
            shares[(gid, t, pid)] = shares.get((gid, t, pid), 0.0) + kept(v, (pid,))
    variants: dict[str, list[tuple[float, dict[str, str]]]] = {}
    for (gid, cid), items in m.combo_var.items():
        if config.get(gid) != cid:
            continue
        live = [(kept(r, pools.values()), pools) for r, pools in items]
        live = [(share, pools) for share, pools in live if share > 0]
        total = sum(share for share, _ in live)
        variants[gid] = [(share / total, pools) for share, pools in live]
        for share, pools in variants[gid]:
            for t, pid in pools.items():
                shares[(gid, t, pid)] = shares.get((gid, t, pid), 0.0) + share
    step_total: dict[tuple[str, str], float] = {}
    for (gid, t, _), share in shares.items():
        step_total[(gid, t)] = step_total.get((gid, t), 0.0) + share
    shares = {k: share / step_total[(k[0], k[1])] for k, share in shares.items()}
    return config, instances, shares, variants


def _solve_model(problem: Problem, start: Solution | None = None, stop: Stop | None = None) -> Solution:
    """Build and solve one MILP for `problem` (already reduced), from `start` when given."""
    pool_ids = sorted({o.pool for g in problem.groups for c in g.configs for opts in c.steps.values() for o in opts})
    missing = [p for p in pool_ids if p not in problem.pools]
    if missing:
        raise MurakkabError(f"step options name unknown pools: {missing[:5]}")
    m = _Model()
    _pool_columns(m, problem, pool_ids)
    total_avg_rate = sum(g.rate_avg for g in problem.groups) or 1.0
    for g in problem.groups:
        _group_columns(m, problem, g, total_avg_rate)
    _resource_rows(m, problem, pool_ids)
    sense_max = _set_objective(m, problem)

    b = m.b
    if start is not None:
        point, warm_s = _point_of(start, len(b.cost), m.y_var, m.x_var, m.combo_var, m.n_var), 0.0
    else:
        point, warm_s = _warm_start(b, sense_max, problem, list(m.group_ys.values()), stop)
    h, elapsed = b.solve(sense_max, problem.mip_rel_gap, max(problem.time_limit_s - warm_s, 1e-3), start=point,
                         stop=stop)
    elapsed += warm_s
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    stopped = status in ("Time limit reached", "Interrupted by user")
    if stopped and info.primal_solution_status != 2:
        raise SolveStopped(f"HiGHS status: {status} after {elapsed:.1f} s, before it found any plan")
    if status != "Optimal" and not stopped or info.primal_solution_status != 2:
        raise InfeasibleProblem(f"HiGHS status: {status}")
    sol = np.asarray(h.getSolution().col_value)
    config, instances, shares, variants = _read_solution(m, sol)
    return Solution(
        status=status, config=config, shares=shares, instances=instances, variants=variants,
        objective_value=float(info.objective_function_value),
        energy_wh=float(sum(sol[v] * c for v, c in m.energy_terms)),
        cost_usd=float(sum(sol[v] * c for v, c in m.cost_terms)),
        mip_gap=float(info.mip_gap) if math.isfinite(info.mip_gap) else 0.0,
        solve_time_s=elapsed, variables=len(b.cost), integer_variables=sum(b.integer), constraints=len(b.rows_lo))
