from __future__ import annotations

import math
import random
from importlib import resources

import pytest

from murakkab.errors import MurakkabError
from murakkab.sim.arrivals import (azure_times, build_arrivals, diurnal_rate, diurnal_times, parse_tier_mix,
                                   poisson_times)


def test_poisson_count_and_gaps():
    ts = poisson_times(5.0, 2000.0, random.Random(1))
    assert abs(len(ts) - 10_000) < 4 * math.sqrt(10_000)
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(0.2, rel=0.03)


def test_diurnal_mean_and_peak_to_trough():
    # λ̄ = 2/s over a day: ≈ 172,800 arrivals; hour around the peak (14:00) vs around the trough (02:00)
    ts = diurnal_times(2.0, 86_400.0, random.Random(2), peak_to_trough=3.0, peak_hour=14.0)
    assert len(ts) == pytest.approx(172_800, rel=0.01)
    peak = sum(1 for t in ts if 13.5 * 3600 <= t < 14.5 * 3600)
    trough = sum(1 for t in ts if 1.5 * 3600 <= t < 2.5 * 3600)
    # hand: rate at 14:00 = 2·(1 + 0.5) = 3/s, at 02:00 = 2·(1 − 0.5) = 1/s (a = (3−1)/(3+1) = 0.5)
    assert diurnal_rate(14 * 3600, 2.0) == pytest.approx(3.0)
    assert diurnal_rate(2 * 3600, 2.0) == pytest.approx(1.0)
    assert peak / trough == pytest.approx(3.0, rel=0.1)


def _rows(name):
    text = resources.files("murakkab.sim").joinpath(f"data/azure_llm_trace_2023/{name}.csv").read_text()
    return [line.split(",") for line in text.strip().splitlines()[1:]]


def test_azure_split_follows_the_documented_rule():
    t = azure_times()
    code, conv = _rows("code"), _rows("conv")
    assert len(t["code_gen"]) == len(code) == 8819         # data README: "Code: 8,819 requests"
    assert len(conv) == 19_366
    ctx = sorted(int(r[1]) for r in conv)
    n = len(ctx)
    med = (ctx[(n - 1) // 2] + ctx[n // 2]) / 2
    assert len(t["video_qa"]) == sum(1 for r in conv if int(r[1]) >= med)
    assert len(t["video_qa"]) + len(t["reasoning"]) == len(conv)
    assert min(min(v) for v in t.values()) == 0.0
    assert max(max(v) for v in t.values()) < 3700.0                # about one hour


def test_tier_mix_parse_and_errors():
    assert parse_tier_mix("accuracy:good=0.7,latency:good=0.3") == {"accuracy:good": 0.7, "latency:good": 0.3}
    assert parse_tier_mix("plan") is None
    with pytest.raises(MurakkabError, match="summing to 1"):
        parse_tier_mix("accuracy:good=0.7,latency:good=0.2")
    with pytest.raises(MurakkabError, match="tier=fraction"):
        parse_tier_mix("accuracy:good")


def test_build_arrivals_rates_mix_and_seed(b):
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)])], workflow="w1", metric="accuracy", tier="good",
                        threshold=50, rate=3.0),
                b.route([b.llm_step("a", [("m", 1.0)])], workflow="w1", metric="latency", tier="good", rate=0.0),
                b.route([b.llm_step("a", [("m", 1.0)])], workflow="w2", metric="latency", tier="good", rate=1.0)],
               [b.model_pool()])
    arr = build_arrivals(p, "poisson", 3000.0, tier_mix={"latency:good": 1.0}, seed=4)
    w1 = sum(1 for _, w, _ in arr if w == "w1")
    w2 = len(arr) - w1
    assert w1 == pytest.approx(9000, rel=0.05) and w2 == pytest.approx(3000, rel=0.08)
    assert arr == build_arrivals(p, "poisson", 3000.0, tier_mix={"latency:good": 1.0}, seed=4)
    assert arr != build_arrivals(p, "poisson", 3000.0, tier_mix={"latency:good": 1.0}, seed=5)
    with pytest.raises(MurakkabError, match="no such route"):
        build_arrivals(p, "poisson", 100.0, tier_mix={"accuracy:good": 0.5, "latency:good": 0.5})
    mixed = build_arrivals(p, "poisson", 3000.0, rate=2.0, tier_mix=None, seed=4)   # the plan's own rates
    assert {(w, k) for _, w, k in mixed} == {("w1", "accuracy:good"), ("w2", "latency:good")}
    with pytest.raises(MurakkabError, match="unknown arrivals"):
        build_arrivals(p, "weekly", 100.0)
