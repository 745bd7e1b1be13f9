"""Typed catalogue entries: capabilities, executors, models, hardware."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field

KnobValue = Union[int, str]

# Bytes per weight parameter by precision (float32: e.g. a GGUF file of f32 tensors).
BYTES_PER_PARAM = {"float32": 4.0, "bfloat16": 2.0, "float16": 2.0, "fp8": 1.0, "int8": 1.0, "mxfp4": 0.5, "int4": 0.5}


class Port(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: str
    optional: bool = False


class Capability(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    description: str
    inputs: dict[str, Port]
    output: str


class Calls(BaseModel):
    """Model calls per invocation: each an integer or the name of one of the executor's knobs."""
    model_config = ConfigDict(frozen=True)
    sequential: int | str = 1
    parallel: int | str = 1

    def count(self, knobs: dict[str, KnobValue]) -> tuple[int, int]:
        """(sequential, parallel) call counts for the given knob values."""
        def value(v: int | str) -> int:
            return int(knobs[v]) if isinstance(v, str) else v
        return value(self.sequential), value(self.parallel)


class Executor(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    capability: str
    kind: Literal["llm", "composition", "tool"]
    description: str
    knobs: dict[str, list[KnobValue]] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list)
    calls: Calls | None = None
    placements: list[Literal["cpu", "gpu"]] = Field(default_factory=list)
    tool: str | None = None

    @property
    def uses_models(self) -> bool:
        return self.kind in ("llm", "composition")


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    hf_id: str
    total_params_b: float
    active_params_b: float
    modality: list[str]
    precision: str
    profiled_as: str
    profile_basis: Literal["measured", "proxy"]
    source: str

    @property
    def memory_gb(self) -> float:
        """Weight memory in GB (derived: parameters x bytes per parameter; KV cache excluded)."""
        return self.total_params_b * BYTES_PER_PARAM[self.precision]


class Hardware(BaseModel):
    """One accelerator or CPU node type. None means unknown (never guessed)."""
    model_config = ConfigDict(frozen=True)
    name: str
    kind: Literal["gpu", "cpu"]
    memory_gb: float
    tdp_w: float
    idle_w: float | None
    price_usd_per_hour: float
    units_per_node: int
    node_max_kw: float
    node_idle_kw: float | None
    provenance: str
