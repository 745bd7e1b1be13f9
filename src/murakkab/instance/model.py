"""What one instance draws and does at a given occupancy: the rule both bodies apply.

A model instance holds up to `max_num_seqs` calls in slots. A call prefills its input over the pool's
TTFT, then decodes; with d calls decoding, each decodes 1/TPOT(d) tokens per second. The instance
draws P(b) with b occupied slots, prefilling and decoding alike (a prefill holds its slot and runs on
the same accelerators); calls queued beyond the slots draw nothing more. The curve (TPOT, P) comes
from `instance.curve`.

A tool instance serves `concurrency` calls at once, each for its service time, and draws
idle + (busy − idle) × occupied / concurrency: a tool's profile gives its power at full use, and a
half-used instance is taken to draw half the dynamic power (an estimate; tools have no per-slot
measurements).

`interval` turns one stretch of constant occupancy into a `policy.accounting.Interval` (power and
each call's work in it), which `policy.accounting.attribute` splits into energy and cost.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass

from murakkab.errors import MurakkabError
from murakkab.instance.curve import InstanceCurve
from murakkab.instance.resolve import CurveResolver
from murakkab.plan.schema import Pool
from murakkab.policy.accounting import DEFAULT_PREFILL_WEIGHT, AccountingParams, EnergyBasis, Interval, Tokens

_NONE: Mapping = {}


@dataclass(frozen=True)
class ModelInstanceModel:
    curve: InstanceCurve
    ttft_s: float

    kind = "model"

    def __post_init__(self):
        if self.ttft_s < 0:
            raise MurakkabError(f"TTFT must be >= 0 s, got {self.ttft_s} ({self.curve.basis})")

    @property
    def slots(self) -> int:
        return self.curve.max_num_seqs

    def power_w(self, occupied: int) -> float:
        """Accelerator power of the instance with `occupied` calls in flight (queued calls beyond the
        slots draw nothing more)."""
        return self.curve.power_w[min(max(occupied, 0), self.slots)]

    def tpot_s(self, decoding: int) -> float:
        """Seconds per output token of each decoding call when `decoding` calls decode (at least one:
        the caller's own; more than the slots count as a full instance)."""
        return self.curve.tpot_s[min(max(decoding, 1), self.slots)]

    def mean_power_w(self, occupied: float) -> float:
        """Power at a fractional mean occupancy: P interpolated linearly between whole slot counts
        (the optimizer's expected occupancy of an instance; clamped to 0..slots)."""
        b = min(max(occupied, 0.0), float(self.slots))
        lo = int(b)
        if lo == self.slots:
            return self.curve.power_w[lo]
        p = self.curve.power_w
        return p[lo] + (p[lo + 1] - p[lo]) * (b - lo)

    def work(self, dt: float, prefilling: Mapping[Hashable, float], decoding: Collection[Hashable]) -> dict:
        """Tokens each call processed in `dt` s: a prefilling call (value: its input tokens) prefills
        input × dt / TTFT tokens; a decoding call decodes dt / TPOT(d) tokens, d = calls decoding."""
        out = {}
        if prefilling:
            if self.ttft_s <= 0:
                raise MurakkabError("a call cannot be prefilling on an instance with TTFT 0 (it decodes at once)")
            for c, inp in prefilling.items():
                out[c] = Tokens(prefill=inp * dt / self.ttft_s)
        if decoding:
            per = dt / self.tpot_s(len(decoding))
            for c in decoding:
                out[c] = Tokens(decode=per)
        return out

    def interval(self, t0: float, t1: float, prefilling: Mapping[Hashable, float] = _NONE,
                 running: Collection[Hashable] = (), basis: EnergyBasis = "modelled") -> Interval:
        """[t0, t1) at constant occupancy: `prefilling` maps call -> input tokens, `running` are the
        decoding calls. More calls than slots (a remote server queues some, unseen) draw and decode as a
        full instance, and share its work alike."""
        return Interval(t0, t1, self.power_w(len(prefilling) + len(running)),
                        self.work(t1 - t0, prefilling, running), basis)


@dataclass(frozen=True)
class ToolInstanceModel:
    slots: int
    idle_w: float
    busy_w: float

    kind = "tool"

    def __post_init__(self):
        if self.slots < 1:
            raise MurakkabError(f"a tool instance needs concurrency >= 1, got {self.slots}")
        if self.idle_w < 0 or self.busy_w < 0:
            raise MurakkabError(f"tool power must be >= 0 W, got idle {self.idle_w}, busy {self.busy_w}")

    def power_w(self, occupied: int) -> float:
        """idle + (busy − idle) × occupied / slots (the simulator's arithmetic, in its order)."""
        b = min(max(occupied, 0), self.slots)
        return self.idle_w + (self.busy_w - self.idle_w) * b / self.slots

    def mean_power_w(self, occupied: float) -> float:
        """Power at a fractional mean occupancy (linear, so exact for any distribution of it)."""
        b = min(max(occupied, 0.0), float(self.slots))
        return self.idle_w + (self.busy_w - self.idle_w) * b / self.slots

    def work(self, dt: float, running: Collection[Hashable]) -> dict:
        """Every call in service progresses alike: each is credited `dt` service seconds (as decode
        work, so the prefill weight never applies to tools)."""
        return {c: Tokens(decode=dt) for c in running}

    def interval(self, t0: float, t1: float, prefilling: Mapping[Hashable, float] = _NONE,
                 running: Collection[Hashable] = (), basis: EnergyBasis = "modelled") -> Interval:
        """[t0, t1) with the `running` calls in service (more than the slots: drawn as a full instance)."""
        if prefilling:
            raise MurakkabError("tool calls have no prefill phase")
        return Interval(t0, t1, self.power_w(len(running)), self.work(t1 - t0, running), basis)


InstanceModel = ModelInstanceModel | ToolInstanceModel


def instance_model(pool: Pool, resolver: CurveResolver) -> InstanceModel:
    """The model of one instance of `pool`: a model pool's curve from `resolver`, a tool pool's
    idle/busy power over its concurrency."""
    if pool.kind == "model":
        return ModelInstanceModel(resolver(pool), pool.ttft_s or 0.0)
    if pool.concurrency < 1:
        raise MurakkabError(f"tool pool '{pool.id}' needs concurrency >= 1 (fix: set the pool's concurrency)")
    return ToolInstanceModel(pool.concurrency, pool.power_idle_w, pool.power_busy_w)


def pool_charges(pool: Pool, pue: float, prefill_weight: float = DEFAULT_PREFILL_WEIGHT) -> AccountingParams:
    """What one instance of `pool` adds beyond its accelerators, for `policy.accounting.attribute`: its
    node share (non-accelerator power), the facility's PUE, its price per second, the prefill weight."""
    return AccountingParams(prefill_weight=prefill_weight, node_share_w=pool.node_overhead_w, pue=pue,
                            price_usd_per_s=pool.price_usd_per_hour / 3600.0)
