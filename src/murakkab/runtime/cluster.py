"""The runtime's body: pools of instances built from a plan and a backends file, the router that
sends each call per the plan, and the actuator the shared policies act through.

`RuntimeCluster` implements `policy.view.PlanView`, so the shared `ReactiveAutoscaler` and
`EpochReoptimizer` drive it unchanged. Time is model seconds: wall seconds / time_scale.
Actuation: simulated and local pools really gain or lose instances; pools served by external
endpoints cannot be resized from here, so their *desired* count is recorded and published (metrics,
`/v1/plan`) for an operator or an external scaler. A pool new to the running fleet (a plan deployed
later, a re-optimizer epoch) gets its instances of whichever kind; a remote pool a plan drops is drained.

Routing is the shared policy's (`policy.router`, `policy.placement`): each call takes a slot on the
least-loaded routable instance or queues there; an instance that becomes ready takes its share of
the pool's waiting calls; a call whose pool a re-plan retired moves to the running plan's pool for
its task; drains take provisioning instances first. Plan switches, instances becoming ready and
delayed drains are events applied in time order (a timer wakes the cluster when one is due).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from functools import cache

from murakkab.instance import CurveResolver, instance_model, pool_charges, store_resolver
from murakkab.instance.model import InstanceModel
from murakkab.plan.schema import Plan, Pool
from murakkab.policy import placement
from murakkab.policy.router import PlanRouter
from murakkab.policy.view import InstanceInfo
from murakkab.runtime.backends import REMOTE_TOOLS, BackendsConfig, EndpointSpec
from murakkab.runtime.calls import BackendError, CallOrigin, CallRequest, NoInstanceLeft
from murakkab.runtime.local_tools import LOCAL_TOOLS, LocalToolInstance
from murakkab.runtime.meter import InstanceMeter
from murakkab.runtime.openai_backend import Endpoint, RemoteInstance
from murakkab.runtime.results import CallOutcome
from murakkab.runtime.seats import Seat, Waiter
from murakkab.runtime.simulated import SimulatedInstance


@cache
def _resolver() -> CurveResolver:
    return store_resolver()


def pool_model(pool: Pool) -> InstanceModel:
    """One instance of the pool in the shared instance model: the profile's interpolated curve for a
    model pool (the simulator's resolver), power over `concurrency` slots for a tool."""
    return instance_model(pool, _resolver())


@dataclass
class PoolState:
    plan: Pool
    mode: str                          # simulated | remote | local
    instances: list = field(default_factory=list)
    desired: int = 0                   # what the plan/autoscaler wants (published for remote pools)
    made: int = 0
    routable: list = field(default_factory=list)     # ready, not draining, in the order they became ready
    seats: dict[str, Seat] = field(default_factory=dict)
    pending: deque = field(default_factory=deque)    # Waiters for any instance (none was routable)

    @property
    def slots(self) -> int:
        p = self.plan
        return (p.max_num_seqs or 1) if p.kind == "model" else max(p.concurrency, 1)


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
        self.router = PlanRouter(plan.plan_id)       # the running plan's pool choice
        self._events: list = []                      # heap of (at, seq, action, arg) not yet due
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.on_failure = None                       # called with the pool of each failed backend attempt
        self.decisions: list | None = None           # set to a list to log policy.placement.Applied (tests)
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
        return self.pools[pool].slots

    def instances(self, pool: str) -> list[InstanceInfo]:
        self.settle()
        return self._infos(self.pools[pool], self.pools[pool].instances)

    def _infos(self, ps: PoolState, insts) -> list[InstanceInfo]:
        now = self.now()
        return [InstanceInfo(i.id, ps.plan.id, i.ready_at <= now, i.draining, ps.seats[i.id].load) for i in insts]

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
            self._schedule(at, self._drain_later, (pool, n))
            return
        self._drain(ps, n)

    def install_plan(self, plan: Plan, switch_at: float) -> None:
        for p in plan.pools:
            if p.id not in self.pools:
                self.pools[p.id] = PoolState(p, self._mode(p))
        if switch_at <= self.now() or not self.plan:
            self._switch(plan)
        else:
            self._schedule(switch_at, self._switch, plan)

    # ---- events --------------------------------------------------------------------------
    def _schedule(self, at: float, action, arg) -> None:
        heapq.heappush(self._events, (at, next(self._seq), action, arg))
        self._arm()

    def _arm(self) -> None:
        """Wake `settle` when the earliest event is due (needs a running loop; without one, events are
        applied by the next call that settles)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._events:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(max(self._events[0][0] - self.now(), 0.0) * self.scale, self._wake)

    def _wake(self) -> None:
        self._timer = None
        self.settle()
        self._arm()

    def settle(self) -> None:
        """Apply the events due now or earlier, in time order (ties in the order they were scheduled):
        plan switches, instances becoming ready, delayed drains."""
        now = self.now()
        while self._events and self._events[0][0] <= now:
            _, _, action, arg = heapq.heappop(self._events)
            action(arg)

    def _switch(self, plan: Plan) -> None:
        self.plan = plan
        self.router = PlanRouter(plan.plan_id)
        for p in plan.pools:     # same pool id = same operating point; the plan's count is new
            self.pools[p.id].plan = p
        used = {p.id for p in plan.pools}
        for pid, ps in self.pools.items():
            if pid not in used and ps.mode == "remote":
                # the plan no longer routes here: stop treating its endpoints as replicas of this pool
                ps.desired = 0
                self._drain(ps, len(ps.instances))

    def _join(self, ps: PoolState, inst) -> None:
        ps.instances.append(inst)
        ps.seats[inst.id] = Seat(ps.slots)
        if inst.ready_at <= self.now():
            self._on_ready(inst)
        else:
            self._schedule(inst.ready_at, self._on_ready, inst)

    def _on_ready(self, inst) -> None:
        """A new instance joins its pool's routing and takes its share of the waiting calls
        (`policy.placement.rebalance`)."""
        if inst.draining:
            return
        ps = self.pools[inst.pool]
        ps.routable.append(inst)
        pending = [placement.WaitingCall(w, w.submitted_at) for w in ps.pending]
        queued = {i.id: [placement.WaitingCall(w, w.submitted_at) for w in ps.seats[i.id].queue]
                  for i in ps.routable if ps.seats[i.id].queue}
        if not pending and not queued:
            return
        decision = placement.rebalance(ps.plan.id, self._infos(ps, ps.routable), pending, queued)
        self._log(decision)
        ps.pending.clear()
        for i in ps.routable:
            ps.seats[i.id].queue.clear()
        by_id = {i.id: i for i in ps.routable}
        for place in decision.placements:
            self._assign(ps, by_id[place.instance], place.key)

    def _log(self, decision, call=None) -> None:
        if self.decisions is not None:
            self.decisions.append(placement.Applied(self.now(), decision, call))

    def _drain_later(self, arg: tuple[str, int]) -> None:
        self._drain(self.pools[arg[0]], arg[1])

    def _drain(self, ps: PoolState, n: int) -> None:
        """Drain `n` instances (`policy.placement.drain`: provisioning first, then least loaded); when none
        is left live, the calls waiting for any instance of the pool move on (`_restrand`)."""
        decision = placement.drain(ps.plan.id, self._infos(ps, ps.instances), n)
        self._log(decision)
        by_id = {i.id: i for i in ps.instances}
        for iid in decision.victims:
            inst = by_id[iid]
            inst.draining = True
            if inst in ps.routable:
                ps.routable.remove(inst)
        self._release(ps)
        if ps.pending and decision.strand_pending:
            waiting = list(ps.pending)
            ps.pending.clear()
            for w in waiting:
                self._restrand(ps, w)

    def _release(self, ps: PoolState) -> None:
        """Forget drained instances with nothing in flight or queued (others go when their last call
        ends); a released remote instance's HTTP client is closed."""
        gone = [i for i in ps.instances if i.draining and ps.seats[i.id].load == 0]
        if not gone:
            return
        ps.instances = [i for i in ps.instances if i not in gone]
        for inst in gone:
            del ps.seats[inst.id]
            close = getattr(inst, "aclose", None)
            if close is not None:
                try:
                    asyncio.get_running_loop().create_task(close())
                except RuntimeError:      # no running loop (plain construction in a test): nothing is open
                    pass

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
        charges = pool_charges(p, self.plan.pue)
        model = pool_model(p)
        if ps.mode == "remote":
            if any(not i.draining for i in ps.instances):   # endpoints are fixed by the backends file
                return
            d = self.backends.defaults
            wall = time.monotonic
            for ep in self._endpoints(p):
                for _ in range(ep.instances):
                    ps.made += 1
                    endpoint = Endpoint(ep.base_url.rstrip("/"), ep.served_model or (p.model or p.tool or ""),
                                        ep.api_key_env, d.connect_timeout_s, d.read_timeout_s, d.call_timeout_s)
                    self._join(ps, RemoteInstance(
                        f"{p.id}/{ps.made}", p.id, endpoint, InstanceMeter(model, charges, wall),
                        kind="chat" if p.kind == "model" else REMOTE_TOOLS[p.tool]))
            return
        for _ in range(n):
            ps.made += 1
            iid = f"{p.id}/{ps.made}"
            if ps.mode == "local":
                meter = InstanceMeter(model, charges, time.monotonic)
                self._join(ps, LocalToolInstance(iid, p.id, LOCAL_TOOLS[p.tool], meter,
                                                 max(p.concurrency, 1), ready_at))
            else:
                meter = InstanceMeter(model, charges, self.now)
                self._join(ps, SimulatedInstance(iid, p.id, meter=meter, time_scale=self.scale,
                                                 ready_at=ready_at, seed=self.seed * 7919 + ps.made))

    # ---- routing -------------------------------------------------------------------------
    def current_plan(self) -> Plan:
        self.settle()
        return self.plan

    def current_router(self) -> PlanRouter:
        """The running plan's pool choice; a request keeps the one it started with."""
        self.settle()
        return self.router

    def _step_pools(self, origin: CallOrigin | None):
        """(pool, kind) per pool of the running plan's step for the call's task, and that step's pick."""
        if origin is None:
            return None, None
        try:
            route = self.plan.route(origin.workflow, origin.tier)
        except KeyError:
            return None, None
        step = next((s for s in route.steps if s.task == origin.task and not s.skipped), None)
        if step is None or not step.pools:
            return None, None
        pools = [(s.pool, self.pools[s.pool].plan.kind) for s in step.pools]
        return pools, self.router.shares(route, step).pick

    def _place(self, pool_id: str, call_id: str, origin: CallOrigin | None, avoid: set[str],
               waiter: Waiter | None = None):
        """Where a call goes: (pool, instance) holding a slot for it, or its Waiter (`waiter`, else a new
        one) queued at an instance or at the pool. Raises NoInstanceLeft when it has nowhere to go."""
        for _ in range(len(self.pools) + 1):          # a re-route never leads back (its target is live)
            ps = self.pools[pool_id]
            if ps.routable:
                wall = time.monotonic()
                up = [i for i in ps.routable if i.down_until <= wall]
                if not up:
                    raise NoInstanceLeft(f"pool '{pool_id}': every ready instance is marked down after failures")
                pick = placement.pick_instance(self._infos(ps, up), avoid)
                inst = next(i for i in up if i.id == pick)
                seat = ps.seats[inst.id]
                if seat.busy < seat.slots:
                    seat.busy += 1
                    return ps, inst
                w = self._waiter(waiter, call_id, origin, pool_id, inst.id)
                seat.queue.append(w)
                return w
            pools, pick = self._step_pools(origin)
            decision = placement.strand(pool_id, ps.plan.kind, self._infos(ps, ps.instances), pools, pick)
            self._log(decision, call_id)
            if decision.action == "wait":
                w = self._waiter(waiter, call_id, origin, pool_id, None)
                ps.pending.append(w)
                return w
            if decision.action == "nowhere":
                raise NoInstanceLeft(self._nowhere(pool_id, origin))
            pool_id, avoid = decision.to, set()
        raise NoInstanceLeft(f"pool '{pool_id}': re-routing the call went round in circles")

    def _waiter(self, w: Waiter | None, call_id: str, origin, pool_id: str, instance: str | None) -> Waiter:
        if w is None:
            return Waiter(asyncio.get_running_loop().create_future(), call_id, self.now(), origin, pool_id, instance)
        w.pool, w.instance = pool_id, instance
        return w

    def _nowhere(self, pool_id: str, origin: CallOrigin | None) -> str:
        where = (f"the running plan {self.plan.plan_id} has no other pool for task '{origin.task}' of "
                 f"{origin.workflow}/{origin.tier}" if origin is not None else "the call names no task to re-route")
        return f"pool '{pool_id}' has no instance left (a re-plan retired it) and {where}"

    def _assign(self, ps: PoolState, inst, w: Waiter) -> None:
        """Give waiting call `w` a slot on `inst`, or queue it there."""
        if w.future.done():
            return                                   # its request was cancelled meanwhile
        seat = ps.seats[inst.id]
        w.pool, w.instance = ps.plan.id, inst.id
        if seat.busy < seat.slots:
            seat.busy += 1
            w.future.set_result((ps, inst))
        else:
            seat.queue.append(w)

    def _restrand(self, ps: PoolState, w: Waiter) -> None:
        """A call waiting for any instance of a pool that has just lost its last live one: placed again
        (`_place`: it moves to the running plan's pool for its task, or fails with NoInstanceLeft)."""
        if w.future.done():
            return
        try:
            where = self._place(ps.plan.id, w.call_id, w.origin, set(), waiter=w)
        except NoInstanceLeft as exc:
            w.future.set_exception(exc)
            return
        if not isinstance(where, Waiter):
            w.future.set_result(where)

    def _unwait(self, w: Waiter) -> None:
        ps = self.pools.get(w.pool)
        if ps is None:
            return
        q = ps.seats[w.instance].queue if w.instance and w.instance in ps.seats else ps.pending
        try:
            q.remove(w)
        except ValueError:
            pass

    async def _seat(self, pool_id: str, call_id: str, origin: CallOrigin | None, avoid: set[str]):
        where = self._place(pool_id, call_id, origin, avoid)
        if not isinstance(where, Waiter):
            return where
        try:
            return await where.future
        except asyncio.CancelledError:
            if where.future.done() and not where.future.cancelled():
                self._leave(*where.future.result())  # a slot was given just as the request was cancelled
            else:
                self._unwait(where)
            raise

    def _leave(self, ps: PoolState, inst) -> None:
        """A call frees its slot: the next call queued at the instance takes it."""
        seat = ps.seats[inst.id]
        seat.busy -= 1
        while seat.queue and seat.busy < seat.slots:
            w = seat.queue.popleft()
            if not w.future.done():
                seat.busy += 1
                w.future.set_result((ps, inst))
        if inst.draining and seat.load == 0:
            self._release(ps)

    async def call(self, pool_id: str, req: CallRequest, origin: CallOrigin | None = None) -> CallOutcome:
        """Send one call to the least-loaded ready instance of the pool (waiting for a slot there, or for
        an instance being provisioned); on a retryable failure, back off and fail over to another
        instance (the failed one is not retried for this call while others remain). `origin` names the
        call's workflow, tier and task, so a call whose pool a re-plan retired runs on the running plan's
        pool for that task. Raises NoInstanceLeft when no instance can serve it."""
        self.settle()
        if pool_id not in self.pools:
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
            try:
                # every instance failed once: `pick_instance` starts another round over all of them
                ps, inst = await self._seat(pool_id, req.call_id, origin, tried)
            except NoInstanceLeft:
                if not errors:
                    raise
                break                                # every instance failed and is marked down
            pool_id = ps.plan.id                     # where it runs now (a re-route moves it for good)
            try:
                out = await inst.call(req)
            except BackendError as exc:
                errors.append(f"{inst.id}: {exc}")
                if self.on_failure is not None:
                    self.on_failure(pool_id)
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
            finally:
                self._leave(ps, inst)
            out.attempts = attempt + 1
            return out
        reason = "; ".join(errors) if errors else "no ready instance"
        raise NoInstanceLeft(f"pool '{pool_id}': no instance could serve the call after "
                             f"{len(errors)} failed attempt(s): {reason}")

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for ps in self.pools.values():
            for inst in ps.instances:
                close = getattr(inst, "aclose", None)
                if close is not None:
                    await close()
