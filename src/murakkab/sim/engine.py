"""The event loop: requests run their route's DAG on simulated pools.

Events happen only at arrivals, call completions (prefill done, decode done, tool done) and policy
ticks. A step starts when all its producers are done; it picks a pool by the plan's shares (smooth
weighted round-robin, deterministic) or, when the route has variants, takes the pool of the one
variant its request picked on arrival (`policy.router.VariantRouter`), then runs `calls_sequential` rounds of `calls_parallel`
concurrent calls, each sent to the least-loaded ready instance of that pool. Skipped steps take no
time. The simulator implements `ClusterView`/`PlanView`, so the shared policies drive it directly.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import operator
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from murakkab.errors import MurakkabError
from murakkab.instance import CurveResolver, instance_model, store_resolver
from murakkab.plan.schema import Plan, Pool, Route
from murakkab.policy.accounting import DEFAULT_PREFILL_WEIGHT
from murakkab.policy.autoscaler import AutoscalerConfig, ReactiveAutoscaler
from murakkab.policy.reoptimizer import EpochReoptimizer
from murakkab.policy.placement import Applied, WaitingCall, drain, rebalance, strand
from murakkab.policy.router import SmoothWeightedRoundRobin, VariantRouter, least_loaded
from murakkab.policy.slo import LATENCY_TOLERANCE_S, SloRule
from murakkab.policy.view import InstanceInfo
from murakkab.profiles.tokens import LogNormalTokens
from murakkab.sim.instances import Call, ModelInstance, ToolInstance, decode_divisors
from murakkab.sim.normals import NormalBlocks

_EPS = 1e-9
_PREFILL, _DECODE, _TOOL, _OTHER = 0, 1, 2, 3        # event kinds (see Simulator._push)
_LOAD = operator.attrgetter("load")


def _pick(routable: list, loads: list | None):
    """The least-loaded instance for the next call of a round (None when none is routable). `loads`,
    when given, holds the instances' loads read once for the round; the pick is counted in it."""
    n = len(routable)
    if n == 1:
        return routable[0]
    if loads is not None:
        j = loads.index(_min(loads))
        loads[j] += 1
        return routable[j]
    return _min(routable, key=_LOAD) if n else None
# min(key=load) returns the first instance of least load: the tie rule of policy.placement.pick_instance


def _no_pick() -> int:
    raise AssertionError("policy.placement.strand picks a pool only when the step has one")
_min, _heappush, _exp = min, heapq.heappush, math.exp


@dataclass(frozen=True)
class SimConfig:
    seed: int = 0
    autoscale: bool = False
    autoscaler: AutoscalerConfig = field(default_factory=AutoscalerConfig)
    bin_s: float = 60.0                     # width of the time-series bins
    prefill_weight: float = DEFAULT_PREFILL_WEIGHT
    record_intervals: bool = False          # keep every instance interval (tests; small runs only)
    record_decisions: bool = False          # log placement decisions and where each call ran (contract tests)


class _PoolRT:
    __slots__ = ("plan", "id", "kind", "model", "instances", "routable", "pending", "slots", "hw", "units",
                 "price", "node_w", "n_made", "wdec")

    def __init__(self, pool: Pool, model):
        # model: the shared instance model of one instance (murakkab.instance), inlined by sim/instances.py
        self.plan, self.id, self.kind, self.model = pool, pool.id, pool.kind, model
        self.instances: list = []
        self.routable: list = []
        self.pending: deque = deque()       # calls waiting for any ready instance
        self.slots = model.slots
        self.hw, self.units = pool.hardware, pool.units_per_instance
        self.price, self.node_w = pool.price_usd_per_hour / 3600.0, pool.node_overhead_w
        self.n_made = 0
        # shared by its instances
        self.wdec = decode_divisors(model.curve.tpot_s) if pool.kind == "model" else None


class _Step:
    __slots__ = ("idx", "task", "kind", "skipped", "n_seq", "n_par", "inp", "tokens", "pools", "services",
                 "rr", "succ", "n_pred", "mu", "sigma", "out_fixed",
                 # sums over the step's completions, in STEP_FIELDS order (SimResult.steps)
                 "n_done", "lat_s", "gpu_j", "node_j", "cost", "tok_in", "tok_out")

    def sums(self) -> list:
        return [self.n_done, self.lat_s, self.gpu_j, self.node_j, self.cost, self.tok_in, self.tok_out]


class _Route:
    __slots__ = ("idx", "route", "workflow", "tier_key", "steps", "sources", "latency_bound_s", "accuracy_met",
                 "vrr", "vk")


class _Req:
    __slots__ = ("id", "route", "t0", "wait", "left", "state", "gpu_j", "node_j", "cost", "tok_in", "tok_out",
                 "vk")


STEP_FIELDS = ("steps", "latency_s", "gpu_j", "node_j", "cost_usd", "tokens_in", "tokens_out")


@dataclass(slots=True)
class RequestRecord:
    request_id: int
    workflow: str
    tier: str
    arrival_s: float
    latency_s: float | None               # None: unfinished when the run ended
    slo_met: bool
    gpu_j: float
    node_j: float
    cost_usd: float
    tokens_in: float
    tokens_out: int


@dataclass
class InstanceRecord:
    id: str
    pool: str
    kind: str
    hardware: str
    units: int
    alloc_s: float
    release_s: float
    energy_j: float
    idle_j: float
    idle_s: float
    node_w: float
    price_usd_per_s: float
    bins_j: list[float]
    intervals: list | None


@dataclass
class SimResult:
    plan: Plan
    config: SimConfig
    horizon_s: float
    end_s: float
    requests: list[RequestRecord]
    instances: list[InstanceRecord]
    steps: dict[tuple[str, str, str], list[float]]   # (workflow, tier, task) -> STEP_FIELDS sums
    routes: dict[tuple[str, str], Route]
    forecasts: list = field(default_factory=list)
    unfinished: int = 0                                # requests never completed (a pool without capacity)


def _compile_route(idx: int, route: Route, pools: dict[str, _PoolRT]) -> _Route:
    pos = {s.task: i for i, s in enumerate(route.steps)}
    steps = []
    for i, sp in enumerate(route.steps):
        st = _Step()
        st.idx, st.task, st.kind, st.skipped = i, sp.task, sp.kind, sp.skipped
        st.n_seq, st.n_par = max(sp.calls_sequential, 1), max(sp.calls_parallel, 1)
        st.inp = sp.input_tokens
        st.tokens = _tokens(route, sp)
        # LogNormalTokens.draw's parameters, unpacked for the inlined draw in Simulator._round
        st.mu = math.log(st.tokens.median) if st.tokens is not None else 0.0
        st.sigma = st.tokens.sigma if st.tokens is not None else 0.0
        st.out_fixed = max(1, round(st.tokens.median)) if st.tokens is not None else 0
        st.succ, st.n_pred = [], 0
        st.n_done, st.lat_s, st.gpu_j, st.node_j, st.cost, st.tok_in, st.tok_out = 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0
        st.pools, st.services = [], []
        if not sp.skipped:
            if not sp.pools:
                raise MurakkabError(f"route {route.workflow}/{route.tier.key}: step '{sp.task}' has no pools "
                                    "(fix: give every non-skipped step at least one pool share)")
            for ps in sp.pools:
                if ps.pool not in pools:
                    raise MurakkabError(f"route {route.workflow}/{route.tier.key}: step '{sp.task}' uses pool "
                                        f"'{ps.pool}' that the plan does not define (fix: add it to plan.pools)")
                st.pools.append(pools[ps.pool])
                if pools[ps.pool].kind == "model" and st.tokens is None:
                    raise MurakkabError(f"route {route.workflow}/{route.tier.key}: step '{sp.task}' runs on model "
                                        f"pool '{ps.pool}' but has no output tokens (fix: give output_tokens_p50 > 0)")
                # a tool call's service time: the step's latency on this pool over its sequential calls
                st.services.append(ps.latency_p50_s / st.n_seq)
            st.rr = SmoothWeightedRoundRobin([ps.share for ps in sp.pools])
        steps.append(st)
    for a, b in route.edges:               # known steps, no cycle: the Route checked when it was built
        steps[pos[a]].succ.append(steps[pos[b]])
        steps[pos[b]].n_pred += 1
    r = _Route()
    r.idx, r.route, r.workflow, r.tier_key, r.steps = idx, route, route.workflow, route.tier.key, steps
    r.sources = [s for s in steps if s.n_pred == 0]
    r.vrr, r.vk = _compile_variants(route, steps)
    # the SLO verdict is policy.slo's; _finish inlines SloRule.met with these two precomputed parts
    rule = SloRule.of_route(route)
    limit = rule.latency_limit_s
    r.latency_bound_s = None if limit is None else limit + LATENCY_TOLERANCE_S
    r.accuracy_met = rule.accuracy_met
    return r


def _tokens(route: Route, sp) -> LogNormalTokens | None:
    """The step's output tokens per call: the optimizer's log-normal (profiles.tokens), fitted to p50/p90."""
    if sp.skipped or sp.output_tokens_p50 <= 0:
        return None   # tool steps; a model pool on such a step is rejected when its call is built
    try:
        return LogNormalTokens.from_percentiles(sp.output_tokens_p50, sp.output_tokens_p90)
    except ValueError as exc:
        raise MurakkabError(f"route {route.workflow}/{route.tier.key}: step '{sp.task}': {exc} "
                            "(fix: give output_tokens_p90 >= output_tokens_p50 > 0)") from None


def _compile_variants(route: Route, steps: list[_Step]) -> tuple[VariantRouter | None, list[list[int]] | None]:
    """Per variant, the index into each step's pool list (skipped steps: -1)."""
    if not route.variants:
        return None, None
    where = f"route {route.workflow}/{route.tier.key}"
    vk = []
    for n, v in enumerate(route.variants):
        ks = []
        for st, sp in zip(steps, route.steps):
            if st.skipped:
                ks.append(-1)
                continue
            pid = v.pools.get(st.task)
            ids = [ps.pool for ps in sp.pools]
            if pid is None or pid not in ids:
                raise MurakkabError(f"{where}: variant {n} gives step '{st.task}' pool {pid!r}, not one of the "
                                    f"step's pools {ids} (fix: every variant must name one of each non-skipped "
                                    "step's pools)")
            ks.append(ids.index(pid))
        vk.append(ks)
    return VariantRouter(route.variants), vk


class Simulator:
    """One run of a plan over a list of arrivals. Use `run()`; the object also serves as the
    ClusterView the policies act through."""

    def __init__(self, plan: Plan, arrivals: Sequence[tuple[float, str, str]], *, horizon_s: float,
                 config: SimConfig = SimConfig(), resolver: CurveResolver | None = None,
                 reoptimizer: EpochReoptimizer | None = None, progress: Callable[[float], None] | None = None):
        self.plan, self.cfg, self.horizon = plan, config, horizon_s
        self.progress = progress
        self.arrivals = arrivals
        self.resolver = resolver or store_resolver()
        self.reopt = reoptimizer
        self.t = 0.0
        self._heap: list = []
        self._count = itertools.count(1)   # event sequence numbers: ties run in push order
        self._dirty: list = []             # instances whose decode-done event awaits `_flush`
        self._gc_paused = False            # run() paused the cyclic collector (re-plans resume it)
        self.pools: dict[str, _PoolRT] = {}
        self.all_instances: list = []
        self.routes: dict[tuple[str, str], _Route] = {}
        self.route_defs: dict[tuple[str, str], Route] = {}
        self.tok_rng = random.Random(config.seed * 1_000_003 + 7)
        # its normalvariate stream, drawn in numpy blocks (same numbers; see sim/normals.py)
        self._normals = NormalBlocks(self.tok_rng)
        self._zbuf: list[float] = []
        self._zi = 0
        self.records: list[RequestRecord] = []
        self.compiled: list[_Route] = []
        self.in_flight = 0
        self._req_id = 0
        self.autoscaler = ReactiveAutoscaler(config.autoscaler) if config.autoscale else None
        # policy.placement.Applied per decision; (request id, task, instance id) per finished call
        self.decisions = [] if config.record_decisions else None
        self.calls = [] if config.record_decisions else None
        self._register_plan(plan)
        self._set_routes(plan)
        for p in plan.pools:
            self._allocate(self.pools[p.id], p.instances, 0.0)
        self._check_arrivals()

    # ---- setup -------------------------------------------------------------------------------
    def _register_plan(self, plan: Plan) -> None:
        for pool in plan.pools:
            if pool.id in self.pools:
                continue
            self.pools[pool.id] = _PoolRT(pool, instance_model(pool, self.resolver))

    def _set_routes(self, plan: Plan) -> None:
        routes, defs = {}, {}
        for i, r in enumerate(plan.routes):
            routes[(r.workflow, r.tier.key)] = _compile_route(i, r, self.pools)
            self.compiled.append(routes[(r.workflow, r.tier.key)])
            defs[(r.workflow, r.tier.key)] = r
        self.routes = routes
        self.route_defs.update(defs)

    def _check_arrivals(self) -> None:
        missing = sorted({(w, k) for _, w, k in self.arrivals} - set(self.routes))
        if missing:
            known = ", ".join(f"{w}/{k}" for w, k in sorted(self.routes))
            raise MurakkabError(f"arrivals name (workflow, tier) pairs the plan has no route for: {missing[:5]}; "
                                f"plan routes: {known} (fix: change the tier mix or re-plan with these tiers)")

    # ---- event plumbing ----------------------------------------------------------------------
    # Heap entries are (time, seq, kind, obj): kind 0 prefill done (obj: call), 1 decode done (obj:
    # instance; stale unless obj.version == seq), 2 tool done (obj: call), 3 other (obj: (fn, arg)).
    # The hot kinds are handled inline in `run` (no per-event bound methods or call layers); seq keeps
    # ties in push order.
    def _push(self, t: float, fn, arg) -> None:
        heapq.heappush(self._heap, (t, next(self._count), _OTHER, (fn, arg)))

    # ---- instances ---------------------------------------------------------------------------
    def _allocate(self, prt: _PoolRT, n: int, ready_at: float) -> None:
        cfg = self.cfg
        for _ in range(n):
            prt.n_made += 1
            iid = f"{prt.id}#{prt.n_made}"
            if prt.kind == "model":
                inst = ModelInstance(iid, prt, prt.model.curve, prt.model.ttft_s, self.t, ready_at, cfg.bin_s,
                                     cfg.record_intervals, cfg.prefill_weight)
            else:
                inst = ToolInstance(iid, prt, prt.slots, prt.model.idle_w, prt.model.busy_w, self.t,
                                    ready_at, cfg.bin_s, cfg.record_intervals)
            prt.instances.append(inst)
            self.all_instances.append(inst)
            if ready_at <= self.t:
                prt.routable.append(inst)
            else:
                self._push(ready_at, self._on_ready, inst)

    def _on_ready(self, inst) -> None:
        """A new instance joins its pool's routing, and the pool's waiting calls are dealt again
        (`policy.placement.rebalance`)."""
        if inst.draining:
            return
        prt = inst.pool
        prt.routable.append(inst)
        pending = [WaitingCall(c, c.t_submit) for c in prt.pending]
        queued = {i.id: [WaitingCall(c, c.t_submit) for c in i.queue] for i in prt.routable if i.queue}
        if not pending and not queued:
            return
        by_id = {i.id: i for i in prt.routable}
        decision = rebalance(prt.id, self._infos(prt.routable, prt.id), pending, queued)
        if self.decisions is not None:
            self.decisions.append(Applied(self.t, decision))
        prt.pending.clear()
        for other in prt.routable:
            if other.queue:
                other.load -= len(other.queue)
                other.queue.clear()
        for place in decision.placements:
            self._submit(by_id[place.instance], place.key)

    def _infos(self, insts, pool: str) -> list[InstanceInfo]:
        t = self.t
        return [InstanceInfo(i.id, pool, i.ready_at <= t, i.draining, i.load) for i in insts]

    def _drain(self, prt: _PoolRT, n: int) -> None:
        decision = drain(prt.id, self._infos([i for i in prt.instances if not i.released], prt.id), n)
        if self.decisions is not None:
            self.decisions.append(Applied(self.t, decision))
        by_id = {i.id: i for i in prt.instances}
        for iid in decision.victims:
            inst = by_id[iid]
            inst.draining = True
            if inst in prt.routable:
                prt.routable.remove(inst)
            if inst.load == 0:
                self._release(inst)
        if prt.pending and decision.strand_pending:
            waiting = list(prt.pending)
            prt.pending.clear()
            for call in waiting:
                self._strand(prt, call)

    def _strand(self, prt: _PoolRT, call: Call) -> None:
        """A call for a pool with no routable instance (`policy.placement.strand`): it waits for one
        that is provisioning, moves to the running plan's pool for its task when a re-plan retired this
        one (its request started under the old plan and would otherwise never finish), or, with
        nowhere to go, waits for good and its request is reported unfinished."""
        step = None
        route = self.routes.get((call.req.route.workflow, call.req.route.tier_key))
        if route is not None:
            step = next((s for s in route.steps if s.task == call.step.task and not s.skipped), None)
        decision = strand(prt.id, prt.kind, self._infos([i for i in prt.instances if not i.released], prt.id),
                          [(q.id, q.kind) for q in step.pools] if step is not None else None,
                          step.rr.pick if step is not None else _no_pick)
        if self.decisions is not None:
            self.decisions.append(Applied(self.t, decision, call))
        if decision.action != "reroute":
            prt.pending.append(call)
            return
        target = self.pools[decision.to]
        if target.routable:
            self._submit(least_loaded(target.routable), call)
        else:
            target.pending.append(call)

    def _release(self, inst) -> None:
        inst.advance(self.t)
        inst.released = True
        inst.release_t = self.t

    # ---- calls -------------------------------------------------------------------------------
    def _submit(self, inst, call: Call) -> None:
        call.inst = inst
        inst.load += 1
        if inst.busy < inst.slots:
            inst.advance(self.t)
            self._start(inst, call)
        else:
            inst.queue.append(call)

    def _start(self, inst, call: Call) -> None:
        """Occupy a slot (instance already advanced to now)."""
        now = self.t
        inst.busy += 1
        if inst.__class__ is ToolInstance:
            if inst.svc is not None:
                inst.svc.add(call)
            call.a_e, call.a_t = inst.A_e, inst.A_t
            heapq.heappush(self._heap, (now + call.service_s, next(self._count), _TOOL, call))
        elif inst.ttft > 0:
            inst.pre_w += call.inp
            if inst.pre is not None:
                inst.pre.add(call)
            call.a_e, call.a_t = inst.Ap_e, inst.Ap_t
            heapq.heappush(self._heap, (now + inst.ttft, next(self._count), _PREFILL, call))
        else:
            self._decode(inst, call)
            self._reschedule(inst)

    def _decode(self, inst: ModelInstance, call: Call) -> None:
        inst.seq += 1
        call.a_e, call.a_t = inst.Ad_e, inst.Ad_t
        heapq.heappush(inst.marks, (inst.V + call.out, inst.seq, call))
        inst.n_dec += 1

    def _reschedule(self, inst: ModelInstance) -> None:
        """(Re)arm the instance's decode-done event for its head finish mark; any earlier one goes stale.
        The event takes its sequence number now but is pushed by `_flush` once the current event is
        handled: an instance whose occupancy changes k times at one instant then costs one heap entry,
        not k (k - 1 of them stale), with the same time and tie order as pushing each."""
        if inst.marks:
            inst.version = next(self._count)
            if not inst.dirty:
                inst.dirty = True
                self._dirty.append(inst)
        else:
            inst.version = -1

    def _flush(self) -> None:
        """Push the decode-done event of every instance rescheduled during the current event (state is
        unchanged since its last `_reschedule`, at the current time)."""
        heap, now = self._heap, self.t
        for inst in self._dirty:
            inst.dirty = False
            if inst.version > 0:
                t = inst.t_last + (inst.marks[0][0] - inst.V) * inst.tpot[inst.n_dec]
                heapq.heappush(heap, (t if t > now else now, inst.version, _DECODE, inst))
        self._dirty.clear()

    def _free(self, inst, n: int) -> None:
        inst.busy -= n
        inst.load -= n
        q = inst.queue
        while q and inst.busy < inst.slots:
            self._start(inst, q.popleft())
        if inst.draining and inst.load == 0 and not inst.released:
            self._release(inst)

    # ---- requests ----------------------------------------------------------------------------
    def _arrive(self, workflow: str, tier_key: str) -> None:
        route = self.routes[(workflow, tier_key)]
        if self.reopt is not None:
            self.reopt.record_arrival(workflow, tier_key)
        req = _Req()
        self._req_id += 1
        req.id, req.route, req.t0 = self._req_id, route, self.t
        req.wait = [s.n_pred for s in route.steps]
        req.left = len(route.steps)
        req.state = [None] * len(route.steps)
        req.gpu_j = req.node_j = req.cost = req.tok_in = 0.0
        req.tok_out = 0
        req.vk = route.vk[route.vrr.pick()] if route.vrr is not None else None
        self.in_flight += 1
        if not route.steps:
            self._finish(req)
            return
        for s in route.sources:
            self._start_step(req, s)

    def _start_step(self, req: _Req, s: _Step) -> None:
        if s.skipped:
            req.state[s.idx] = [0, 0, None, self.t]
            self._step_done(req, s)
            return
        k = s.rr.pick() if req.vk is None else req.vk[s.idx]
        req.state[s.idx] = [s.n_seq, 0, k, self.t]
        self._round(req, s)

    def _round(self, req: _Req, s: _Step) -> None:
        """Send one round of the step's parallel calls (the body of `_submit`/`_start` inlined: this runs
        once per round of every request)."""
        st = req.state[s.idx]
        k = st[2]
        prt = s.pools[k]
        n_par = st[1] = s.n_par
        now = self.t
        routable = prt.routable
        heap, count = self._heap, self._count
        n = len(routable)
        # least-loaded pick for each of the round's calls: with several calls, the loads are read once and
        # the pick is the first minimum of a list of ints (the same tie rule as `least_loaded`)
        loads = [i.load for i in routable] if n > 1 and n_par > 1 else None
        if prt.kind == "model":
            inp, mu, sigma = s.inp, s.mu, s.sigma
            dirty = self._dirty
            zbuf, zi = self._zbuf, self._zi
            for _ in range(n_par):
                if sigma == 0.0:
                    out = s.out_fixed
                else:   # LogNormalTokens.draw: round(exp(normalvariate(ln median, sigma))), at least 1
                    if zi == len(zbuf):
                        zbuf = self._zbuf = self._normals.next_block()
                        zi = 0
                    out = round(_exp(mu + zbuf[zi] * sigma))
                    zi += 1
                    if out < 1:
                        out = 1
                call = Call(req, s, inp, out, 0.0, now)
                inst = _pick(routable, loads)
                if inst is None:
                    self._strand(prt, call)
                    continue
                call.inst = inst
                inst.load += 1
                if inst.busy < inst.slots:
                    if inst.t_last != now:
                        inst.advance(now)
                    inst.busy += 1
                    ttft = inst.ttft
                    if ttft > 0:
                        inst.pre_w += inp
                        if inst.pre is not None:
                            inst.pre.add(call)
                        call.a_e, call.a_t = inst.Ap_e, inst.Ap_t
                        _heappush(heap, (now + ttft, next(count), _PREFILL, call))
                    else:   # straight to decoding (`_decode` + `_reschedule` inlined)
                        q = inst.seq = inst.seq + 1
                        call.a_e, call.a_t = inst.Ad_e, inst.Ad_t
                        _heappush(inst.marks, (inst.V + out, q, call))
                        inst.n_dec += 1
                        inst.version = next(count)
                        if not inst.dirty:
                            inst.dirty = True
                            dirty.append(inst)
                else:
                    inst.queue.append(call)
            self._zi = zi
        else:
            service = s.services[k]
            for _ in range(n_par):
                call = Call(req, s, 0.0, 0, service, now)
                tinst = _pick(routable, loads)
                if tinst is None:
                    self._strand(prt, call)
                    continue
                call.inst = tinst
                tinst.load += 1
                if tinst.busy < tinst.slots:
                    if tinst.t_last != now:
                        tinst.advance(now)
                    tinst.busy += 1
                    if tinst.svc is not None:
                        tinst.svc.add(call)
                    call.a_e, call.a_t = tinst.A_e, tinst.A_t
                    _heappush(heap, (now + service, next(count), _TOOL, call))
                else:
                    tinst.queue.append(call)

    def _call_done(self, call: Call) -> None:
        req, s = call.req, call.step
        prt = call.inst.pool
        inst_s, gpu_j, inp, out = call.inst_s, call.gpu_j, call.inp, call.out
        node_j, cost = prt.node_w * inst_s, prt.price * inst_s
        req.gpu_j += gpu_j
        req.node_j += node_j
        req.cost += cost
        req.tok_in += inp
        req.tok_out += out
        if self.calls is not None:
            self.calls.append((req.id, s.task, call.inst.id))
        s.gpu_j += gpu_j
        s.node_j += node_j
        s.cost += cost
        s.tok_in += inp
        s.tok_out += out
        st = req.state[s.idx]
        st[1] -= 1
        if st[1] == 0:
            st[0] -= 1
            if st[0] > 0:
                self._round(req, s)
            else:
                self._step_done(req, s)

    def _step_done(self, req: _Req, s: _Step) -> None:
        s.n_done += 1
        s.lat_s += self.t - req.state[s.idx][3]
        for nxt in s.succ:
            req.wait[nxt.idx] -= 1
            if req.wait[nxt.idx] == 0:
                self._start_step(req, nxt)
        req.left -= 1
        if req.left == 0:
            self._finish(req)

    def _finish(self, req: _Req) -> None:
        self.in_flight -= 1
        route = req.route
        lat = self.t - req.t0
        met = route.accuracy_met and (route.latency_bound_s is None or lat <= route.latency_bound_s)
        self.records.append(RequestRecord(req.id, route.workflow, route.tier_key, req.t0, lat, met, req.gpu_j, req.node_j,
                                          req.cost, req.tok_in, req.tok_out))

    # ---- policies ----------------------------------------------------------------------------
    def _autoscale_tick(self, _arg) -> None:
        self.autoscaler.tick(self)
        if self.t < self.horizon:
            self._push(self.t + self.cfg.autoscaler.interval_s, self._autoscale_tick, None)

    def _epoch_tick(self, _arg) -> None:
        # a re-plan (optimizer, solver) is ordinary Python: let the collector run while it does
        paused = self._gc_paused and not gc.isenabled()
        if paused:
            gc.enable()
        try:
            self.reopt.on_epoch(self)
        finally:
            if paused:
                gc.disable()
        if self.t + self.reopt.epoch_s < self.horizon:
            self._push(self.t + self.reopt.epoch_s, self._epoch_tick, None)

    def _switch_routes(self, plan: Plan) -> None:
        self._set_routes(plan)

    # ClusterView / PlanView
    def now(self) -> float:
        return self.t

    def pool_ids(self) -> list[str]:
        return list(self.pools)

    def slots_per_instance(self, pool: str) -> int:
        return self.pools[pool].slots

    def instances(self, pool: str) -> list[InstanceInfo]:
        return [InstanceInfo(i.id, pool, i.ready_at <= self.t, i.draining, i.load)
                for i in self.pools[pool].instances if not i.released]

    def add_instances(self, pool: str, n: int, ready_at: float) -> None:
        if n < 0:
            raise MurakkabError(f"cannot add {n} instances to pool '{pool}'")
        self._allocate(self.pools[pool], n, max(ready_at, self.t))

    def remove_instances(self, pool: str, n: int, at: float | None = None) -> None:
        if at is not None and at > self.t:
            self._push(at, lambda arg: self._drain(self.pools[arg[0]], arg[1]), (pool, n))
        else:
            self._drain(self.pools[pool], n)

    def install_plan(self, plan: Plan, switch_at: float) -> None:
        self._register_plan(plan)
        self._push(max(switch_at, self.t), self._switch_routes, plan)

    # ---- run ---------------------------------------------------------------------------------
    def run(self) -> SimResult:
        # The event loop allocates millions of short-lived objects without reference cycles (freed by
        # reference counting); the cyclic collector's passes over them cost 10-20 % of the run.
        enabled = gc.isenabled()
        gc.disable()
        self._gc_paused = enabled
        try:
            return self._run()
        finally:
            if enabled:
                gc.enable()

    def _run(self) -> SimResult:
        if self.autoscaler is not None:
            self._push(self.cfg.autoscaler.interval_s, self._autoscale_tick, None)
        if self.reopt is not None and self.reopt.epoch_s < self.horizon:
            self._push(self.reopt.epoch_s, self._epoch_tick, None)
        heap = self._heap
        arrivals = self.arrivals
        n_arr, ai = len(arrivals), 0
        pop, push, count = heapq.heappop, heapq.heappush, self._count
        inf = math.inf
        dirty = self._dirty
        eps = _EPS
        ta = arrivals[0][0] if n_arr else inf
        while True:
            if heap and heap[0][0] < ta:
                t, seq, kind, obj = pop(heap)
                if kind == _DECODE and obj.version != seq:
                    continue   # superseded by a later occupancy change
                if ai >= n_arr and self.in_flight == 0:
                    break
                self.t = t
                if kind == _PREFILL:
                    call = obj
                    inst = call.inst
                    inst.advance(t)
                    inp = call.inp
                    call.gpu_j += inp * (inst.Ap_e - call.a_e)
                    call.inst_s += inp * (inst.Ap_t - call.a_t)
                    inst.pre_w -= inp
                    if inst.pre is not None:
                        inst.pre.discard(call)
                    if inst.busy == 1 and inst.pre_w < 1e-6:
                        inst.pre_w = 0.0    # no drift from float sums once nothing prefills
                    # decode: a finish mark on the instance's shared token clock
                    inst.seq += 1
                    call.a_e, call.a_t = inst.Ad_e, inst.Ad_t
                    marks = inst.marks
                    push(marks, (inst.V + call.out, inst.seq, call))
                    inst.n_dec += 1
                    inst.version = next(count)   # `_reschedule` inlined
                    if not inst.dirty:
                        inst.dirty = True
                        dirty.append(inst)
                elif kind == _DECODE:
                    inst = obj
                    inst.advance(t)
                    marks = inst.marks
                    V = inst.V
                    limit = V + eps * (1.0 + V)
                    Ad_e, Ad_t = inst.Ad_e, inst.Ad_t
                    done = []
                    while marks and marks[0][0] <= limit:
                        c = pop(marks)[2]
                        c.gpu_j += Ad_e - c.a_e
                        c.inst_s += Ad_t - c.a_t
                        done.append(c)
                    nd = inst.n_dec = inst.n_dec - len(done)
                    # free the slots (`_free` inlined): queued calls start, at TTFT 0 straight to decoding
                    busy = inst.busy = inst.busy - len(done)
                    inst.load -= len(done)
                    q = inst.queue
                    if q:
                        slots = inst.slots
                        if inst.ttft > 0:
                            while q and inst.busy < slots:
                                self._start(inst, q.popleft())
                        else:
                            V = inst.V
                            Ad_e, Ad_t = inst.Ad_e, inst.Ad_t
                            while q and busy < slots:
                                c = q.popleft()
                                busy += 1
                                nd += 1
                                sq = inst.seq = inst.seq + 1
                                c.a_e, c.a_t = Ad_e, Ad_t
                                push(marks, (V + c.out, sq, c))
                            inst.busy, inst.n_dec = busy, nd
                    if inst.draining and inst.load == 0 and not inst.released:
                        self._release(inst)
                    if marks:   # `_reschedule` inlined
                        inst.version = next(count)
                        if not inst.dirty:
                            inst.dirty = True
                            dirty.append(inst)
                    else:
                        inst.version = -1
                    for c in done:
                        self._call_done(c)
                elif kind == _TOOL:
                    call = obj
                    tinst = call.inst
                    tinst.advance(t)
                    call.gpu_j += tinst.A_e - call.a_e
                    call.inst_s += tinst.A_t - call.a_t
                    if tinst.svc is not None:
                        tinst.svc.discard(call)
                    self._free(tinst, 1)
                    self._call_done(call)
                else:
                    obj[0](obj[1])
                if dirty:   # `_flush` inlined
                    for inst in dirty:
                        inst.dirty = False
                        if inst.version > 0:
                            tn = inst.t_last + (inst.marks[0][0] - inst.V) * inst.tpot[inst.n_dec]
                            push(heap, (tn if tn > t else t, inst.version, _DECODE, inst))
                    dirty.clear()
            elif ai < n_arr:
                _, wf, tier = arrivals[ai]
                ai += 1
                if not ai & 8191 and self.progress is not None:
                    self.progress(ai / n_arr)
                self.t = ta
                self._arrive(wf, tier)
                if dirty:
                    self._flush()
                ta = arrivals[ai][0] if ai < n_arr else inf
            else:
                break
        end = max(self.horizon, self.t)
        self.t = end
        inst_records = []
        for any_inst in self.all_instances:
            if not any_inst.released:
                any_inst.advance(end)
                any_inst.release_t = end
            prt = any_inst.pool
            inst_records.append(InstanceRecord(any_inst.id, prt.id, prt.kind, prt.hw, prt.units, any_inst.alloc_t,
                                               any_inst.release_t, any_inst.energy_j, any_inst.idle_j, any_inst.idle_s,
                                               prt.node_w, prt.price, any_inst.bins.j, any_inst.intervals))
        steps: dict[tuple[str, str, str], list[float]] = {}
        for r in self.compiled:
            for s in r.steps:
                acc = steps.setdefault((r.workflow, r.tier_key, s.task), [0] * len(STEP_FIELDS))
                for i, v in enumerate(s.sums()):
                    acc[i] += v
        return SimResult(self.plan, self.cfg, self.horizon, end, self.records, inst_records, steps,
                         self.route_defs, list(self.reopt.history) if self.reopt else [], self.in_flight)


def simulate(plan: Plan, arrivals: Sequence[tuple[float, str, str]], *, horizon_s: float,
             config: SimConfig = SimConfig(), resolver: CurveResolver | None = None,
             reoptimizer: EpochReoptimizer | None = None,
             progress: Callable[[float], None] | None = None) -> SimResult:
    """Run `plan` over `arrivals` [(time s, workflow, tier key)] sorted by time; see SimResult.
    `progress(fraction of arrivals done)` is called now and then."""
    if any(b[0] < a[0] for a, b in zip(arrivals, arrivals[1:])):
        raise MurakkabError("arrivals must be sorted by time (fix: sort them before simulating)")
    return Simulator(plan, arrivals, horizon_s=horizon_s, config=config, resolver=resolver,
                     reoptimizer=reoptimizer, progress=progress).run()
