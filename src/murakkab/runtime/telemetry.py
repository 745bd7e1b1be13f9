"""Prometheus metrics and OpenTelemetry spans of the runtime.

Metrics live in a registry owned by the runtime (no process-global state), exposed by the server
at /metrics. Spans follow the OpenTelemetry GenAI semantic conventions (`gen_ai.*`) plus our own
`murakkab.*` energy and cost attributes; with no OpenTelemetry SDK configured they are no-ops.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from murakkab.runtime.results import RequestResult, StepResult


class RuntimeMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("murakkab_requests", "Requests finished", ["workflow", "tier", "status"], registry=r)
        self.slo = Counter("murakkab_requests_slo", "Requests finished, by SLO verdict (policy.slo; a request that "
                           "did not complete missed it)", ["workflow", "tier", "met"], registry=r)
        self.accepted = Counter("murakkab_requests_accepted", "Requests accepted", ["workflow", "tier"], registry=r)
        self.in_flight = Gauge("murakkab_requests_in_flight", "Requests accepted and not finished", registry=r)
        self.latency = Histogram("murakkab_request_latency_seconds", "End-to-end request latency",
                                 ["workflow", "tier"], registry=r,
                                 buckets=(.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900))
        self.step_latency = Histogram("murakkab_step_latency_seconds", "Step latency", ["workflow", "task"],
                                      registry=r, buckets=(.001, .01, .05, .1, .5, 1, 5, 10, 30, 60, 300))
        self.overhead = Histogram("murakkab_orchestration_overhead_seconds",
                                  "Request latency minus the critical path of its steps", registry=r,
                                  buckets=(.0001, .0005, .001, .002, .005, .01, .05, .1, .5))
        self.energy = Counter("murakkab_energy_wh", "Energy attributed to requests (Wh)",
                              ["workflow", "tier", "basis"], registry=r)
        self.cost = Counter("murakkab_cost_usd", "Cost attributed to requests ($)", ["workflow", "tier"], registry=r)
        self.tokens = Counter("murakkab_tokens", "Tokens", ["workflow", "direction"], registry=r)
        self.backend_failures = Counter("murakkab_backend_failures", "Failed backend attempts (retried or not)",
                                        ["pool"], registry=r)
        self.instances = Gauge("murakkab_pool_instances", "Instances per pool", ["pool", "state"], registry=r)

    def finished(self, res: RequestResult) -> None:
        self.requests.labels(res.workflow, res.tier, res.status).inc()
        self.slo.labels(res.workflow, res.tier, "true" if res.slo_met else "false").inc()
        if res.status != "completed":
            return
        self.latency.labels(res.workflow, res.tier).observe(res.latency_s)
        self.overhead.observe(res.overhead_s)
        self.energy.labels(res.workflow, res.tier, res.energy_basis).inc(res.energy_wh)
        self.cost.labels(res.workflow, res.tier).inc(res.cost_usd)
        self.tokens.labels(res.workflow, "input").inc(res.tokens_in)
        self.tokens.labels(res.workflow, "output").inc(res.tokens_out)
        for s in res.steps:
            if not s.skipped:
                self.step_latency.labels(res.workflow, s.task).observe(s.latency_s)


def step_attributes(workflow: str, step: StepResult) -> dict:
    """GenAI semantic-convention attributes of a step span, plus murakkab energy/cost."""
    attrs = {
        "gen_ai.operation.name": "chat" if step.kind != "tool" else "execute_tool",
        "murakkab.workflow": workflow,
        "murakkab.step": step.task,
        "murakkab.executor": step.executor,
        "murakkab.energy_wh": step.energy_wh,
        "murakkab.energy_basis": step.energy_basis,
        "murakkab.cost_usd": step.cost_usd,
        "murakkab.simulated": step.simulated,
    }
    if step.kind == "tool":
        attrs["gen_ai.tool.name"] = step.executor
    else:
        attrs["gen_ai.request.model"] = step.model or ""
        attrs["gen_ai.usage.input_tokens"] = step.tokens_in
        attrs["gen_ai.usage.output_tokens"] = step.tokens_out
    if step.pools:
        attrs["murakkab.pools"] = ",".join(step.pools)
    return attrs


def emit_spans(res: RequestResult, start_unix_ns: int) -> None:
    """One span per request with a child span per executed step (timed from the step results)."""
    from opentelemetry import trace
    tracer = trace.get_tracer("murakkab.runtime")
    end = start_unix_ns + int(res.latency_s * 1e9)
    root = tracer.start_span(f"invoke_workflow {res.workflow}", start_time=start_unix_ns, attributes={
        "gen_ai.operation.name": "invoke_agent", "murakkab.workflow": res.workflow, "murakkab.tier": res.tier,
        "murakkab.request_id": res.request_id, "murakkab.plan_id": res.plan_id,
        "gen_ai.usage.input_tokens": res.tokens_in, "gen_ai.usage.output_tokens": res.tokens_out,
        "murakkab.energy_wh": res.energy_wh, "murakkab.energy_basis": res.energy_basis,
        "murakkab.cost_usd": res.cost_usd, "murakkab.status": res.status})
    ctx = trace.set_span_in_context(root)
    for s in res.steps:
        if s.skipped:
            continue
        t0 = start_unix_ns + int(s.started_s * 1e9)
        span = tracer.start_span(f"{'execute_tool' if s.kind == 'tool' else 'chat'} {s.task}", context=ctx,
                                 start_time=t0, attributes=step_attributes(res.workflow, s))
        span.end(end_time=t0 + int(s.latency_s * 1e9))
    root.end(end_time=end)
