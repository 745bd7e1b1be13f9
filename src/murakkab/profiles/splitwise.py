"""Splitwise performance model (A100, power-capped H100) -> ModelProfiles.

Key: (model, hardware, gpus = tp, tp, precision float16, workload = f"prompt{prompt_size}-gen{token_size}").
One point per batch size: the batch sweep (prompt 512, 128 generated tokens) gives 7 points; the
prompt-size and output-length sweeps give one-point profiles at batch 1.

- Repeats: every (model, hardware, tp, prompt, batch, tokens) was run 5 times, and the sweep centre
  (512, 1, 128) appears in all three sweeps (15 rows). Each point is the **median** of its rows
  (basis "derived", every row in `Source.rows`); none is dropped.
- TPOT = token_time (p90 = 90th percentile across the repeated runs: the source has no per-token
  distribution), TTFT = prompt_time (ms -> s); throughput = batch / TPOT (derived).
- Power: A100 rows give `average_power` as a fraction of peak; power_w = average_power x GPUs x the
  A100-80GB TDP from the catalogue (derived). A 0.0 in both power columns means "not measured"
  (all capped-H100 rows, A100 batch 32/64 and the output-length sweep): power and J/token stay None.
  Energy per token = power x TPOT / batch (derived).
- The uncapped `h100-80gb` rows are not loaded: they carry no power, and ML.ENERGY measures H100.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from murakkab.errors import ProfileError
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey, Source
from murakkab.profiles.validate import read_rows, build_profiles, check_values, parse_number

PACKAGED_FILE = "profiles/data/splitwise_perf_model/perf_model.csv"
HARDWARE = {"a100-80gb": "A100-80GB", "h100-80gb-pcap": "H100-80GB-CAP70"}
SKIPPED_HARDWARE = {"h100-80gb"}   # see module docstring
_POWER_NORMALISED = {"A100-80GB"}  # hardware whose average_power column is a fraction of peak


def _read(path: Path | None) -> tuple[str, list[dict[str, str]]]:
    return read_rows(PACKAGED_FILE, path)


def _tdp_from_catalog() -> dict[str, float]:
    from murakkab.catalog import load_catalog
    return {name: hw.tdp_w for name, hw in load_catalog().hardware.items()}


def loaded_rows(path: Path | None = None) -> list[int]:
    """1-based data rows this loader turns into points (A100 and capped-H100 rows)."""
    _, rows = _read(path)
    return [i for i, r in enumerate(rows, start=1) if r["hardware"] in HARDWARE]


def load_splitwise(path: Path | None = None, *, tdp_w: Mapping[str, float] | None = None) -> list[ModelProfile]:
    """Profiles from a splitwise `perf_model.csv` (the packaged one when `path` is None)."""
    file, rows = _read(path)
    tdp = dict(tdp_w) if tdp_w is not None else _tdp_from_catalog()
    groups: dict[tuple[ProfileKey, int], list[tuple[int, dict[str, float]]]] = {}
    for i, r in enumerate(rows, start=1):
        hw = r["hardware"]
        if hw in SKIPPED_HARDWARE:
            continue
        if hw not in HARDWARE:
            raise ProfileError(f"{file} row {i}: unknown hardware '{hw}'; known: "
                               f"{', '.join(sorted(HARDWARE) + sorted(SKIPPED_HARDWARE))}")
        vals = {c: parse_number(file, i, c, r[c]) for c in
                ("prompt_size", "batch_size", "token_size", "tensor_parallel", "prompt_time", "token_time",
                 "average_power", "peak_power")}
        check_values(file, i, {c: vals[c] for c in ("prompt_size", "batch_size", "token_size",
                                                    "tensor_parallel", "prompt_time", "token_time")})
        # 0.0 in both power columns = not measured; anything else must be a valid positive fraction
        if not (vals["average_power"] == 0.0 and vals["peak_power"] == 0.0):
            check_values(file, i, {"average_power": vals["average_power"]})
        tp = int(vals["tensor_parallel"])
        key = ProfileKey(model=r["model"], hardware=HARDWARE[hw], gpus=tp, tp=tp, precision="float16",
                         workload=f"prompt{int(vals['prompt_size'])}-gen{int(vals['token_size'])}")
        groups.setdefault((key, int(vals["batch_size"])), []).append((i, vals))
    records = []
    for (key, batch), runs in groups.items():
        rownums = tuple(i for i, _ in runs)
        token_times = sorted(v["token_time"] for _, v in runs)
        tpot = statistics.median(token_times) / 1e3
        # the source has no per-token ITL distribution: p90 is taken across the repeated runs
        tpot_p90 = float(np.percentile(token_times, 90)) / 1e3
        ttft = statistics.median(v["prompt_time"] for _, v in runs) / 1e3
        measured_power = [v["average_power"] for _, v in runs if v["average_power"] > 0]
        note = (f"median of {len(runs)} rows (all in Source.rows); TPOT p90 across runs, not tokens; "
                "throughput = batch / TPOT")
        power = None
        if key.hardware in _POWER_NORMALISED and measured_power:
            if key.hardware not in tdp:
                raise ProfileError(f"{file} row {rownums[0]}: no TDP for {key.hardware} in the catalogue")
            frac = statistics.median(measured_power)
            power = frac * key.gpus * tdp[key.hardware]
            note += (f"; power = median average_power {frac:.4f} x {key.gpus} GPUs x {tdp[key.hardware]:g} W TDP "
                     f"(catalogue); J/token = power x TPOT / batch")
        else:
            note += "; power not measured (unknown)"
        records.append((key, OperatingPoint(
            max_num_seqs=batch, avg_batch=float(batch), tpot_median_s=tpot, tpot_p90_s=tpot_p90,
            throughput_tok_s=batch / tpot, power_w=power,
            energy_per_token_j=None if power is None else power * tpot / batch, ttft_s=ttft,
            mean_output_tokens=float(key.workload.rsplit("gen", 1)[1]),
            source=Source(file=file, row=rownums[0], rows=rownums, basis="derived", note=note))))
    return build_profiles(file, records)
