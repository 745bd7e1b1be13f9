"""The shared instance model by hand (the hand pools of tests/runtime/worlds.py: P(b) = 100 + 75 b over 4
slots, TPOT 0.01 s, TTFT 0.1 s; tool 50 W idle, 200 W busy over 2 slots)."""

import pytest

from murakkab.errors import MurakkabError
from murakkab.instance import ModelInstanceModel, ToolInstanceModel, instance_model, plan_point_curve
from murakkab.policy.accounting import Tokens
from tests.runtime import worlds as w


def test_model_power_by_occupancy_and_tpot_by_decoders():
    m = instance_model(w.model_pool(), plan_point_curve)
    assert [m.power_w(b) for b in range(6)] == [100.0, 175.0, 250.0, 325.0, 400.0, 400.0]  # queued: no more
    assert m.tpot_s(0) == m.tpot_s(3) == 0.01 and m.ttft_s == 0.1 and m.slots == 4
    assert m.mean_power_w(1.5) == pytest.approx(212.5) and m.mean_power_w(9.0) == 400.0


def test_an_interval_credits_prefill_and_decode_tokens_by_phase():
    m = instance_model(w.model_pool(), plan_point_curve)
    iv = m.interval(2.0, 2.05, {"p": 50.0}, ["d1", "d2"])
    assert iv.power_w == 325.0                                  # three slots held, prefill or decode alike
    assert iv.tokens["p"] == Tokens(prefill=pytest.approx(25.0))   # 50 tokens over 0.1 s, for 0.05 s
    assert iv.tokens["d1"] == Tokens(decode=pytest.approx(5.0))    # 0.05 s / 0.01 s
    with pytest.raises(MurakkabError, match="TTFT 0"):
        ModelInstanceModel(m.curve, 0.0).interval(0, 1, {"p": 1.0})


def test_tool_power_is_linear_in_occupancy():
    t = instance_model(w.tool_pool("t", "whisper_stt"), plan_point_curve)
    assert isinstance(t, ToolInstanceModel)
    assert [t.power_w(b) for b in range(4)] == [50.0, 125.0, 200.0, 200.0]
    iv = t.interval(0.0, 0.5, running=["a", "b"])
    assert iv.power_w == 200.0 and iv.tokens["a"] == iv.tokens["b"] == Tokens(decode=0.5)
    with pytest.raises(MurakkabError, match="no prefill"):
        t.interval(0, 1, {"a": 1.0})


def test_bad_tool_pool_is_refused():
    with pytest.raises(MurakkabError, match="concurrency >= 1"):
        instance_model(w.tool_pool("t", "whisper_stt").model_copy(update={"concurrency": 0}), plan_point_curve)
