"""Spans follow the OpenTelemetry GenAI conventions plus murakkab's energy and cost attributes; step
spans follow the workflow's data flow; the metrics count the SLO verdict."""

import asyncio

import pytest

sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="opentelemetry-sdk is in the test extra")

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from murakkab.runtime.service import Runtime, RuntimeConfig  # noqa: E402
from tests.runtime import worlds  # noqa: E402


def test_a_request_emits_a_root_span_and_one_span_per_step(tmp_path):
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        pytest.skip("another global tracer provider is installed in this process")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(), time_scale=0.001))
        await rt.start()
        try:
            res = await rt.wait(rt.submit("t", "video_qa", "accuracy:good", {"video": "v", "question": "q"}))
            return res, rt.metrics.registry
        finally:
            await rt.stop()

    res, registry = asyncio.run(go())
    spans = [s for s in exporter.get_finished_spans() if s.attributes.get("murakkab.request_id") == res.request_id
             or (s.parent is not None and s.attributes.get("murakkab.workflow") == "video_qa")]
    root = next(s for s in spans if s.name == "invoke_workflow video_qa")
    steps = [s for s in spans if s.parent is not None and s.parent.span_id == root.context.span_id]
    assert sorted(s.attributes["murakkab.step"] for s in steps) == ["answer", "detections", "frames", "scenes",
                                                                    "transcript"]
    answer = next(s for s in steps if s.attributes["murakkab.step"] == "answer")
    assert answer.attributes["gen_ai.operation.name"] == "chat"
    assert answer.attributes["gen_ai.request.model"] == "qwen3-8b"
    assert answer.attributes["gen_ai.usage.output_tokens"] == 100
    tool = next(s for s in steps if s.attributes["murakkab.step"] == "scenes")
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert root.attributes["murakkab.energy_wh"] == pytest.approx(res.energy_wh) and res.energy_wh > 0
    assert root.attributes["murakkab.cost_usd"] == pytest.approx(res.cost_usd) and res.cost_usd > 0
    # the video_qa data flow, drawn by hand: a step's span starts after the spans of the steps it reads
    by = {s.attributes["murakkab.step"]: s for s in steps}
    flow = [("scenes", "frames"), ("scenes", "transcript"), ("frames", "detections"), ("frames", "answer"),
            ("transcript", "answer"), ("detections", "answer")]
    for a, b in flow:
        assert by[b].start_time >= by[a].end_time - 1_000, (a, b)      # 1 µs: rounding to whole ns
    assert all(root.start_time <= s.start_time and s.end_time <= root.end_time + 1_000 for s in steps)
    # the SLO verdict counted: accuracy:good at threshold 0 % with a 50 % route is met (worlds.hand_plan)
    assert registry.get_sample_value("murakkab_requests_slo_total",
                                     {"workflow": "video_qa", "tier": "accuracy:good", "met": "true"}) == 1.0
