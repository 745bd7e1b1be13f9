"""Per-call energy and cost attribution for one instance (the one rule of both bodies).

Input: the instance's power timeline as intervals, each with the work every call did in it
(`murakkab.instance` builds them: tokens by phase for a model instance, service seconds for a
tool). Each interval's energy is split among its calls by *weighted tokens*
``prefill_weight × prefill + decode``; an interval with no tokens is idle energy, reported apart
and never charged to calls. Non-GPU node power attributable to the instance (e.g. its share
of CPUs, memory, fans) is added per interval; facility energy = (GPU + node share) × PUE.

Cost follows the same weights: a call pays `price × dt × its weight / all weights` of every interval
it was in, and idle instance time is reported apart (the operator pays it; no call does). One weight
for both means a call's share of an interval's price is its share of the interval's energy, a
prefilling call pays for the slot it holds (a decode-only split would charge it nothing, and an
interval of prefills alone would divide by zero), and the figures are those the simulator's
running integrals produce (instance-seconds per unit weight), so no body changes its numbers.

Invariants: Σ call facility Wh + idle facility Wh = PUE × ∫(GPU power + node share) dt, and
Σ call cost + idle cost = price × ∫ dt.

Default prefill weight 0.1 is an *estimate*: in the packaged splitwise performance model
(profiles/data/splitwise_perf_model/perf_model.csv) a prompt token costs 0.03–0.23 of a decode
token's GPU time at batch sizes 8–64 (Llama2-70B, BLOOM-176B on A100/H100). Pass the profile's own
ratio where known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from murakkab.errors import MurakkabError

EnergyBasis = Literal["measured", "modelled"]
DEFAULT_PREFILL_WEIGHT = 0.1   # estimate, see module docstring
J_PER_WH = 3600.0


@dataclass(frozen=True)
class Tokens:
    """Tokens one request processed in an interval."""
    prefill: float = 0.0
    decode: float = 0.0


@dataclass(frozen=True)
class Interval:
    """[t0, t1) seconds at constant average GPU power of the whole instance.

    `basis` says where power_w came from: "measured" (a power counter or engine-reported energy) or
    "modelled" (profiles)."""
    t0: float
    t1: float
    power_w: float
    tokens: Mapping[str, Tokens] = field(default_factory=dict)
    basis: EnergyBasis = "modelled"


@dataclass(frozen=True)
class AccountingParams:
    prefill_weight: float = DEFAULT_PREFILL_WEIGHT   # cost of a prefill token / a decode token
    node_share_w: float = 0.0                          # non-GPU node power attributed to this instance
    pue: float = 1.0
    price_usd_per_s: float = 0.0                       # the instance's price while allocated


@dataclass(frozen=True)
class EnergyShare:
    """Energy in Wh and cost in $. `basis` is "measured" only if every contributing interval was measured."""
    gpu_wh: float
    node_wh: float           # share of non-GPU node power
    facility_wh: float       # (gpu + node) × PUE
    basis: EnergyBasis
    cost_usd: float = 0.0    # share of the instance's price over the same intervals


@dataclass(frozen=True)
class Attribution:
    requests: dict[str, EnergyShare]
    idle: EnergyShare
    total: EnergyShare       # instance integral, = requests + idle


def _check(params: AccountingParams, intervals: list[Interval]) -> None:
    if params.pue < 1:
        raise MurakkabError(f"PUE must be >= 1 (facility energy includes IT energy), got {params.pue} "
                            "(fix: pass e.g. 1.2)")
    if params.prefill_weight < 0:
        raise MurakkabError(f"prefill_weight must be >= 0, got {params.prefill_weight} (fix: e.g. 0.1)")
    if params.price_usd_per_s < 0:
        raise MurakkabError(f"price_usd_per_s must be >= 0, got {params.price_usd_per_s} (fix: pass 0 if unknown)")
    if params.node_share_w < 0:
        raise MurakkabError(f"node_share_w must be >= 0 W, got {params.node_share_w} (fix: pass 0 if unknown)")
    for i, iv in enumerate(intervals):
        where = f"interval {i} [{iv.t0}, {iv.t1})"
        if iv.t1 < iv.t0:
            raise MurakkabError(f"{where}: ends before it starts (fix: t1 must be >= t0)")
        if iv.power_w < 0:
            raise MurakkabError(f"{where}: negative power {iv.power_w} W (fix: power must be >= 0)")
        if iv.basis not in ("measured", "modelled"):
            raise MurakkabError(f"{where}: basis '{iv.basis}' must be 'measured' or 'modelled'")
        for rid, tok in iv.tokens.items():
            if tok.prefill < 0 or tok.decode < 0:
                raise MurakkabError(f"{where}: request '{rid}' has negative tokens {tok} (fix: counts must be >= 0)")


def merge_basis(a: EnergyBasis | None, b: EnergyBasis) -> EnergyBasis:
    """The basis of a sum of two parts: 'measured' only if every part was measured (None: no part yet)."""
    return b if a is None else ("measured" if a == b == "measured" else "modelled")


def attribute(intervals: Iterable[Interval], params: AccountingParams = AccountingParams()) -> Attribution:
    """Split an instance's energy among the requests it served; idle energy separately.

    Raises MurakkabError on bad input (negative power or tokens, PUE < 1, reversed interval)."""
    ivs = list(intervals)
    _check(params, ivs)
    gpu: dict[str, float] = {}
    node: dict[str, float] = {}
    cost: dict[str, float] = {}
    basis: dict[str, EnergyBasis] = {}
    idle_gpu = idle_node = idle_cost = 0.0
    idle_basis: EnergyBasis | None = None
    total_basis: EnergyBasis | None = None
    for iv in ivs:
        dt = iv.t1 - iv.t0
        e_gpu, e_node = iv.power_w * dt / J_PER_WH, params.node_share_w * dt / J_PER_WH
        usd = params.price_usd_per_s * dt
        total_basis = merge_basis(total_basis, iv.basis)
        weights = {rid: params.prefill_weight * t.prefill + t.decode for rid, t in iv.tokens.items()}
        w_sum = sum(weights.values())
        if w_sum <= 0:   # nothing processed: idle (also prefill-only with weight 0 would land here)
            if any(t.prefill > 0 for t in iv.tokens.values()):
                # weight 0 would hide real prefill work in idle; split by prefill tokens instead
                weights = {rid: t.prefill for rid, t in iv.tokens.items()}
                w_sum = sum(weights.values())
        if w_sum <= 0:
            idle_gpu += e_gpu
            idle_node += e_node
            idle_cost += usd
            idle_basis = merge_basis(idle_basis, iv.basis)
            continue
        for rid, w in weights.items():
            share = w / w_sum
            gpu[rid] = gpu.get(rid, 0.0) + share * e_gpu
            node[rid] = node.get(rid, 0.0) + share * e_node
            cost[rid] = cost.get(rid, 0.0) + share * usd
            basis[rid] = merge_basis(basis.get(rid), iv.basis)

    def share(g: float, n: float, b: EnergyBasis | None, usd: float) -> EnergyShare:
        return EnergyShare(g, n, (g + n) * params.pue, b or "modelled", usd)

    requests = {rid: share(gpu[rid], node[rid], basis[rid], cost[rid]) for rid in gpu}
    span = sum(iv.t1 - iv.t0 for iv in ivs)
    tot_gpu = sum(iv.power_w * (iv.t1 - iv.t0) for iv in ivs) / J_PER_WH
    return Attribution(requests, share(idle_gpu, idle_node, idle_basis, idle_cost),
                       share(tot_gpu, params.node_share_w * span / J_PER_WH, total_basis, params.price_usd_per_s * span))
