"""Typed ids: each text form parses back to its parts, written here by hand, and bad text is refused."""

from __future__ import annotations

import pytest

from murakkab.plan.ids import PoolId, RouteKey, StepName, TenantWorkflow, WorkflowCopy, pool_label, unscoped

MODEL_POOL = "qwen3-8b|Qwen/Qwen3-8B@1xH100-80GB/tp1/bfloat16/gpqa|mns64"


def test_route_key_splits_at_the_last_slash():
    assert RouteKey.parse("video_qa/latency:good") == RouteKey("video_qa", "latency:good")
    assert RouteKey.parse("alice/my_flow/accuracy:best") == RouteKey("alice/my_flow", "accuracy:best")
    assert str(RouteKey("alice/my_flow", "accuracy:best")) == "alice/my_flow/accuracy:best"
    for bad in ("video_qa", "video_qa/good", "/latency:good"):
        with pytest.raises(ValueError, match="route key"):
            RouteKey.parse(bad)


def test_pool_ids_of_models_and_tools_and_their_decorations():
    p = PoolId.parse(MODEL_POOL)
    assert (p.name, p.placement, p.max_num_seqs, p.latency_copy, p.scope, p.kind) == (
        "qwen3-8b", "Qwen/Qwen3-8B@1xH100-80GB/tp1/bfloat16/gpqa", 64, False, None, "model")
    t = PoolId.parse("whisper_stt|1xA100-80GB")
    assert (t.name, t.placement, t.max_num_seqs, t.kind) == ("whisper_stt", "1xA100-80GB", None, "tool")
    twin = PoolId.parse(MODEL_POOL + "~latency")
    assert twin.latency_copy and twin == p.as_latency_copy()
    scoped = PoolId.parse("code_gen/latency:good::" + MODEL_POOL + "~latency")
    assert scoped.scope == "code_gen/latency:good" and scoped.latency_copy and scoped.max_num_seqs == 64
    for text in (MODEL_POOL, MODEL_POOL + "~latency", "whisper_stt|1xA100-80GB", "a/b:c::" + MODEL_POOL):
        assert str(PoolId.parse(text)) == text


def test_labels_for_tables():
    assert pool_label(MODEL_POOL) == "Qwen/Qwen3-8B@1xH100-80GB/tp1/bfloat16/gpqa|mns64"
    assert pool_label("m") == "m"                                   # a hand-written plan's pool id as it is
    assert unscoped("code_gen/latency:good::" + MODEL_POOL) == MODEL_POOL


def test_bad_pool_ids_are_refused():
    for bad in ("just-a-name", "a|b|c", "a|b|mnsX", "|b"):
        with pytest.raises(ValueError):
            PoolId.parse(bad)
    with pytest.raises(ValueError, match="may not contain"):
        PoolId("a|b", "x")


def test_workflow_copies_and_tenant_workflows():
    assert WorkflowCopy.parse("video_qa#7") == WorkflowCopy("video_qa", 7)
    assert WorkflowCopy.parse("video_qa") == WorkflowCopy("video_qa") and str(WorkflowCopy("video_qa", 0)) == "video_qa#0"
    with pytest.raises(ValueError, match="whole number"):
        WorkflowCopy.parse("video_qa#x")
    assert TenantWorkflow.parse("alice/flow") == TenantWorkflow("alice", "flow")
    with pytest.raises(ValueError, match="tenant/workflow"):
        TenantWorkflow.parse("flow")


def test_step_names_know_the_tool_part_a_plan_adds():
    assert StepName.parse("tests.run") == StepName("tests", tool_part=True)
    assert StepName.parse("tests") == StepName("tests") and str(StepName("tests", True)) == "tests.run"
    assert StepName.parse(".run") == StepName(".run")              # nothing before the suffix: a plain name
