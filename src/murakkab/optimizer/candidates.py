"""Pool candidates: every (model, hardware, parallelism, operating point) and tool placement a
step may run on, with the per-instance figures the optimizer and the Plan need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from murakkab.catalog import Catalog
from murakkab.catalog.schema import Hardware
from murakkab.plan.ids import PoolId
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ToolProfile

VISION_WORKLOADS = ("video-chat", "image-chat")


@dataclass(frozen=True)
class ModelPool:
    """Instances of one model profile at one operating point."""
    id: str
    model: str                  # catalogue model id
    profile: ModelProfile
    point: OperatingPoint
    basis: str                  # measured | proxy | derived (+ proxy)
    hardware: Hardware
    power_idle_w: float         # per instance (accelerators)
    node_overhead_w: float      # per instance: share of the node's non-accelerator power

    @property
    def units(self) -> int:
        return self.profile.key.gpus

    @property
    def power_busy_w(self) -> float:
        """Measured power of the instance at its operating point; for a CPU host profiled without an
        energy counter, the node's maximum power from its hardware row (an upper bound; see model_pools)."""
        if self.point.power_w is None:
            return cpu_busy_w(self.hardware) * self.units
        return self.point.power_w

    @property
    def price_usd_per_hour(self) -> float:
        return self.hardware.price_usd_per_hour * self.units


@dataclass(frozen=True)
class ToolPool:
    id: str
    tool: str
    profile: ToolProfile
    hardware: Hardware
    power_idle_w: float
    node_overhead_w: float

    @property
    def units(self) -> int:
        return self.profile.units

    @property
    def power_busy_w(self) -> float:
        return self.profile.power_w

    @property
    def price_usd_per_hour(self) -> float:
        return self.hardware.price_usd_per_hour * self.units


@cache
def _accelerators() -> dict:
    text = resources.files("murakkab.catalog").joinpath("data", "accelerators.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def node_overhead_w(hw: Hardware) -> float | None:
    """Per accelerator: the node's non-accelerator power, or None when the sheet does not know it.

    Taken as (node idle - units x accelerator idle) / units: host CPUs, memory, NICs and fans stay
    near idle while the GPUs serve (an estimate from the hardware sheet; node maximum minus TDPs
    would be an upper bound). A CPU node is its own unit: its whole power is counted as the unit's.
    """
    if hw.kind == "cpu":
        return 0.0
    if hw.node_idle_kw is None or hw.idle_w is None:
        return None
    return max(0.0, (hw.node_idle_kw * 1000.0 - hw.units_per_node * hw.idle_w) / hw.units_per_node)


def idle_w(hw: Hardware) -> float | None:
    """Idle power of one unit; None when the sheet says unknown."""
    if hw.kind == "cpu":
        return None if hw.node_idle_kw is None else hw.node_idle_kw * 1000.0
    return hw.idle_w


def cpu_busy_w(hw: Hardware) -> float:
    """Busy power of a CPU node whose profile has no measured power: the node's maximum from its
    hardware row (an upper bound, labelled an estimate wherever a plan uses it)."""
    return hw.node_max_kw * 1000.0


def prefill_seconds(input_tokens: float, active_params_b: float, hw: Hardware, gpus: int) -> float:
    """Estimated TTFT: 2 x active parameters FLOPs per prompt token at `prefill_mfu` of peak."""
    acc = _accelerators()
    peak = acc["peak_bf16_tflops"][hw.name]["value"] * 1e12 * gpus
    return input_tokens * 2.0 * active_params_b * 1e9 / (peak * acc["prefill_mfu"]["value"])


def pick_workload(profiles: list[ModelProfile], capability: str, mean_output_tokens: float) -> str | None:
    """The measured workload closest to a step: vision workloads for vision steps where measured, then the
    one whose mean output length is nearest (log scale), since batching behaviour follows output length."""
    workloads = {p.key.workload for p in profiles}
    if capability == "vision_language_qa" and workloads & set(VISION_WORKLOADS):
        workloads &= set(VISION_WORKLOADS)
    if not workloads:
        return None

    def distance(w: str) -> float:
        lens = [pt.mean_output_tokens for p in profiles if p.key.workload == w for pt in p.points
                if pt.mean_output_tokens]
        if not lens:
            return math.inf
        return abs(math.log(sum(lens) / len(lens)) - math.log(max(mean_output_tokens, 1.0)))

    return min(sorted(workloads), key=distance)


def model_pools(model_id: str, basis: str, profiles: list[ModelProfile], catalog: Catalog, capability: str,
                mean_output_tokens: float, hardware_allowed: set[str] | None = None) -> list[ModelPool]:
    """One pool candidate per operating point of each of the model's profiles on allowed hardware.

    Points with unknown power, and hardware with unknown idle or node power, are left out: a plan
    must be able to account for its energy (see `excluded_hardware` for the note a plan carries).
    The exception is a CPU host (a user's llama.cpp box profiled without an energy counter): its
    busy power is the node's maximum from the hardware row, and the pool's basis says "+power-estimate".
    """
    workload = pick_workload(profiles, capability, mean_output_tokens)
    pools = []
    for prof in profiles:
        if prof.key.workload != workload:
            continue
        hw = catalog.hardware.get(prof.key.hardware)
        if hw is None or (hardware_allowed is not None and hw.name not in hardware_allowed):
            continue
        idle, overhead = idle_w(hw), node_overhead_w(hw)
        if idle is None or overhead is None:
            continue
        derived = any(pt.source.basis == "derived" for pt in prof.points) and hw.name == "A100-80GB"
        for pt in prof.points:
            if pt.power_w is None and hw.kind != "cpu":
                continue
            label = basis if not derived else ("derived" if basis == "measured" else f"derived+{basis}")
            if pt.power_w is None:
                label += "+power-estimate"
            pid = str(PoolId(model_id, prof.key.label(), pt.max_num_seqs))
            pools.append(ModelPool(id=pid, model=model_id, profile=prof, point=pt, basis=label, hardware=hw,
                                   power_idle_w=idle * prof.key.gpus,
                                   node_overhead_w=overhead * prof.key.gpus))
    return pools


def tool_pools(tool: str, profiles: list[ToolProfile], catalog: Catalog,
               hardware_allowed: set[str] | None = None) -> list[ToolPool]:
    pools = []
    for prof in profiles:
        if prof.tool != tool:
            continue
        hw = catalog.hardware.get(prof.hardware)
        if hw is None or (hardware_allowed is not None and hw.name not in hardware_allowed):
            continue
        idle, overhead = idle_w(hw), node_overhead_w(hw)
        if idle is None or overhead is None:
            continue
        pools.append(ToolPool(id=str(PoolId(tool, f"{prof.units}x{hw.name}")), tool=tool, profile=prof, hardware=hw,
                              power_idle_w=idle * prof.units, node_overhead_w=overhead * prof.units))
    return pools
