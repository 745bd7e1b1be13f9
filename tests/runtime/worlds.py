"""Small hand-built plans with round numbers, so latencies, energies and costs can be worked out by hand.

Model pool "m": 4 slots, TTFT 0.1 s, TPOT 0.01 s (constant: no profile named 'hand/...' exists, so
the plan's operating point is used), power idle 100 W -> busy 400 W linear in calls (P(b) = 100 + 75 b),
$3.6/h = $0.001/s, no node share. PUE 1.2. Tool pool "t": 2 slots, 200 W busy, 50 W idle, service 0.5 s.
"""

from __future__ import annotations

from murakkab.plan.schema import Plan, PlanTotals, Pool, PoolShare, Route, StepPlan, TierSpec

TPOT, TTFT, IDLE_W, BUSY_W, SLOTS, PRICE_H = 0.01, 0.1, 100.0, 400.0, 4, 3.6
TOOL_S, TOOL_SLOTS, TOOL_BUSY_W, TOOL_IDLE_W = 0.5, 2, 200.0, 50.0
PUE = 1.2


def model_pool(pid: str = "m", instances: int = 1) -> Pool:
    return Pool(id=pid, kind="model", model="qwen3-8b", profile="hand/qwen3-8b", profile_basis="estimate",
                hardware="H100-80GB", units_per_instance=1, max_num_seqs=SLOTS, tpot_p50_s=TPOT, tpot_p90_s=TPOT,
                ttft_s=TTFT, throughput_tok_s=SLOTS / TPOT, concurrency=SLOTS, power_busy_w=BUSY_W,
                power_idle_w=IDLE_W, node_overhead_w=0.0, price_usd_per_hour=PRICE_H, instances=instances,
                busy_s_per_s_peak=0.1, busy_s_per_s_avg=0.1, utilisation_avg=0.1, users=[])


def tool_pool(pid: str, tool: str, instances: int = 1) -> Pool:
    return Pool(id=pid, kind="tool", tool=tool, profile=f"hand/{tool}", profile_basis="estimate", hardware="CPU-64C",
                units_per_instance=1, concurrency=TOOL_SLOTS, power_busy_w=TOOL_BUSY_W, power_idle_w=TOOL_IDLE_W,
                node_overhead_w=0.0, price_usd_per_hour=PRICE_H, instances=instances, busy_s_per_s_peak=0.1,
                busy_s_per_s_avg=0.1, utilisation_avg=0.1, users=[])


def _route(workflow: str, steps: list[StepPlan], edges, tier="accuracy:good") -> Route:
    metric, name = tier.split(":")
    return Route(workflow=workflow, tier=TierSpec(workflow=workflow, name=name, metric=metric, threshold=0.0),
                 knobs={}, steps=steps, edges=edges, accuracy_percent=50.0, accuracy_basis="estimate",
                 latency_p50_s=1.0, latency_p90_s=1.0, rate_peak_rps=1.0, rate_avg_rps=1.0,
                 energy_wh_per_request=0.0, cost_usd_per_request=0.0)


def llm_step(task: str, executor: str, pool: str = "m", out: float = 100.0, parallel: int = 1,
             sequential: int = 1, kind: str = "llm") -> StepPlan:
    return StepPlan(task=task, capability=task, executor=executor, kind=kind, model="qwen3-8b",
                    calls_sequential=sequential, calls_parallel=parallel, input_tokens=50.0,
                    output_tokens_p50=out, output_tokens_p90=out, output_tokens_p99=out,
                    pools=[PoolShare(pool=pool, share=1.0, latency_p50_s=1.0, latency_p90_s=1.0,
                                     busy_s_per_request=1.0)])


def tool_step(task: str, executor: str, pool: str) -> StepPlan:
    return StepPlan(task=task, capability=task, executor=executor, kind="tool",
                    pools=[PoolShare(pool=pool, share=1.0, latency_p50_s=TOOL_S, latency_p90_s=TOOL_S,
                                     busy_s_per_request=TOOL_S / TOOL_SLOTS)])


def hand_plan(model_instances: int = 1, samples: int = 3) -> Plan:
    """reasoning (self-consistency, `samples` parallel chains) and video_qa (4 tools + answer)."""
    reasoning = _route("reasoning", [llm_step("solve", "self_consistency", parallel=samples, kind="composition")], [])
    video = _route("video_qa", [
        tool_step("scenes", "opencv_scene_detector", "t-scenes"),
        tool_step("frames", "opencv_frame_extractor", "t-frames"),
        tool_step("transcript", "whisper_stt", "t-stt"),
        tool_step("detections", "omdet_detector", "t-det"),
        llm_step("answer", "vlm_answer"),
    ], [("scenes", "frames"), ("scenes", "transcript"), ("frames", "detections"), ("frames", "answer"),
        ("transcript", "answer"), ("detections", "answer")])
    pools = [model_pool(instances=model_instances), tool_pool("t-scenes", "opencv_scene_detector"),
             tool_pool("t-frames", "opencv_frame_extractor"), tool_pool("t-stt", "whisper_stt"),
             tool_pool("t-det", "omdet_detector")]
    return Plan(plan_id="hand", created_unix=0.0, policy="joint", objective="energy", epoch_s=3600.0, pue=PUE,
                token_percentile_capacity="p90", routes=[reasoning, video], pools=pools,
                totals=PlanTotals(gpus_by_type={}, energy_kwh_per_epoch=0.0, energy_wh_per_request=0.0,
                                  cost_usd_per_epoch=0.0, cost_usd_per_request=0.0, accuracy_percent_avg=0.0),
                solve=[])


CHAT_SPEC = """name: chat_bot
description: Answer a chat prompt with one model call.
inputs:
  prompt: text
tasks:
  - name: reply
    capability: chat
    inputs: {prompt: inputs.prompt}
output: reply
"""


def chat_plan(model_instances: int = 1, out: float = 100.0) -> Plan:
    """The hand plan plus a route for tenant default's uploaded workflow CHAT_SPEC (uploads are named
    'tenant/name' in plans): one llm_chat call on pool "m"."""
    plan = hand_plan(model_instances)
    chat = _route("default/chat_bot", [llm_step("reply", "llm_chat", out=out)], [])
    return plan.model_copy(update={"routes": [*plan.routes, chat]})
