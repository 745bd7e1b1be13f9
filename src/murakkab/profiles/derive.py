"""Derived A100-80GB profiles for models measured only on H100 (basis `derived`, rule in each note).

ML.ENERGY v3 measured H100 and B200, not A100, yet the Murakkab paper's fleet (and its static
baseline) is A100. Each H100 operating point is carried to the A100-80GB at the same GPU count,
parallelism and batch with the ratios fitted to measured A100/H100 pairs (`profiles/a100_fit.py`):

- power per GPU x p(batch), the measured A100/H100 power ratio at that load (batch = the point's
  mean batch where measured, else its concurrency cap), capped at the A100's board power;
- TPOT and TTFT x T, throughput / T, with T the measured H100/A100 throughput ratio of a
  memory-bound decode carried to the A100-80GB's bandwidth.

Both GPUs have 80 GB, so a configuration that fits one fits the other. A profile measured on the
A100-80GB itself (Splitwise) is used as measured and never replaced. The ML.ENERGY v2 and Argonne
A100 rows are not used as profiles: they are an A100-40GB on other serving stacks (their README's C1,
C3, C5); they enter through the fit only.
"""

from __future__ import annotations

from murakkab.catalog import load_catalog
from murakkab.profiles.a100_fit import A100Fit, a100_fit
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source

SOURCE_HW, TARGET_HW = "H100-80GB", "A100-80GB"


def derive_a100(profile: ModelProfile, fit: A100Fit | None = None) -> ModelProfile:
    """The A100-80GB counterpart of an H100 profile (basis `derived` on every point)."""
    if profile.key.hardware != SOURCE_HW:
        raise ValueError(f"derive_a100 takes an {SOURCE_HW} profile, got {profile.key.hardware}")
    fit = fit or a100_fit()
    board_w = load_catalog().hardware[TARGET_HW].tdp_w * profile.key.gpus
    t = fit.throughput_ratio(TARGET_HW)
    points = []
    for p in profile.points:
        batch = p.avg_batch if p.avg_batch else p.max_num_seqs
        ratio = fit.power_ratio(batch)
        power = None if p.power_w is None else min(p.power_w * ratio, board_w)
        capped = power is not None and power == board_w
        throughput = p.throughput_tok_s / t
        note = (f"A100-80GB from H100 {p.source.file} row {p.source.row}: power x {ratio:.3f} at batch {batch:g}"
                f"{' (capped at board power)' if capped else ''}, TPOT x {t:.3f}; {fit.rule()}")
        points.append(OperatingPoint(
            max_num_seqs=p.max_num_seqs, avg_batch=p.avg_batch, tpot_median_s=p.tpot_median_s * t,
            tpot_p90_s=p.tpot_p90_s * t, throughput_tok_s=throughput, power_w=power,
            energy_per_token_j=None if power is None else power / throughput,
            ttft_s=None if p.ttft_s is None else p.ttft_s * t, mean_output_tokens=p.mean_output_tokens,
            source=Source(file=p.source.file, row=p.source.row, basis="derived", note=note, rows=p.source.rows)))
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
