"""The runtime service: registry (workflows, versioned plans), request lifecycle with the journal,
DAG execution on the cluster, streaming of step events, autoscaler loop.

    rt = Runtime(RuntimeConfig(db_path="murakkab.db"))
    await rt.start()
    rid = rt.submit("tenant", "video_qa", "accuracy:good", {...})
    result = await rt.wait(rid)
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from murakkab.errors import MurakkabError
from murakkab.plan.ids import RouteKey, StepName
from murakkab.plan.schema import Plan, Route
from murakkab.policy.slo import SloRule
from murakkab.runtime.backends import BackendsConfig
from murakkab.runtime.calls import BackendError, BadInput, NoInstanceLeft
from murakkab.runtime.cluster import RuntimeCluster
from murakkab.policy.replan import ReplanSettings
from murakkab.runtime.dag import StepFailed, run_dag
from murakkab.runtime.errors import Conflict, KeyReused, NoProfile, NotFound, TooBusy, Unavailable  # noqa: F401 - re-exported
from murakkab.runtime.journal import Journal, RequestRow
from murakkab.runtime.results import RequestResult, StepResult
from murakkab.runtime.steps import StepRunner
from murakkab.runtime.telemetry import RuntimeMetrics, emit_spans
from murakkab.runtime.workflows import WorkflowRegistry

if TYPE_CHECKING:
    from murakkab.orchestrator.backend import BackendConfig
    from murakkab.policy.autoscaler import AutoscalerConfig


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1_000_000
    max_dag_tasks: int = 64
    default_tenant_concurrency: int = 64


@dataclass(frozen=True)
class Deadlines:
    """How long a request may run, counted from each start (wall seconds). A latency tier's default is
    `latency_factor` x its target (stretched by a time scale above 1); other tiers get `request_s`. A
    client may ask for its own, up to `max_request_s`. One backend call is bounded by the backends
    file's `call_timeout_s` (and by its request's deadline)."""
    request_s: float = 600.0
    latency_factor: float = 3.0
    max_request_s: float = 3600.0

    def __post_init__(self):
        for name in ("request_s", "latency_factor", "max_request_s"):
            v = getattr(self, name)
            if not (v > 0 and v != float("inf")):
                raise MurakkabError(f"deadline setting {name} must be a finite number > 0, got {v}")


@dataclass
class RuntimeConfig:
    db_path: str = "murakkab.db"
    plan: Plan | None = None              # deployed at start when the journal has no active plan
    backends: BackendsConfig = field(default_factory=BackendsConfig)
    time_scale: float = 1.0               # simulated backend: 1 = real time
    autoscale: bool = False
    autoscaler: "AutoscalerConfig | None" = None   # thresholds, window, provisioning (default: the policy's)
    reoptimize: bool = False              # run the shared epoch re-optimizer
    replan: ReplanSettings = field(default_factory=ReplanSettings)
    limits: Limits = field(default_factory=Limits)
    deadlines: Deadlines = field(default_factory=Deadlines)
    max_attempts: int = 3                 # runs of one request across restarts
    max_tokens: int | None = None         # cap on generated tokens per model call (real backends)
    seed: int = 0
    # composite requests (POST /v1/requests): the orchestrator LLM that decomposes them; None: the matcher
    orchestrator: "BackendConfig | None" = None
    orchestrator_tries: int = 3


def check_config(config: RuntimeConfig) -> None:
    """What `Runtime.start` would refuse, found before any server starts (so `murakkab serve` can print
    one error line): time scale, a plan for the re-optimizer, and the pools of the plan that would be
    deployed built against the backends file. Reads the journal; changes nothing."""
    if not config.time_scale > 0:
        raise MurakkabError(f"--time-scale must be > 0, got {config.time_scale} (fix: 1 = real time, "
                            "0.01 = 100x faster)")
    j = Journal(config.db_path)
    try:
        active = j.active_plan()
    finally:
        j.close()
    plan = Plan.from_json(active[1]) if active is not None else config.plan
    if config.reoptimize and plan is None:
        raise MurakkabError(f"--reoptimize needs a plan to start from, and the journal {config.db_path} has no active "
                            "plan (fix: pass --plan PLAN.json, made with 'murakkab plan ... --out PLAN.json')")
    if plan is not None:
        # a dry build: every pool resolves its curve and backend with the backends file (nothing connects)
        RuntimeCluster(plan, config.backends, time_scale=config.time_scale, seed=config.seed)


@dataclass
class _Live:
    task: asyncio.Task | None = None
    listeners: list[asyncio.Queue] = field(default_factory=list)
    result: RequestResult | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    on_token: Any = None              # streaming: called with each content delta of the output step
    cancel_on_disconnect: bool = False    # a job whose event stream's client leaves is cancelled


class Runtime:
    def __init__(self, config: RuntimeConfig):
        self.cfg = config
        self.journal = Journal(config.db_path)
        self.metrics = RuntimeMetrics()
        self.cluster: RuntimeCluster | None = None
        self.plan_version: int | None = None
        self._live: dict[str, _Live] = {}
        self._open_by_tenant: dict[str, int] = {}
        self._bg: list[asyncio.Task] = []
        self.registry = WorkflowRegistry(self.journal, config.limits.max_dag_tasks)
        self.autoscaler = None
        self.reoptimizer = None
        self.epochs: list[dict] = []      # last re-plans: forecast, version, solve time or error
        self._replan_workflows: dict = {}  # uploaded workflows of the plan being re-planned
        self._shutdown = False
        from murakkab.orchestrator.backend import ChatBackend
        from murakkab.orchestrator.compose import Composer
        self.composer = Composer(backend=ChatBackend(config.orchestrator) if config.orchestrator else None,
                                 tries=config.orchestrator_tries)

    # ---- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        active = self.journal.active_plan()
        if active is None and self.cfg.plan is not None:
            self.journal.add_plan(self.cfg.plan.plan_id, self.cfg.plan.to_json(), activate=True,
                                  workflows=self.registry.pins_for(self.cfg.plan))
            active = self.journal.active_plan()
        if active is not None:
            self._install(active[0], Plan.from_json(active[1]))
        for row in self.journal.recover(self.cfg.max_attempts):
            self._open_by_tenant[row.tenant] = self._open_by_tenant.get(row.tenant, 0) + 1
            self.metrics.in_flight.inc()
            self._launch(row)
        if self.cfg.autoscale:
            from murakkab.policy.autoscaler import AutoscalerConfig, ReactiveAutoscaler
            cfg = self.cfg.autoscaler or AutoscalerConfig()
            self.autoscaler = ReactiveAutoscaler(cfg)
            self._bg.append(asyncio.create_task(self._autoscale_loop()))
        if self.cfg.reoptimize:
            self._start_reoptimizer()

    async def stop(self) -> None:
        self._shutdown = True
        for t in self._bg:
            t.cancel()
        for live in list(self._live.values()):
            if live.task is not None:
                live.task.cancel()
        await asyncio.gather(*self._bg, *(lv.task for lv in self._live.values() if lv.task), return_exceptions=True)
        if self.cluster is not None:
            await self.cluster.aclose()
        if self.composer.backend is not None:
            self.composer.backend.close()
        self.journal.close()

    async def _autoscale_loop(self) -> None:
        while True:
            await asyncio.sleep(self.autoscaler.config.interval_s * self.cfg.time_scale)
            if self.cluster is not None:
                self.autoscaler.tick(self.cluster)
                self.publish_pools()

    def _start_reoptimizer(self) -> None:
        from murakkab.policy.reoptimizer import forecast_of
        from murakkab.policy.replan import plan_maker
        if self.cluster is None:
            raise Conflict("the epoch re-optimizer needs a deployed plan to start from (fix: pass --plan)")
        rs = self.cfg.replan
        # the maker is shaped by whichever plan runs when the epoch closes (an operator may deploy one);
        # uploaded workflows are resolved on the event loop before each solve (`replan_now`): the
        # solve runs in a worker thread, which must not touch the journal's connection
        make = plan_maker(rs, lambda: self.cluster.plan, lambda: self._replan_workflows)
        self.reoptimizer = rs.reoptimizer(make, forecast_of(self.cluster.plan))
        self.reoptimizer.begin(self.cluster.now())
        self._bg.append(asyncio.create_task(self._epoch_loop()))

    async def _epoch_loop(self) -> None:
        """Every `tick_s` (the epoch, or the deviation check interval): re-plan when the epoch is due or
        arrivals rose beyond the running plan (`EpochReoptimizer.due`)."""
        ro = self.reoptimizer
        while True:
            await asyncio.sleep(ro.tick_s * self.cfg.time_scale)
            try:
                why = ro.due(self.cluster.now())
                if why is not None:
                    await self.replan_now(why)
            except Exception as exc:  # noqa: BLE001 - one bad epoch must not stop the next ones
                self.epochs = (self.epochs + [{"t_s": self.cluster.now(), "error": f"{type(exc).__name__}: {exc}"}])[-50:]

    async def replan_now(self, reason: str = "requested") -> dict:
        """Close the re-optimizer's epoch now, re-plan for its forecast (in a worker thread, so requests
        keep flowing), store the plan as the next active version and move the fleet to it through the
        cluster after the provisioning delay. A failed solve keeps the running plan and is reported."""
        ro, cl = self.reoptimizer, self.cluster
        forecast = ro.close_epoch(cl.now())
        entry = {"t_s": cl.now(), "reason": reason, "elapsed_s": ro.last_elapsed_s,
                 "observed_rps": _keyed(ro.last_observed), "forecast_rps": _keyed(forecast)}
        t = time.perf_counter()
        try:
            self._replan_workflows = self.registry.workflows_in(cl.plan)
            plan = await asyncio.to_thread(ro.make_plan, forecast)
        except (MurakkabError, ValueError) as exc:
            entry.update(error=f"re-plan failed, keeping plan version {self.plan_version}: {exc}")
        else:
            entry["solve_s"] = time.perf_counter() - t
            version = self.journal.add_plan(plan.plan_id, plan.to_json(), activate=True,
                                            workflows=self.registry.pins_for(plan))   # the same versions
            ro.actuate(cl, plan)
            self.plan_version = version
            entry.update(version=version, plan_id=plan.plan_id, switch_at_s=cl.now() + ro.provisioning_delay_s)
            self.publish_pools()
        self.epochs = (self.epochs + [entry])[-50:]
        return entry

    def publish_pools(self) -> None:
        if self.cluster is None:
            return
        for pid, ps in self.cluster.pools.items():
            ready = sum(1 for i in self.cluster.instances(pid) if i.ready and not i.draining)
            self.metrics.instances.labels(pid, "ready").set(ready)
            self.metrics.instances.labels(pid, "desired").set(ps.desired)

    # ---- registry ------------------------------------------------------------------------
    def workflow(self, tenant: str, name: str, version: int | None = None):
        """The LogicalWorkflow `name` as `tenant` sees it (an upload: the version requests run now)."""
        return self.registry.get(tenant, name, version)

    def deploy(self, plan: Plan, activate: bool = True, workflows: dict[str, int] | None = None) -> int:
        """Store a plan as a new version; activating it moves the running cluster to it. `workflows`
        pins the upload versions it runs (default: the deployed plan's, else the newest)."""
        for route in plan.routes:
            names = [s.task for s in route.steps]      # a Route checked its DAG when it was built
            if len(names) > self.cfg.limits.max_dag_tasks:
                raise MurakkabError(f"route {route.workflow}/{route.tier.key} has {len(names)} steps; the limit is "
                                    f"{self.cfg.limits.max_dag_tasks}")
        pins = workflows if workflows is not None else self.registry.pins_for(plan)
        version = self.journal.add_plan(plan.plan_id, plan.to_json(), activate, workflows=pins)
        if activate:
            self._install(version, plan)
        return version

    def activate(self, version: int) -> None:
        text = self.journal.plan(version)
        if text is None:
            raise NotFound(f"no plan version {version} (fix: GET /v1/plans lists them)")
        self.journal.activate_plan(version)
        self._install(version, Plan.from_json(text))

    def _pin(self, version: int, plan: Plan) -> None:
        pins = self.journal.plan_workflows(version)
        if pins is None:                  # a plan stored before plans pinned versions
            pins = self.registry.pins_for(plan)
            self.journal.set_plan_workflows(version, pins)
        self.registry.pinned = dict(pins)

    def _install(self, version: int, plan: Plan) -> None:
        self._pin(version, plan)
        if self.cluster is None:
            self.cluster = RuntimeCluster(plan, self.cfg.backends, time_scale=self.cfg.time_scale, seed=self.cfg.seed)
            self.cluster.on_failure = lambda pool: self.metrics.backend_failures.labels(pool).inc()
        else:
            # an operator's plan takes effect at once: the one actuation with no provisioning delay
            from murakkab.policy.actuation import actuate
            actuate(self.cluster, plan, 0.0)
        self.plan_version = version
        if self.reoptimizer is not None:     # an operator's plan: forecast from what it was made for
            from murakkab.policy.reoptimizer import forecast_of
            self.reoptimizer.forecast = forecast_of(plan)
        self.publish_pools()

    def route(self, workflow: str, tier: str) -> Route:
        if self.cluster is None:
            raise Conflict("no plan is deployed (fix: POST /v1/plans with the demand to plan for)")
        try:
            return self.cluster.current_plan().route(workflow, tier)
        except KeyError as exc:
            raise Conflict(f"the deployed plan has no route for {workflow}/{tier}: {exc.args[0]} "
                           "(fix: plan and deploy one that includes it, POST /v1/plans)") from None

    # ---- requests ------------------------------------------------------------------------
    def submit(self, tenant: str, workflow: str, tier: str, inputs: dict[str, Any], *, mode: str = "job",
               max_concurrency: int | None = None, on_token=None, options: dict | None = None,
               deadline_s: float | None = None, idempotency_key: str | None = None,
               cancel_on_disconnect: bool = False) -> str:
        """Validate and journal a request, then start it. Returns its id. Raises before journalling.
        `on_token(delta)` receives the output step's tokens as the backend streams them, when that
        step is a single model call (see `streams_tokens`); compositions (votes, debates) do not.
        `options` ({max_tokens, temperature}, e.g. from a chat request) apply to every model call of the
        workflow's output step; they are journalled, so a restarted request keeps them. `deadline_s`
        overrides the tier's deadline (see `Deadlines`). With an `idempotency_key` already used by the
        tenant, nothing new starts: the first request's id comes back (see `replayed`)."""
        version = self.registry.serving_version(tenant, workflow)
        wf = self.workflow(tenant, workflow, version)
        try:
            route = self.route(self.registry.plan_name(tenant, workflow), tier)
        except Conflict:
            self.registry.profiles_of(tenant, workflow, version)   # an upload with no profile: say that
            raise
        missing = [k for k in wf.inputs if k not in inputs]
        extra = [k for k in inputs if k not in wf.inputs]
        if missing or extra:
            raise MurakkabError(f"workflow '{workflow}' takes inputs {sorted(wf.inputs)}; "
                                + (f"missing {missing}" if missing else "") + (" " if missing and extra else "")
                                + (f"unknown {extra}" if extra else ""))
        for k, typ in wf.inputs.items():
            if not isinstance(inputs[k], str):
                raise MurakkabError(f"input '{k}' ({typ}) must be a string (text, or a file path for a video)")
        options = {k: v for k, v in (options or {}).items() if v is not None}
        if idempotency_key is not None:
            first = self.journal.request_by_key(tenant, idempotency_key)
            if first is not None:
                same = (first.workflow, first.tier, first.inputs, first.mode, first.options or {}) == \
                       (workflow, route.tier.key, inputs, mode, options)
                if not same:
                    raise KeyReused(f"Idempotency-Key '{idempotency_key}' was first sent with another request "
                                    f"({first.workflow}, {first.tier}, mode {first.mode}) (fix: use a new key for a "
                                    "new request)")
                return first.id
        limit = max_concurrency or self.cfg.limits.default_tenant_concurrency
        if self._open_by_tenant.get(tenant, 0) >= limit:
            raise TooBusy(f"tenant '{tenant}' already has {limit} requests in flight, its limit "
                          "(fix: wait for some to finish, or ask for a higher limit)")
        rid = uuid.uuid4().hex
        self.journal.accept(rid, tenant, workflow, route.tier.key, inputs, mode, self.plan_version, options,
                            workflow_version=version, deadline_s=self.deadline_for(route, deadline_s),
                            idempotency_key=idempotency_key)
        self._open_by_tenant[tenant] = self._open_by_tenant.get(tenant, 0) + 1
        self.metrics.accepted.labels(workflow, route.tier.key).inc()
        if self.reoptimizer is not None:
            self.reoptimizer.record_arrival(route.workflow, route.tier.key)
        self.metrics.in_flight.inc()
        self._launch(self.journal.request(rid), on_token, cancel_on_disconnect)
        return rid

    def deadline_for(self, route: Route, asked_s: float | None = None) -> float:
        """A request's deadline (wall seconds from its start): the client's, else its tier's default."""
        d = self.cfg.deadlines
        if asked_s is not None:
            if not 0 < asked_s <= d.max_request_s:
                raise MurakkabError(f"deadline_s must be > 0 and at most {d.max_request_s:g} s, got {asked_s}")
            return float(asked_s)
        if route.tier.metric == "latency" and route.tier.threshold > 0:
            # targets are model seconds: a slower-than-real simulation stretches them
            return d.latency_factor * route.tier.threshold * max(1.0, self.cfg.time_scale)
        return d.request_s

    def streams_tokens(self, tenant: str, workflow: str, tier: str) -> bool:
        """Whether the workflow's output step is one model call whose tokens can be streamed as they come."""
        wf = self.workflow(tenant, workflow)
        step = next((s for s in self.route(self.registry.plan_name(tenant, workflow), tier).steps
                     if s.task == wf.output), None)
        return (step is not None and step.kind == "llm" and not step.skipped
                and max(step.calls_parallel, 1) * max(step.calls_sequential, 1) == 1)

    def _launch(self, row: RequestRow, on_token=None, cancel_on_disconnect: bool = False) -> None:
        live = self._live[row.id] = _Live(on_token=on_token, cancel_on_disconnect=cancel_on_disconnect)
        live.task = asyncio.create_task(self._execute(row, live))

    async def wait(self, rid: str) -> RequestResult:
        live = self._live.get(rid)
        if live is not None:
            await live.done.wait()
            return live.result
        row = self.journal.request(rid)
        if row is None:
            raise NotFound(f"no job '{rid}'")
        return self.result_of(row)

    def result_of(self, row: RequestRow) -> RequestResult | None:
        if row.result:
            return RequestResult.model_validate(row.result)
        if row.status in ("failed", "cancelled"):
            return RequestResult(request_id=row.id, workflow=row.workflow, tier=row.tier, plan_id="",
                                 status=row.status, error=row.error)
        return None

    def listen(self, rid: str) -> asyncio.Queue | None:
        """A queue receiving (kind, data) step events of a running request, or None if it is not running."""
        live = self._live.get(rid)
        if live is None:
            return None
        q: asyncio.Queue = asyncio.Queue()
        live.listeners.append(q)
        return q

    @property
    def shutting_down(self) -> bool:
        return self._shutdown

    def abandoned(self, rid: str) -> None:
        """The client watching a job's events left: cancel it if it was submitted to be."""
        live = self._live.get(rid)
        if live is not None and live.cancel_on_disconnect and not self._shutdown:
            self.cancel(rid)

    def cancel(self, rid: str) -> bool:
        live = self._live.get(rid)
        if live is None or live.task is None or live.task.done():
            return False
        live.task.cancel()
        return True

    def _emit(self, rid: str, live: _Live, kind: str, data: dict) -> None:
        self.journal.event(rid, kind, data)
        for q in live.listeners:
            q.put_nowait((kind, data))

    async def _execute(self, row: RequestRow, live: _Live) -> None:
        rid = row.id
        t_unix = time.time_ns()
        t0 = time.perf_counter()
        self.journal.start(rid)
        res: RequestResult
        deadline = asyncio.timeout(row.deadline_s)
        try:
            async with deadline:
                res = await self._run(row, live, t0)
            status, error = "completed", None
        except TimeoutError as exc:
            status, res = "failed", None
            error = (f"{DEADLINE_EXCEEDED}: the request ran past its {row.deadline_s:g} s deadline (fix: ask for a "
                     "longer one with deadline_s, or use a faster tier)") if deadline.expired() else \
                f"internal error: {type(exc).__name__}: {exc}"
        except asyncio.CancelledError:
            status, error = "cancelled", "cancelled by the client or server shutdown"
            res = None
        except (StepFailed, MurakkabError) as exc:
            status, error = "failed", f"{failure_kind(exc)}: {exc}"
            res = None
        except Exception as exc:  # noqa: BLE001 - an unexpected bug must still end the request, loudly
            status, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
            res = None
        if res is None:
            res = RequestResult(request_id=rid, workflow=row.workflow, tier=row.tier,
                                plan_id=self.cluster.plan.plan_id if self.cluster else "", status=status,
                                error=error, latency_s=time.perf_counter() - t0)
        if not (status == "cancelled" and self._shutdown):
            # a shutdown leaves the request open so the next start runs it again
            self.journal.finish(rid, status, res.model_dump(mode="json") if status == "completed" else None, error)
        for q in live.listeners:
            q.put_nowait((status, {"error": error} if error else {}))
        live.result = res
        live.done.set()
        self._live.pop(rid, None)
        self._open_by_tenant[row.tenant] = self._open_by_tenant.get(row.tenant, 1) - 1
        self.metrics.in_flight.dec()
        self.metrics.finished(res)
        if status == "completed":
            try:
                emit_spans(res, t_unix)
            except Exception:  # noqa: BLE001 - tracing must never fail a request
                pass

    async def _run(self, row: RequestRow, live: _Live, t0: float) -> RequestResult:
        wf = self.workflow(row.tenant, row.workflow, row.workflow_version)
        route = self.route(self.registry.plan_name(row.tenant, row.workflow), row.tier)
        router = self.cluster.current_router()          # the request keeps its plan's pool choice
        runner = StepRunner(self.cluster, router=router, max_tokens=self.cfg.max_tokens)   # one per request
        variant = router.variant(route)
        steps = {s.task: s for s in route.steps}
        outputs: dict[str, Any] = {}
        step_inputs: dict[str, dict] = {}
        results: dict[str, StepResult] = {}

        def inputs_of(name: str) -> dict:
            if name in wf.tasks:
                return {port: (row.inputs.get(b.name) if b.kind == "input" else outputs.get(b.name))
                        for port, b in wf.tasks[name].bindings.items()}
            parent = StepName.parse(name).task    # a step the plan added, e.g. tests.run
            return {**step_inputs.get(parent, {}), "tests": outputs.get(parent)}

        async def run(name: str) -> StepResult:
            step = steps[name]
            ins = step_inputs[name] = inputs_of(name)
            started = time.perf_counter()
            stream = (live.on_token if name == wf.output and step.kind == "llm"
                      and max(step.calls_parallel, 1) * max(step.calls_sequential, 1) == 1 else None)
            opts = (row.options or {}) if name == wf.output else {}
            res = await runner.run(row.id, route, step, ins, route.knobs, on_token=stream, variant=variant,
                                   max_tokens=opts.get("max_tokens"), temperature=opts.get("temperature"))
            res.started_s = started - t0
            res.latency_s = time.perf_counter() - started
            res.model_latency_s = res.latency_s / self.cfg.time_scale if res.simulated else res.latency_s
            outputs[name] = res.output
            added = StepName.parse(name)
            if added.tool_part and added.task in outputs:
                outputs[added.task] = {"tests": outputs[added.task], "results": res.output}
            results[name] = res
            if not step.skipped:
                self._emit(row.id, live, "step", {k: v for k, v in res.model_dump(mode="json").items()
                                                  if k != "output"})
            return res

        order = [s.task for s in route.steps]
        await run_dag(route.predecessors(), run)
        latency = time.perf_counter() - t0
        cp = route.critical_path({n: r.latency_s for n, r in results.items()})[0]
        model_cp = route.critical_path({n: r.model_latency_s for n, r in results.items()})[0]
        res = RequestResult.total(request_id=row.id, workflow=row.workflow, tier=route.tier.key,
                                  plan_id=self.cluster.plan.plan_id, steps=[results[n] for n in order],
                                  output=outputs.get(wf.output), latency_s=latency, critical_path_s=cp,
                                  model_critical_path_s=model_cp, time_scale=self.cfg.time_scale)
        res.slo_met = SloRule.of_route(route).met(res.model_latency_s)
        return res


#: How a failed request's error begins, by cause (the server maps each to an HTTP status).
NO_INSTANCE, BAD_INPUT, DEADLINE_EXCEEDED, BACKEND_REJECTED = ("no backend instance left", "bad input",
                                                               "deadline exceeded", "backend rejected the request")


def failure_kind(exc: Exception) -> str:
    cause = exc.cause if isinstance(exc, StepFailed) else exc
    if isinstance(cause, NoInstanceLeft):
        return NO_INSTANCE
    if isinstance(cause, BadInput):
        return BAD_INPUT
    if isinstance(cause, BackendError) and cause.status is not None and 400 <= cause.status < 500:
        return f"{BACKEND_REJECTED} (HTTP {cause.status})"
    return "error"


def _keyed(f: dict[tuple[str, str], float]) -> dict[str, float]:
    """A forecast with JSON keys 'workflow/tier'."""
    return {str(RouteKey(w, t)): v for (w, t), v in sorted(f.items())}
