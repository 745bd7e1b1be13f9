"""The runtime's body: pools of instances built from a plan and a backends file, the router that
sends each call per the plan, and the actuator the shared policies act through.

`RuntimeCluster` implements `policy.view.PlanView`, so the shared `ReactiveAutoscaler` and
`EpochReoptimizer` drive it unchanged. Time is model seconds: wall seconds / time_scale.
Actuation: simulated and local pools really gain or lose instances; pools served by external
endpoints cannot be resized from here, so their *desired* count is recorded and published (metrics,
`/v1/plan`) for an operator or an external scaler. A pool new to the running fleet (a plan deployed
later, a re-optimizer epoch) gets its instances of whichever kind; a remote pool a plan drops is drained.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import cache

from murakkab.plan.schema import Plan, Pool, Route, StepPlan
from murakkab.policy.accounting import AccountingParams
from murakkab.policy.router import SmoothWeightedRoundRobin, VariantRouter, least_loaded
from murakkab.policy.view import InstanceInfo
from murakkab.runtime.backends import REMOTE_TOOLS, BackendsConfig, EndpointSpec
from murakkab.runtime.calls import BackendError, CallRequest, NoInstanceLeft
from murakkab.runtime.local_tools import LOCAL_TOOLS, LocalToolInstance
from murakkab.runtime.meter import InstanceMeter
from murakkab.runtime.openai_backend import Endpoint, RemoteInstance
from murakkab.runtime.results import CallOutcome
from murakkab.runtime.simulated import SimulatedInstance
from murakkab.sim.curves import InstanceCurve, constant_curve


@cache
def _resolver():
    from murakkab.sim.curves import store_resolver
    return store_resolver()


def pool_curve(pool: Pool) -> InstanceCurve:
    """TPOT(b) and P(b) of one instance: the profile's interpolated points for model pools (the
    simulator's resolver), idle/busy power over `concurrency` slots for tools."""
    if pool.kind == "model":
        return _resolver()(pool)
    return constant_curve(max(pool.concurrency, 1), 1.0, pool.power_busy_w, pool.power_idle_w,
                          f"tool profile {pool.profile}")


@dataclass
class PoolState:
    plan: Pool
    mode: str                          # simulated | remote | local
    instances: list = field(default_factory=list)
    desired: int = 0                   # what the plan/autoscaler wants (published for remote pools)
    made: int = 0


@dataclass
class RouterEvent:
    """One failed attempt, kept for the journal (why a call was retried or failed)."""
    pool: str
    instance: str
    error: str


class RuntimeCluster:
    def __init__(self, plan: Plan, backends: BackendsConfig | None = None, *, time_scale: float = 1.0,
                 seed: int = 0):
        if not time_scale > 0:
            from murakkab.errors import MurakkabError
            raise MurakkabError(f"time_scale must be > 0 (1 = real time), got {time_scale}")
        self.backends = backends or BackendsConfig()
        self.scale, self.seed = time_scale, seed
        self.pools: dict[str, PoolState] = {}
        self.plan = plan
        self._pending: tuple[Plan, float] | None = None
        self._drains: list[tuple[float, str, int]] = []     # (at, pool, n) drains not yet due
        self._rr: dict[tuple, SmoothWeightedRoundRobin] = {}
        self._t0 = time.monotonic()
        self.install_plan(plan, 0.0)
        for p in plan.pools:
            self._grow(self.pools[p.id], p.instances, 0.0)
            self.pools[p.id].desired = p.instances

    # ---- ClusterView ---------------------------------------------------------------------
    def now(self) -> float:
        return (time.monotonic() - self._t0) / self.scale

    def pool_ids(self) -> list[str]:
        self.settle()
        return list(self.pools)

    def slots_per_instance(self, pool: str) -> int:
        p = self.pools[pool].plan
        return (p.max_num_seqs or 1) if p.kind == "model" else max(p.concurrency, 1)

    def instances(self, pool: str) -> list[InstanceInfo]:
        self.settle()
        now = self.now()
        return [InstanceInfo(i.id, pool, i.ready_at <= now, i.draining, i.load) for i in self.pools[pool].instances]

    def add_instances(self, pool: str, n: int, ready_at: float) -> None:
        """Simulated and local pools gain `n` instances (ready at `ready_at`). A remote pool's replicas are
        the backends file's endpoints: they are attached when the pool has none live (a pool new to the
        running fleet), otherwise only the desired count is published."""
        ps = self.pools[pool]
        ps.desired += n
        self._grow(ps, n, ready_at)

    def remove_instances(self, pool: str, n: int, at: float | None = None) -> None:
        """Drain `n` instances of a simulated or local pool (now, or at `at`). A remote pool keeps its
        endpoints while the running plan uses it (only the desired count drops); it is drained when a
        plan without it takes effect (see `_switch`)."""
        ps = self.pools[pool]
        ps.desired = max(ps.desired - n, 0)
        if ps.mode == "remote":
            return
        if at is not None and at > self.now():
            # a re-plan drains surplus instances only when the new ones are ready (see `settle`)
            self._drains.append((at, pool, n))
            return
        self._drain(ps, n)

    def _drain(self, ps: PoolState, n: int) -> None:
        live = sorted((i for i in ps.instances if not i.draining), key=lambda i: i.load)
        for inst in live[:n]:
            inst.draining = True
        self._release(ps)

    def _release(self, ps: PoolState) -> None:
        """Forget drained instances with nothing in flight (others go when their last call ends);
        a released remote instance's HTTP client is closed."""
        gone = [i for i in ps.instances if i.draining and i.load == 0]
        if not gone:
            return
        ps.instances = [i for i in ps.instances if not (i.draining and i.load == 0)]
        for inst in gone:
            close = getattr(inst, "aclose", None)
            if close is not None:
                try:
                    asyncio.get_running_loop().create_task(close())
                except RuntimeError:      # no running loop (plain construction in a test): nothing is open
                    pass

    def install_plan(self, plan: Plan, switch_at: float) -> None:
        for p in plan.pools:
            if p.id not in self.pools:
                self.pools[p.id] = PoolState(p, self._mode(p))
        if switch_at <= self.now() or not self.plan:
            self._switch(plan)
        else:
            self._pending = (plan, switch_at)

    def _switch(self, plan: Plan) -> None:
        self.plan = plan
        for p in plan.pools:     # same pool id = same operating point; the plan's count is new
            self.pools[p.id].plan = p
        used = {p.id for p in plan.pools}
        for pid, ps in self.pools.items():
            if pid not in used and ps.mode == "remote":
                # the plan no longer routes here: stop treating its endpoints as replicas of this pool
                ps.desired = 0
                self._drain(ps, len(ps.instances))

    def settle(self) -> None:
        """Apply what was scheduled for now or earlier: a pending plan switch, delayed drains."""
        now = self.now()
        if self._pending and self._pending[1] <= now:
            plan, self._pending = self._pending[0], None
            self._switch(plan)
        if self._drains:
            due = [d for d in self._drains if d[0] <= now]
            self._drains = [d for d in self._drains if d[0] > now]
            for _, pool, n in due:
                self._drain(self.pools[pool], n)

    # ---- construction --------------------------------------------------------------------
    def _mode(self, p: Pool) -> str:
        if p.kind == "model":
            return "remote" if p.model in self.backends.models else "simulated"
        tb = self.backends.tools.get(p.tool or "")
        if tb is None:
            return "simulated"
        # parse_backends refuses endpoints / local for tools without a remote client / local implementation
        if tb.endpoints and p.tool in REMOTE_TOOLS:
            return "remote"
        return "local" if tb.local and p.tool in LOCAL_TOOLS else "simulated"

    def _endpoints(self, p: Pool) -> list[EndpointSpec]:
        if p.kind == "model":
            return self.backends.models[p.model]
        return self.backends.tools[p.tool].endpoints

    def _grow(self, ps: PoolState, n: int, ready_at: float) -> None:
        p = ps.plan
        params = AccountingParams(node_share_w=p.node_overhead_w, pue=self.plan.pue)
        price = p.price_usd_per_hour / 3600.0
        curve = pool_curve(p)
        if ps.mode == "remote":
            if any(not i.draining for i in ps.instances):   # endpoints are fixed by the backends file
                return
            d = self.backends.defaults
            wall = time.monotonic
            for ep in self._endpoints(p):
                for _ in range(ep.instances):
                    ps.made += 1
                    endpoint = Endpoint(ep.base_url.rstrip("/"), ep.served_model or (p.model or p.tool or ""),
                                        ep.api_key_env, d.connect_timeout_s, d.read_timeout_s)
                    ps.instances.append(RemoteInstance(
                        f"{p.id}/{ps.made}", p.id, endpoint, InstanceMeter(curve, params, price, wall),
                        kind="chat" if p.kind == "model" else REMOTE_TOOLS[p.tool]))
            return
        for _ in range(n):
            ps.made += 1
            iid = f"{p.id}/{ps.made}"
            if ps.mode == "local":
                meter = InstanceMeter(curve, params, price, time.monotonic)
                ps.instances.append(LocalToolInstance(iid, p.id, LOCAL_TOOLS[p.tool], meter,
                                                      max(p.concurrency, 1), ready_at))
            else:
                meter = InstanceMeter(curve, params, price, self.now)
                ps.instances.append(SimulatedInstance(
                    iid, p.id, kind=p.kind, curve=curve, meter=meter, ttft_s=p.ttft_s or 0.0,
                    time_scale=self.scale, ready_at=ready_at, seed=self.seed * 7919 + ps.made))

    # ---- routing -------------------------------------------------------------------------
    def current_plan(self) -> Plan:
        self.settle()
        return self.plan

    def pick_variant(self, route: Route) -> dict[str, str] | None:
        """For a route with variants, the task -> pool map this request runs on (one joint choice per
        request, by variant shares); None when the route routes each step by its own shares."""
        if not route.variants:
            return None
        key = (self.plan.plan_id, route.workflow, route.tier.key, "variants")
        vr = self._rr.get(key)
        if vr is None:
            vr = self._rr[key] = VariantRouter(route.variants)
        return dict(vr.pick_pools())

    def pick_pool(self, key: tuple, step: StepPlan, variant: dict[str, str] | None = None) -> str:
        """Pool for one call of a step: the request's variant's, else by the step's shares."""
        if variant is not None and step.task in variant:
            return variant[step.task]
        rr = self._rr.get(key)
        if rr is None:
            rr = self._rr[key] = SmoothWeightedRoundRobin([s.share for s in step.pools])
        return step.pools[rr.pick()].pool

    async def call(self, pool_id: str, req: CallRequest, events: list[RouterEvent] | None = None) -> CallOutcome:
        """Send one call to the least-loaded ready instance of the pool; on a retryable failure,
        back off and fail over to another instance (the failed one is not retried for this call
        while others remain). Raises NoInstanceLeft when no instance can serve it."""
        self.settle()
        ps = self.pools.get(pool_id)
        if ps is None:
            raise NoInstanceLeft(f"pool '{pool_id}' is not in the running plan")
        d = self.backends.defaults
        tried: set[str] = set()
        errors: list[str] = []
        streamed = [0]
        if req.on_token is not None:
            sink = req.on_token

            def counted(delta: str) -> None:
                streamed[0] += 1
                sink(delta)
            req.on_token = counted
        for attempt in range(d.retries + 1):
            now = self.now()
            wall = time.monotonic()
            ready = [i for i in ps.instances if i.ready_at <= now and not i.draining and i.down_until <= wall]
            fresh = [i for i in ready if i.id not in tried]
            if not fresh:          # every instance failed once: start another round over all of them
                tried.clear()
                fresh = ready
            inst = least_loaded(fresh)
            if inst is None:
                break
            try:
                out = await inst.call(req)
            except BackendError as exc:
                errors.append(f"{inst.id}: {exc}")
                if events is not None:
                    events.append(RouterEvent(pool_id, inst.id, str(exc)))
                if not exc.retryable:
                    raise
                if streamed[0]:
                    # the client already holds part of this answer: a retry would stream a second one
                    raise BackendError(f"{exc} (not retried: {streamed[0]} chunk(s) were already streamed to the "
                                       "client)", retryable=False, status=exc.status) from exc
                tried.add(inst.id)
                if exc.instance_down:
                    inst.down_until = time.monotonic() + d.down_s
                if attempt < d.retries:
                    await asyncio.sleep(d.backoff_s * 2 ** attempt)
                continue
            out.attempts = attempt + 1
            if inst.draining and inst.load == 0:
                self._release(ps)
            return out
        reason = "; ".join(errors) if errors else "no ready instance"
        raise NoInstanceLeft(f"pool '{pool_id}': no instance could serve the call after "
                             f"{len(errors)} failed attempt(s): {reason}")

    async def aclose(self) -> None:
        for ps in self.pools.values():
            for inst in ps.instances:
                close = getattr(inst, "aclose", None)
                if close is not None:
                    await close()
