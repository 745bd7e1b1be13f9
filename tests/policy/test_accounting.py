"""Attribution of an instance's energy to requests: hand-computed worlds and the integral invariant."""

import math
import random

import pytest

from murakkab.errors import MurakkabError
from murakkab.policy.accounting import AccountingParams, Interval, Tokens, attribute


def world():
    # 0-10 s at 360 W (1 Wh): A decodes 30, B prefills 100 (weight 0.1 -> 10) and decodes 10.
    # 10-20 s at 72 W (0.2 Wh): nothing served -> idle.
    return [
        Interval(0, 10, 360.0, {"A": Tokens(decode=30), "B": Tokens(prefill=100, decode=10)}),
        Interval(10, 20, 72.0, {}),
    ]


def test_split_by_weighted_tokens_with_idle_apart():
    att = attribute(world(), AccountingParams(prefill_weight=0.1, node_share_w=36.0, pue=1.5))
    a, b = att.requests["A"], att.requests["B"]
    # weights A 30, B 20 of 50 -> 0.6 / 0.4 of 1 Wh GPU and of 0.1 Wh node share (36 W × 10 s)
    assert a.gpu_wh == pytest.approx(0.6) and b.gpu_wh == pytest.approx(0.4)
    assert a.node_wh == pytest.approx(0.06) and b.node_wh == pytest.approx(0.04)
    assert a.facility_wh == pytest.approx(0.66 * 1.5) and b.facility_wh == pytest.approx(0.44 * 1.5)
    assert att.idle.gpu_wh == pytest.approx(0.2) and att.idle.node_wh == pytest.approx(0.1)
    assert att.idle.facility_wh == pytest.approx(0.3 * 1.5)
    assert att.total.facility_wh == pytest.approx((1.2 + 0.2) * 1.5)


def test_cost_follows_the_energy_weights_and_idle_time_is_nobodys():
    # $0.36/h = $0.0001/s: 10 busy s ($0.001) split 0.6 / 0.4 as the energy is; 10 idle s ($0.001) apart
    att = attribute(world(), AccountingParams(prefill_weight=0.1, price_usd_per_s=0.0001))
    assert att.requests["A"].cost_usd == pytest.approx(0.0006)
    assert att.requests["B"].cost_usd == pytest.approx(0.0004)
    assert att.idle.cost_usd == pytest.approx(0.001)
    assert att.total.cost_usd == pytest.approx(0.002)


def test_a_prefill_only_stretch_is_charged_to_the_prefilling_call():
    # a decode-share rule would charge nothing here (no decode tokens); the weighted rule charges B
    att = attribute([Interval(0, 2, 180.0, {"B": Tokens(prefill=400)})], AccountingParams(price_usd_per_s=0.5))
    assert att.requests["B"].gpu_wh == pytest.approx(0.1) and att.requests["B"].cost_usd == pytest.approx(1.0)
    assert att.idle.cost_usd == 0.0


def test_sum_of_requests_and_idle_equals_instance_integral_random_timelines():
    rng = random.Random(7)
    for _ in range(50):
        t, ivs = 0.0, []
        for _ in range(rng.randint(1, 30)):
            dt = rng.uniform(0, 5)
            toks = {f"r{rng.randint(0, 6)}": Tokens(rng.choice([0, rng.uniform(0, 500)]), rng.choice([0, rng.uniform(0, 50)]))
                    for _ in range(rng.randint(0, 4))}
            ivs.append(Interval(t, t + dt, rng.uniform(0, 700), toks))
            t += dt
        p = AccountingParams(prefill_weight=rng.uniform(0, 1), node_share_w=rng.uniform(0, 300), pue=rng.uniform(1, 1.5),
                             price_usd_per_s=rng.uniform(0, 0.01))
        att = attribute(ivs, p)
        integral = sum((iv.power_w + p.node_share_w) * (iv.t1 - iv.t0) for iv in ivs) / 3600 * p.pue
        got = sum(r.facility_wh for r in att.requests.values()) + att.idle.facility_wh
        assert math.isclose(got, integral, rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(att.total.facility_wh, integral, rel_tol=1e-9, abs_tol=1e-12)
        span = ivs[-1].t1 - ivs[0].t0
        paid = sum(r.cost_usd for r in att.requests.values()) + att.idle.cost_usd
        assert math.isclose(paid, p.price_usd_per_s * span, rel_tol=1e-9, abs_tol=1e-12)


def test_labels_measured_only_when_every_interval_measured():
    ivs = [Interval(0, 1, 100, {"A": Tokens(decode=1)}, basis="measured"),
           Interval(1, 2, 100, {"A": Tokens(decode=1), "B": Tokens(decode=1)}, basis="modelled"),
           Interval(2, 3, 100, {"C": Tokens(decode=1)}, basis="measured"),
           Interval(3, 4, 50, {}, basis="measured")]
    att = attribute(ivs)
    assert att.requests["A"].basis == "modelled"   # one of its intervals was modelled
    assert att.requests["B"].basis == "modelled"
    assert att.requests["C"].basis == "measured"
    assert att.idle.basis == "measured"
    assert att.total.basis == "modelled"


def test_default_is_modelled():
    att = attribute([Interval(0, 1, 100, {"A": Tokens(decode=1)})])
    assert att.requests["A"].basis == "modelled"


def test_prefill_only_interval_with_zero_weight_is_not_hidden_in_idle():
    att = attribute([Interval(0, 36, 100, {"A": Tokens(prefill=10)})], AccountingParams(prefill_weight=0.0))
    assert att.requests["A"].gpu_wh == pytest.approx(1.0)
    assert att.idle.gpu_wh == 0


@pytest.mark.parametrize("ivs, params, needle", [
    ([Interval(0, 1, -5.0)], AccountingParams(), "negative power"),
    ([Interval(0, 1, 5.0)], AccountingParams(pue=0.9), "PUE must be >= 1"),
    ([Interval(2, 1, 5.0)], AccountingParams(), "ends before it starts"),
    ([Interval(0, 1, 5.0, {"A": Tokens(decode=-1)})], AccountingParams(), "negative tokens"),
    ([Interval(0, 1, 5.0)], AccountingParams(node_share_w=-1), "node_share_w"),
    ([Interval(0, 1, 5.0)], AccountingParams(prefill_weight=-1), "prefill_weight"),
    ([Interval(0, 1, 5.0)], AccountingParams(price_usd_per_s=-1), "price_usd_per_s"),
])
def test_bad_input_rejected_with_clear_error(ivs, params, needle):
    with pytest.raises(MurakkabError, match=needle):
        attribute(ivs, params)
