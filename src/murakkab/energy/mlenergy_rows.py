"""A small, typed reader of the packaged ML.ENERGY v3 table (one row = one operating point).

The profile store (`murakkab.profiles`) turns these rows into `ModelProfile`s; the energy module
only needs a few columns per row with their row numbers, so it reads them directly.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

CSV_PATH = "profiles/data/ml_energy_v3/llm_configs.csv"   # inside the package


@dataclass(frozen=True)
class MlEnergyRow:
    row: int                  # 1-based data row (header excluded)
    task: str
    model_id: str
    gpu: str                  # "H100" | "B200"
    num_gpus: int
    tp: int
    ep: int
    dp: int
    max_num_seqs: int
    avg_batch: float
    precision: str
    total_params_b: float
    active_params_b: float
    power_w: float            # average power of all the instance's GPUs
    energy_per_token_j: float
    avg_output_len: float
    throughput_tok_s: float   # output tokens/s of the whole instance

    @property
    def config(self) -> tuple:
        """Everything that identifies a measured instance except its operating point."""
        return (self.task, self.model_id, self.gpu, self.num_gpus, self.tp, self.ep, self.dp, self.precision)


@cache
def load_rows() -> tuple[MlEnergyRow, ...]:
    text = resources.files("murakkab").joinpath(CSV_PATH).read_text(encoding="utf-8")
    out = []
    for i, r in enumerate(csv.DictReader(text.splitlines()), start=1):
        out.append(MlEnergyRow(
            row=i, task=r["task"], model_id=r["model_id"], gpu=r["gpu_model"],
            num_gpus=int(r["num_gpus"]), tp=int(r["tensor_parallel"]), ep=int(r["expert_parallel"]),
            dp=int(r["data_parallel"]), max_num_seqs=int(r["max_num_seqs"]),
            avg_batch=float(r["avg_batch_size"]), precision=r["weight_precision"],
            total_params_b=float(r["total_params_billions"]),
            active_params_b=float(r["activated_params_billions"]),
            power_w=float(r["avg_power_watts"]), energy_per_token_j=float(r["energy_per_token_joules"]),
            avg_output_len=float(r["avg_output_len"]),
            throughput_tok_s=float(r["output_throughput_tokens_per_sec"]),
        ))
    return tuple(out)
