"""ML.ENERGY benchmark v3 (H100, B200) -> ModelProfiles, one OperatingPoint per measured row.

Key: (model_id, catalogue hardware, num_gpus, tp, ep, dp, weight_precision, task); one point per
`max_num_seqs`. TPOT = inter-token latency (median / p90, ms -> s). TTFT is not in the table: None.

Repeated runs: the packaged file measures three configurations twice (rows 177/178, 283/284,
286/287, differing values). `repeats="reject"` (default, for any file) raises ProfileError on them;
`repeats="mean"` averages each repeated configuration into one point (basis "derived", every row
listed in `Source.rows`) and records a warning on the profile. The store uses "mean".

Model facts: `model_facts()` gives each model id's total and activated parameter counts (the
`total_params_billions` / `activated_params_billions` columns), read from the same file by the same
reader, so callers that filter by model size need no second reader of the CSV.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from murakkab.errors import ProfileError
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source
from murakkab.profiles.validate import read_rows, build_profiles, check_values, parse_number

PACKAGED_FILE = "profiles/data/ml_energy_v3/llm_configs.csv"
HARDWARE = {"H100": "H100-80GB", "B200": "B200-180GB"}
_FACTS = ("total_params_billions", "activated_params_billions")
_NUMBERS = ("avg_batch_size", "avg_power_watts", "energy_per_token_joules", "avg_output_len",
            "output_throughput_tokens_per_sec", "median_itl_ms", "p90_itl_ms")


def _read(path: Path | None) -> tuple[str, list[dict[str, str]]]:
    return read_rows(PACKAGED_FILE, path)


def _key(file: str, row: int, r: dict[str, str]) -> tuple[ProfileKey, int]:
    gpu = r["gpu_model"]
    if gpu not in HARDWARE:
        raise ProfileError(f"{file} row {row}: unknown gpu_model '{gpu}'; known: {', '.join(HARDWARE)}")
    try:
        key = ProfileKey(model=r["model_id"], hardware=HARDWARE[gpu], gpus=int(r["num_gpus"]),
                         tp=int(r["tensor_parallel"]), ep=int(r["expert_parallel"]), dp=int(r["data_parallel"]),
                         precision=r["weight_precision"], workload=r["task"])
        seqs = int(r["max_num_seqs"])
    except (ValueError, TypeError) as exc:
        raise ProfileError(f"{file} row {row}: bad parallelism or max_num_seqs ({exc})") from None
    if seqs <= 0:
        raise ProfileError(f"{file} row {row}: max_num_seqs is {seqs}, must be > 0")
    return key, seqs


def _values(file: str, row: int, r: dict[str, str]) -> dict[str, float]:
    missing = [c for c in _NUMBERS if c not in r]
    if missing:
        raise ProfileError(f"{file}: missing column(s) {', '.join(missing)}")
    vals = {c: parse_number(file, row, c, r[c]) for c in _NUMBERS}
    check_values(file, row, vals)
    return vals


def _point(seqs: int, vals: dict[str, float], source: Source) -> OperatingPoint:
    return OperatingPoint(
        max_num_seqs=seqs, avg_batch=vals["avg_batch_size"],
        tpot_median_s=vals["median_itl_ms"] / 1e3, tpot_p90_s=vals["p90_itl_ms"] / 1e3,
        throughput_tok_s=vals["output_throughput_tokens_per_sec"], power_w=vals["avg_power_watts"],
        energy_per_token_j=vals["energy_per_token_joules"], ttft_s=None,
        mean_output_tokens=vals["avg_output_len"], source=source)


def load_mlenergy(path: Path | None = None, *,
                  repeats: Literal["reject", "mean"] = "reject") -> list[ModelProfile]:
    """Profiles from an ML.ENERGY v3 `llm_configs.csv` (the packaged one when `path` is None)."""
    file, rows = _read(path)
    # group rows by (key, max_num_seqs) keeping file order, so repeats are seen together
    groups: dict[tuple[ProfileKey, int], list[tuple[int, dict[str, float]]]] = {}
    for i, r in enumerate(rows, start=1):
        key, seqs = _key(file, i, r)
        groups.setdefault((key, seqs), []).append((i, _values(file, i, r)))
    records: list[tuple[ProfileKey, OperatingPoint]] = []
    warnings: dict[ProfileKey, list[str]] = {}
    for (key, seqs), runs in groups.items():
        if len(runs) == 1 or repeats == "reject":
            # with "reject", build_profiles raises on the second run, naming both rows
            records += [(key, _point(seqs, v, Source(file=file, row=i))) for i, v in runs]
            continue
        rownums = tuple(i for i, _ in runs)
        mean = {c: statistics.fmean(v[c] for _, v in runs) for c in _NUMBERS}
        note = f"mean of {len(runs)} runs of the same configuration (rows {', '.join(map(str, rownums))})"
        records.append((key, _point(seqs, mean, Source(file=file, row=rownums[0], rows=rownums,
                                                       basis="derived", note=note))))
        warnings.setdefault(key, []).append(f"max_num_seqs={seqs}: {note}")
    return build_profiles(file, records, warnings)


class ModelFacts(BaseModel):
    """Size of one measured model id, as the ML.ENERGY table states it."""
    model_config = ConfigDict(frozen=True)
    model: str                 # measured model id (the `ProfileKey.model` of its profiles)
    total_params_b: float      # total parameters, billions
    active_params_b: float     # parameters active per token, billions (= total for dense models)
    source: Source             # first row stating it (every row of the id states the same values)


def model_facts(path: Path | None = None) -> dict[str, ModelFacts]:
    """Model id -> parameter counts from an ML.ENERGY v3 `llm_configs.csv` (packaged when None).

    Raises ProfileError naming file and row for a missing column, a non-numeric, non-finite or
    non-positive count, activated > total, or a model id whose rows disagree."""
    file, rows = _read(path)
    if rows and (missing := [c for c in _FACTS if c not in rows[0]]):
        raise ProfileError(f"{file}: missing column(s) {', '.join(missing)}")
    facts: dict[str, ModelFacts] = {}
    for i, r in enumerate(rows, start=1):
        vals = {c: parse_number(file, i, c, r[c]) for c in _FACTS}
        check_values(file, i, vals)
        total, active = vals["total_params_billions"], vals["activated_params_billions"]
        if active > total:
            raise ProfileError(f"{file} row {i}: activated_params_billions {active:g} exceeds "
                               f"total_params_billions {total:g} (fix the row)")
        model = r["model_id"]
        seen = facts.get(model)
        if seen is None:
            facts[model] = ModelFacts(model=model, total_params_b=total, active_params_b=active,
                                      source=Source(file=file, row=i))
        elif (seen.total_params_b, seen.active_params_b) != (total, active):
            raise ProfileError(f"{file} row {i}: {model} has {total:g}B total / {active:g}B activated "
                               f"parameters, but row {seen.source.row} says {seen.total_params_b:g}B / "
                               f"{seen.active_params_b:g}B (fix: make the rows agree)")
    return facts
