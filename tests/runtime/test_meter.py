"""The runtime's instance meter by hand: phases, prefill weight, tool power vs occupancy, cost split.

A settable clock stands in for time so each interval is exact (the meter reads whatever clock it is
given; the simulated backend gives it model seconds).
"""

import pytest

from murakkab.instance import InstanceCurve, ModelInstanceModel, ToolInstanceModel
from murakkab.policy.accounting import AccountingParams
from murakkab.runtime.meter import InstanceMeter


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_call_in_prefill_is_charged_at_the_prefill_weight():
    # P(1) = 200 W, P(2) = 300 W; TPOT 0.01 s; TTFT 0.1 s; price $0.001/s; no node share, PUE 1
    model = ModelInstanceModel(InstanceCurve((0.01,) * 5, (100.0, 200.0, 300.0, 400.0, 500.0), "hand"), 0.1)
    clock = Clock()
    meter = InstanceMeter(model, AccountingParams(prefill_weight=0.1, price_usd_per_s=0.001), clock)
    meter.enter("A", 50)
    clock.t = 0.1
    meter.decode("A")                    # A decodes from 0.1 s
    clock.t = 1.0
    meter.enter("B", 50)                 # B prefills 1.0-1.1 s while A decodes
    assert meter.in_flight == 2 and meter.decoding == 1
    clock.t = 1.1
    b_energy = meter.leave("B")
    # in [1.0, 1.1): A decodes 0.1 / 0.01 = 10 tokens, B prefills 50 tokens x weight 0.1 = 5: B gets 5/15
    # of 300 W x 0.1 s = 30 J and of $0.0001
    assert b_energy.facility_wh == pytest.approx(30.0 / 3 / 3600)
    assert b_energy.cost_usd == pytest.approx(0.0001 / 3)
    clock.t = 2.0
    a_energy = meter.leave("A")
    # A: all of [0, 1.0) at 200 W, 2/3 of [1.0, 1.1) at 300 W, all of [1.1, 2.0) at 200 W
    assert a_energy.facility_wh == pytest.approx((200 * 1.0 + 20.0 + 200 * 0.9) / 3600)
    assert a_energy.cost_usd == pytest.approx(0.001 * (1.0 + 0.1 * 2 / 3 + 0.9))
    assert meter.in_flight == 0


def test_decoding_calls_set_the_tpot_index_not_prefilling_ones():
    curve = InstanceCurve((0.01, 0.01, 0.03), (0.0, 1.0, 2.0), "hand")
    model = ModelInstanceModel(curve, 0.2)
    clock = Clock()
    meter = InstanceMeter(model, AccountingParams(), clock)
    meter.enter("A", 10)
    meter.decode("A")
    meter.enter("B", 10)                 # prefilling: A still decodes at TPOT(1)
    assert model.tpot_s(meter.decoding) == 0.01
    meter.decode("B")
    assert model.tpot_s(meter.decoding) == 0.03


def test_tool_power_follows_occupancy_and_calls_split_it_evenly():
    model = ToolInstanceModel(slots=2, idle_w=50.0, busy_w=200.0)
    clock = Clock()
    meter = InstanceMeter(model, AccountingParams(node_share_w=10.0, pue=1.2, price_usd_per_s=0.002), clock)
    meter.enter("x")
    clock.t = 1.0
    assert meter.power_w() == 125.0      # one of two slots: 50 + 150 / 2
    meter.enter("y")
    assert meter.power_w() == 200.0
    clock.t = 2.0
    x = meter.leave("x")
    # [0, 1): 125 W + 10 W node all x's; [1, 2): 200 W + 10 W, half each; PUE 1.2
    assert x.facility_wh == pytest.approx((135.0 + 105.0) * 1.2 / 3600)
    assert x.cost_usd == pytest.approx(0.002 * 1.5)
    clock.t = 3.0
    y = meter.leave("y")
    assert y.facility_wh == pytest.approx((105.0 + 135.0) * 1.2 / 3600)
    clock.t = 5.0
    meter.enter("z")                     # closes [3, 5) idle: 50 W + 10 W node
    assert meter.idle_wh == pytest.approx(60.0 * 2 * 1.2 / 3600)
