"""Profile schema: the Murakkab paper's two profile layers (workflow profiles: tokens and accuracy per
knob setting, hardware-independent; model profiles: latency, power and energy per model x hardware).

Model profiles (workflow-independent): model x hardware x parallelism x precision x workload, with
several operating points (max concurrent sequences), each with TPOT, throughput, power, J/token.
Tool profiles: latency and power of a tool step per hardware placement.
Workflow profiles (hardware-independent): configuration -> accuracy and tokens per call per step.

Every number carries a `Source`: the packaged file and row it came from, and whether it was
measured, derived (computed from measured numbers by a stated model) or an estimate.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

Basis = Literal["measured", "derived", "estimate"]
KnobValue = Union[int, str]


class Source(BaseModel):
    model_config = ConfigDict(frozen=True)
    file: str                 # path inside the package, e.g. "profiles/data/ml_energy_v3/llm_configs.csv"
    row: int | None = None    # 1-based data row (header excluded); None for a whole-file derivation
    basis: Basis = "measured"
    note: str = ""
    rows: tuple[int, ...] = ()  # every 1-based data row aggregated into this value (empty: just `row`)

    def cite(self) -> str:
        where = f"{self.file}" + (f" row {self.row}" if self.row is not None else "")
        return f"{where} [{self.basis}]" + (f" {self.note}" if self.note else "")


class OperatingPoint(BaseModel):
    """One measured serving configuration of an instance at a concurrency cap."""
    model_config = ConfigDict(frozen=True)
    max_num_seqs: int = Field(gt=0)          # the operating point: concurrency cap
    avg_batch: float | None = None           # mean sequences in flight when measured
    tpot_median_s: float = Field(gt=0)       # time per output token (inter-token latency), median
    tpot_p90_s: float = Field(gt=0)
    throughput_tok_s: float = Field(gt=0)    # output tokens/s of the whole instance
    # None = not measured (e.g. splitwise capped-H100 rows): unknown stays unknown, never guessed
    power_w: float | None = Field(default=None, gt=0)             # average power of all the instance's GPUs
    energy_per_token_j: float | None = Field(default=None, gt=0)  # GPU energy per output token
    ttft_s: float | None = None              # time to first token, where known
    mean_output_tokens: float | None = None  # mean output length of the measured workload
    source: Source


class ProfileKey(BaseModel):
    model_config = ConfigDict(frozen=True)
    model: str          # the measured model id (as in the source data), see catalog Model.profiled_as
    hardware: str       # catalogue hardware name, e.g. "H100-80GB"
    gpus: int = Field(gt=0)
    tp: int = 1
    ep: int = 1
    dp: int = 1
    precision: str
    workload: str       # what was served when measuring, e.g. ML.ENERGY task "gpqa"

    def label(self) -> str:
        par = f"tp{self.tp}" + (f"ep{self.ep}" if self.ep > 1 else "") + (f"dp{self.dp}" if self.dp > 1 else "")
        return f"{self.model}@{self.gpus}x{self.hardware}/{par}/{self.precision}/{self.workload}"


class ModelProfile(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: ProfileKey
    points: tuple[OperatingPoint, ...]   # sorted by max_num_seqs, unique
    warnings: tuple[str, ...] = ()       # e.g. non-monotone points found on load (kept, reported)


class ToolProfile(BaseModel):
    """Latency and power of one tool invocation on a placement."""
    model_config = ConfigDict(frozen=True)
    tool: str                    # executor name, e.g. "whisper_stt"
    hardware: str                # catalogue hardware name ("CPU-64C", "A100-80GB", ...)
    units: int = 1               # GPUs (gpu) or nodes (cpu) an instance holds
    latency_s: float = Field(gt=0)        # per invocation at the reference input size
    per_unit_latency_s: float = 0.0       # added per unit of work (e.g. per frame), 0 if not modelled
    work_unit: str = ""                   # what a unit of work is ("frame", "scene", "second of audio")
    power_w: float = Field(gt=0)          # busy power of the instance
    concurrency: int = Field(default=1, gt=0)  # invocations one instance serves at once
    source: Source


class TokenStats(BaseModel):
    """Tokens of one model call of a step (percentiles over requests)."""
    model_config = ConfigDict(frozen=True)
    input_tokens: float = Field(ge=0)
    output_p50: float = Field(gt=0)
    output_p90: float = Field(gt=0)
    output_p99: float = Field(gt=0)
    source: Source


class WorkflowConfigProfile(BaseModel):
    """One configuration of a workflow: knob values and model per LLM step -> accuracy and tokens."""
    model_config = ConfigDict(frozen=True)
    workflow: str
    knobs: dict[str, KnobValue]          # knob name -> value (knob names as in executors.yaml)
    models: dict[str, str]               # task name -> catalogue model id, for LLM/composition tasks
    accuracy_percent: float = Field(ge=0, le=100)
    benchmark: str
    accuracy_source: Source
    tokens: dict[str, TokenStats]        # task name -> per-call token stats
