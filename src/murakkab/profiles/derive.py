"""Derived A100 profiles for models measured only on H100 (an estimate, labelled `derived`).

ML.ENERGY v3 measured H100 and B200, not A100, yet the Murakkab paper's fleet (and its static
baseline) is A100. We transfer each H100 profile to the A100 with two stated rules:

- TPOT(A100, b) = TPOT(H100, b) x R_tp, where R_tp is the median over batch sizes 1..64 of the
  Splitwise performance model's Llama2-70B token-time ratio A100/H100 at the same tensor
  parallelism (prompt 512, 128 generated tokens). Throughput scales by 1/R_tp.
- Power(A100) = Power(H100) x TDP(A100) / TDP(H100): the same fraction of board power at the same
  operating point (an estimate; ML.ENERGY shows that fraction varies with batch on one GPU type).
Same GPU count and parallelism: both GPUs have 80 GB, so a configuration that fits one fits the other.
"""

from __future__ import annotations

import csv
import statistics
from functools import cache
from importlib import resources

from murakkab.catalog import load_catalog
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source

SPLITWISE_FILE = "profiles/data/splitwise_perf_model/perf_model.csv"
SOURCE_HW, TARGET_HW = "H100-80GB", "A100-80GB"


@cache
def a100_over_h100_tpot_ratio() -> dict[int, float]:
    """tensor parallelism -> median A100/H100 token-time ratio (Splitwise Llama2-70B, prompt 512, 128 tokens)."""
    text = resources.files("murakkab").joinpath(SPLITWISE_FILE).read_text(encoding="utf-8")
    times: dict[tuple[str, int, int], list[float]] = {}
    for r in csv.DictReader(text.splitlines()):
        if r["model"] != "llama2-70b" or r["prompt_size"] != "512" or r["token_size"] != "128":
            continue
        times.setdefault((r["hardware"], int(r["tensor_parallel"]), int(r["batch_size"])), []).append(
            float(r["token_time"]))
    ratios: dict[int, list[float]] = {}
    for (hw, tp, batch), values in times.items():
        if hw != "a100-80gb" or ("h100-80gb", tp, batch) not in times:
            continue
        ratios.setdefault(tp, []).append(statistics.median(values) / statistics.median(times[("h100-80gb", tp, batch)]))
    return {tp: statistics.median(v) for tp, v in ratios.items()}


def _ratio_for(tp: int) -> tuple[float, str]:
    table = a100_over_h100_tpot_ratio()
    if tp in table:
        return table[tp], f"R_tp{tp}={table[tp]:.3f}"
    # Splitwise has TP 2, 4, 8; a single-GPU instance takes the TP-2 ratio (nearest measured).
    nearest = min(table, key=lambda t: abs(t - tp))
    return table[nearest], f"R_tp{nearest}={table[nearest]:.3f} (nearest measured TP to {tp})"


def derive_a100(profile: ModelProfile) -> ModelProfile:
    """The A100 counterpart of an H100 profile (basis `derived` on every point)."""
    if profile.key.hardware != SOURCE_HW:
        raise ValueError(f"derive_a100 takes an {SOURCE_HW} profile, got {profile.key.hardware}")
    cat = load_catalog()
    power_scale = cat.hardware[TARGET_HW].tdp_w / cat.hardware[SOURCE_HW].tdp_w
    ratio, ratio_note = _ratio_for(profile.key.tp)
    points = []
    for p in profile.points:
        power = None if p.power_w is None else p.power_w * power_scale
        throughput = p.throughput_tok_s / ratio
        note = (f"A100 from H100 {p.source.file} row {p.source.row}: TPOT x {ratio_note} (Splitwise Llama2-70B "
                f"A100/H100), power x TDP ratio {power_scale:.3f}")
        points.append(OperatingPoint(
            max_num_seqs=p.max_num_seqs, avg_batch=p.avg_batch, tpot_median_s=p.tpot_median_s * ratio,
            tpot_p90_s=p.tpot_p90_s * ratio, throughput_tok_s=throughput, power_w=power,
            energy_per_token_j=None if power is None else power / throughput,
            ttft_s=None if p.ttft_s is None else p.ttft_s * ratio, mean_output_tokens=p.mean_output_tokens,
            source=Source(file=p.source.file, row=p.source.row, basis="derived", note=note)))
    key = ProfileKey(**{**profile.key.model_dump(), "hardware": TARGET_HW})
    return ModelProfile(key=key, points=tuple(points), warnings=profile.warnings)


def derive_a100_profiles(profiles: list[ModelProfile]) -> list[ModelProfile]:
    """A100 counterparts of every H100 profile that has no measured A100 twin."""
    measured = {p.key for p in profiles}
    out = []
    for p in profiles:
        if p.key.hardware == SOURCE_HW:
            twin = ProfileKey(**{**p.key.model_dump(), "hardware": TARGET_HW})
            if twin not in measured:
                out.append(derive_a100(p))
    return out
