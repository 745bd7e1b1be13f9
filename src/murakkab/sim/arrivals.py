"""Request arrivals: Poisson, a seeded 24-hour diurnal pattern, and the Azure 2023 LLM traces.

An arrival is (time s, workflow, tier key), sorted by time.

Diurnal shape: a non-homogeneous Poisson process with rate
    λ(t) = λ̄ · (1 + a · cos(2π (t/3600 − peak_hour) / 24)),   a = (r − 1) / (r + 1),
so the mean over a day is λ̄ and peak/trough = r. Defaults peak_hour = 14 (afternoon peak, trough at
02:00) and r = 3 are an *estimate* of an interactive service's day (the packaged Azure traces cover
one hour and cannot give a daily shape). Sampled by thinning, seeded.

Azure traces (packaged, CC-BY-4.0): `code.csv` requests become `code_gen` workflow requests;
`conv.csv` requests become `video_qa` when their ContextTokens is at least the conversation trace's
median (long multimodal context: frames + transcript) and `reasoning` otherwise. Times are offsets
from the earliest timestamp of the two files; for horizons beyond the trace (about 1 hour) the trace
repeats with its own period. Workflows the plan does not serve are dropped.

Tiers: each request draws its tier from the tier mix (default 70% accuracy:good, 30% latency:good,
as in the Murakkab paper), or from the plan's own per-route rates (`plan`).
"""

from __future__ import annotations

import csv
import math
import random
from functools import cache
from importlib import resources
from statistics import median

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan

Arrival = tuple[float, str, str]
DEFAULT_TIER_MIX = {"accuracy:good": 0.7, "latency:good": 0.3}
TRACE_DIR = "data/azure_llm_trace_2023"


def poisson_times(rate: float, horizon_s: float, rng: random.Random) -> list[float]:
    """Arrival times of a Poisson process of `rate` per second on [0, horizon_s)."""
    if rate < 0 or horizon_s < 0:
        raise MurakkabError(f"Poisson arrivals need rate >= 0 and horizon >= 0, got {rate}, {horizon_s}")
    out, t = [], 0.0
    if rate == 0:
        return out
    while True:
        t += rng.expovariate(rate)
        if t >= horizon_s:
            return out
        out.append(t)


def diurnal_rate(t: float, mean_rate: float, peak_to_trough: float = 3.0, peak_hour: float = 14.0) -> float:
    a = (peak_to_trough - 1) / (peak_to_trough + 1)
    return mean_rate * (1 + a * math.cos(2 * math.pi * (t / 3600.0 - peak_hour) / 24.0))


def diurnal_times(mean_rate: float, horizon_s: float, rng: random.Random, peak_to_trough: float = 3.0,
                  peak_hour: float = 14.0) -> list[float]:
    """Non-homogeneous Poisson arrivals with the diurnal rate (module docstring), by thinning."""
    if peak_to_trough < 1:
        raise MurakkabError(f"peak_to_trough must be >= 1, got {peak_to_trough}")
    a = (peak_to_trough - 1) / (peak_to_trough + 1)
    lam_max = mean_rate * (1 + a)
    out = []
    for t in poisson_times(lam_max, horizon_s, rng):
        if rng.random() * lam_max <= diurnal_rate(t, mean_rate, peak_to_trough, peak_hour):
            out.append(t)
    return out


def _seconds(stamp: str) -> float:
    """'2023-11-16 18:17:03.9799600' -> seconds since that day's midnight (7-digit fractions)."""
    day, clock = stamp.split(" ")
    h, m, s = clock.split(":")
    return int(day[-2:]) * 86400 + int(h) * 3600 + int(m) * 60 + float(s)


@cache
def _trace(name: str) -> tuple[tuple[float, int, int], ...]:
    path = resources.files("murakkab.sim").joinpath(f"{TRACE_DIR}/{name}.csv")
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return tuple((_seconds(r["TIMESTAMP"]), int(r["ContextTokens"]), int(r["GeneratedTokens"])) for r in rows)


def azure_times(chat_to: str | None = None) -> dict[str, list[float]]:
    """Arrival offsets (s) per workflow from the packaged traces, by the documented split: code ->
    code_gen; conversation -> video_qa at or above the median context, reasoning below. With
    `chat_to`, every conversation request goes to that one workflow instead."""
    code, conv = _trace("code"), _trace("conv")
    t0 = min(code[0][0], conv[0][0])
    out = {"code_gen": [t - t0 for t, _, _ in code]}
    if chat_to is not None:
        out.setdefault(chat_to, []).extend(t - t0 for t, _, _ in conv)
        return out
    cut = median(c for _, c, _ in conv)
    out.update({"video_qa": [], "reasoning": []})
    for t, ctx, _ in conv:
        out["video_qa" if ctx >= cut else "reasoning"].append(t - t0)
    return out


def _tile(times: list[float], period: float, horizon_s: float) -> list[float]:
    out, k = [], 0
    while times and k * period < horizon_s:
        out.extend(t + k * period for t in times if t + k * period < horizon_s)
        k += 1
    return out


def parse_tier_mix(text: str) -> dict[str, float] | None:
    """'accuracy:good=0.7,latency:good=0.3' -> dict; 'plan' -> None (use the plan's route rates)."""
    if text.strip() == "plan":
        return None
    mix = {}
    for part in text.split(","):
        if "=" not in part:
            raise MurakkabError(f"tier mix entry '{part}' is not tier=fraction "
                                "(fix: e.g. --tier-mix accuracy:good=0.7,latency:good=0.3, or 'plan')")
        k, v = part.split("=", 1)
        try:
            mix[k.strip()] = float(v)
        except ValueError:
            raise MurakkabError(f"tier mix fraction '{v}' for '{k}' is not a number") from None
    check_tier_mix(mix)
    return mix


def check_tier_mix(mix: dict[str, float]) -> None:
    if not mix or any(v < 0 for v in mix.values()) or abs(sum(mix.values()) - 1) > 1e-6:
        raise MurakkabError(f"tier mix {mix} must have fractions >= 0 summing to 1 "
                            "(fix: e.g. accuracy:good=0.7,latency:good=0.3)")


def workflow_rates(plan: Plan) -> dict[str, float]:
    """Average arrivals/s per workflow the plan was made for."""
    rates: dict[str, float] = {}
    for r in plan.routes:
        rates[r.workflow] = rates.get(r.workflow, 0.0) + r.rate_avg_rps
    return rates


def _tiers_for(plan: Plan, workflow: str, mix: dict[str, float] | None) -> tuple[list[str], list[float]]:
    if mix is None:
        rs = [r for r in plan.routes if r.workflow == workflow]
        keys, w = [r.tier.key for r in rs], [r.rate_avg_rps for r in rs]
        if sum(w) <= 0:
            w = [1.0] * len(keys)
        return keys, w
    have = {r.tier.key for r in plan.routes if r.workflow == workflow}
    missing = [k for k, v in mix.items() if v > 0 and k not in have]
    if missing:
        raise MurakkabError(f"tier mix names {missing} but the plan has no such route for '{workflow}' "
                            f"(it has {sorted(have)}); fix: change --tier-mix or re-plan with those tiers")
    keys = [k for k, v in mix.items() if v > 0]
    return keys, [mix[k] for k in keys]


def build_arrivals(plan: Plan, kind: str, horizon_s: float, *, rate: float | None = None,
                   tier_mix: dict[str, float] | None = DEFAULT_TIER_MIX, seed: int = 0,
                   peak_to_trough: float = 3.0, peak_hour: float = 14.0) -> list[Arrival]:
    """Arrivals for every workflow of the plan. Poisson/diurnal: total mean rate `rate` (default: the
    plan's total average rate) split over workflows in the plan's proportions (equal if all zero)."""
    if horizon_s <= 0:
        raise MurakkabError(f"horizon must be > 0 s, got {horizon_s}")
    wf_rates = workflow_rates(plan)
    rng_t = random.Random(seed)
    rng_tier = random.Random(seed * 7919 + 1)
    times: dict[str, list[float]] = {}
    if kind in ("poisson", "diurnal"):
        total_plan = sum(wf_rates.values())
        total = total_plan if rate is None else rate
        if total <= 0:
            raise MurakkabError("no arrival rate: the plan's routes have rate 0 and no --rate was given "
                                "(fix: pass --rate R requests/s)")
        for wf in sorted(wf_rates):
            share = wf_rates[wf] / total_plan if total_plan > 0 else 1 / len(wf_rates)
            lam = total * share
            times[wf] = (poisson_times(lam, horizon_s, rng_t) if kind == "poisson"
                         else diurnal_times(lam, horizon_s, rng_t, peak_to_trough, peak_hour))
    elif kind == "azure":
        trace = azure_times()
        period = max(max(v) for v in trace.values() if v) + 1e-3
        for wf, ts in trace.items():
            if wf in wf_rates:
                times[wf] = _tile(ts, period, horizon_s)
        if not times:
            raise MurakkabError(f"the Azure traces feed code_gen, video_qa and reasoning; the plan serves "
                                f"{sorted(wf_rates)} (fix: plan one of those workflows)")
    else:
        raise MurakkabError(f"unknown arrivals '{kind}' (fix: one of diurnal, poisson, azure)")
    out: list[Arrival] = []
    for wf in sorted(times):
        keys, weights = _tiers_for(plan, wf, tier_mix)
        cum, acc = [], 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        for t in times[wf]:
            u = rng_tier.random() * acc
            i = 0
            while i < len(cum) - 1 and u >= cum[i]:
                i += 1
            out.append((t, wf, keys[i]))
    out.sort(key=lambda a: a[0])
    return out
