"""A100-80GB / H100 ratios fitted to measured pairs of the same models (derived, with residuals).

Two ratios turn an H100 operating point into an A100-80GB one at the same GPU count and batch:

- **power per GPU**, A100 ÷ H100, rises with load: fitted as `a + c·log2(batch)` over the GPU-bound
  pairs (Argonne LLM-Inference-Bench, batch 1–64), held at the end values outside that range;
- **throughput**, H100 ÷ A100, is that of a memory-bound decode: `k ×` the HBM bandwidth ratio of the
  two GPUs, `k` fitted over two GPU-bound sources, Argonne (A100-40GB, TP1, 7–8B) and the Splitwise
  performance model (A100-80GB, TP2/4/8, 70B and 176B). One `k` fits both to a few per cent, while a fit
  by GPU count alone would mistake the A100 memory variant (40 GB in every TP1 pair, 80 GB in every
  TP≥2 pair) for an effect of the GPU count.

Weights follow the caveats of the measurement folder's README (C1–C4): ML.ENERGY v2 pairs are
CPU-bound (the H100 runs at a third of its v3 throughput) so they get weight 0 and serve only as an
out-of-regime check; pairs where the 40 GB A100 needs more GPUs than the H100 are left out (the
A100-80GB runs at the H100's GPU count); Argonne Llama-2-7B at batch ≥ 32 gets weight 0 (its KV cache
does not fit the 40 GB A100). Each of the two throughput sources weighs 1 in total.
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass
from functools import cache
from importlib import resources

PAIRS_FILE = "profiles/data/a100_measured/a100_h100_matched_pairs.csv"
SPLITWISE_FILE = "profiles/data/splitwise_perf_model/perf_model.csv"
ARGONNE, V2, SPLITWISE = "Argonne", "ML.ENERGY v2", "Splitwise"

# HBM bandwidth, GB/s (NVIDIA datasheets, SXM parts)
BANDWIDTH_GB_S = {"A100-40GB": 1555.0, "A100-80GB": 2039.0, "H100-80GB": 3350.0}
BANDWIDTH_SOURCE = "NVIDIA A100 datasheet (40GB SXM 1,555 GB/s; 80GB SXM 2,039 GB/s); H100 SXM datasheet (3.35 TB/s)"
# the measured batch range of the GPU-bound power pairs: the power line is held flat outside it
POWER_BATCH_RANGE = (1, 64)


@dataclass(frozen=True)
class Pair:
    """One measured A100/H100 pair at the same load."""
    source: str                  # ARGONNE, V2 or SPLITWISE
    engine: str
    model: str
    batch: int                   # max concurrency (Argonne, v2) or batch size (Splitwise)
    gpus: int                    # per GPU type (same count on both)
    a100: str                    # A100 variant, a key of BANDWIDTH_GB_S
    throughput_ratio: float      # H100 ÷ A100 output tokens/s
    power_ratio: float | None    # A100 ÷ H100 W per GPU; None where not measured (Splitwise H100)
    energy_ratio: float | None   # A100 ÷ H100 J per output token
    weight: float                # in the fit (0: a check only)
    why: str                     # the reason for the weight
    row: int                     # 1-based data row of its file (Splitwise: first row of the A100 point)


@dataclass(frozen=True)
class A100Fit:
    power_intercept: float       # a in a + c·log2(batch)
    power_slope: float           # c
    bandwidth_share: float       # k: H100÷A100 throughput = k × bandwidth ratio
    pairs: tuple[Pair, ...]

    def power_ratio(self, batch: float) -> float:
        lo, hi = POWER_BATCH_RANGE
        return self.power_intercept + self.power_slope * math.log2(min(max(batch, lo), hi))

    def throughput_ratio(self, a100: str = "A100-80GB") -> float:
        return self.bandwidth_share * BANDWIDTH_GB_S["H100-80GB"] / BANDWIDTH_GB_S[a100]

    def predicted(self, pair: Pair) -> tuple[float, float | None, float | None]:
        """(throughput, power, energy) ratios the fit gives for a measured pair's variant and load."""
        t = self.throughput_ratio(pair.a100)
        p = self.power_ratio(pair.batch) if pair.power_ratio is not None else None
        return t, p, (None if p is None else p * t)

    def rule(self) -> str:
        return (f"power per GPU x ({self.power_intercept:.3f} + {self.power_slope:.4f} log2 batch, batch held in "
                f"{POWER_BATCH_RANGE[0]}-{POWER_BATCH_RANGE[1]}); throughput / {self.throughput_ratio():.3f} "
                f"(= {self.bandwidth_share:.3f} x HBM bandwidth ratio {BANDWIDTH_GB_S['H100-80GB']:g}/"
                f"{BANDWIDTH_GB_S['A100-80GB']:g}); fitted on {sum(p.weight > 0 for p in self.pairs)} GPU-bound "
                f"A100/H100 pairs (profiles/a100_fit.py)")


def _read(path: str) -> list[dict[str, str]]:
    text = resources.files("murakkab").joinpath(path).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _measured_pairs() -> list[Pair]:
    out = []
    for i, r in enumerate(_read(PAIRS_FILE), start=1):
        gpus_a, gpus_h = int(r["a100_gpu_count"]), int(r["h100_gpu_count"])
        if gpus_a != gpus_h:
            continue   # the 40 GB A100 needed more GPUs: not the A100-80GB's regime (C3)
        source = ARGONNE if r["dataset"].startswith("Argonne") else V2
        batch = int(r["max_concurrency"])
        if source == V2:
            weight, why = 0.0, "C1: CPU-bound stack, H100 advantage compressed (check only)"
        elif "Llama-2-7b" in r["model"] and batch >= 32:
            weight, why = 0.0, "C4: KV cache does not fit the 40 GB A100 (check only)"
        else:
            weight, why = 1.0, "GPU-bound"
        out.append(Pair(source=source, engine=r["engine"], model=r["model"], batch=batch, gpus=gpus_a,
                        a100="A100-40GB", throughput_ratio=float(r["ratio_tok_s_h100_over_a100"]),
                        power_ratio=float(r["ratio_w_per_gpu_a100_over_h100"]),
                        energy_ratio=float(r["ratio_j_per_tok_a100_over_h100"]), weight=weight, why=why, row=i))
    return out


def _splitwise_pairs() -> list[Pair]:
    """Token-time pairs of the Splitwise performance model (prompt 512, 128 tokens, same TP and batch):
    the median of the repeated runs on each GPU. The H100 rows carry no power."""
    times: dict[tuple[str, str, int, int], list[float]] = {}
    first_row: dict[tuple[str, str, int, int], int] = {}
    for i, r in enumerate(_read(SPLITWISE_FILE), start=1):
        if r["prompt_size"] != "512" or r["token_size"] != "128":
            continue
        key = (r["model"], r["hardware"], int(r["tensor_parallel"]), int(r["batch_size"]))
        times.setdefault(key, []).append(float(r["token_time"]))
        first_row.setdefault(key, i)
    out = []
    for (model, hw, tp, batch), values in sorted(times.items()):
        twin = (model, "h100-80gb", tp, batch)
        if hw != "a100-80gb" or twin not in times:
            continue
        out.append(Pair(source=SPLITWISE, engine="splitwise-sim perf model", model=model, batch=batch, gpus=tp,
                        a100="A100-80GB", throughput_ratio=statistics.median(values) / statistics.median(times[twin]),
                        power_ratio=None, energy_ratio=None, weight=1.0, why="GPU-bound (token time only)",
                        row=first_row[(model, hw, tp, batch)]))
    return out


def fit_pairs(pairs: list[Pair]) -> A100Fit:
    """Weighted least squares of the power line, and the weighted mean log bandwidth share with each
    source weighing 1 in total."""
    pw = [(p.batch, p.power_ratio, p.weight) for p in pairs if p.weight > 0 and p.power_ratio is not None]
    if len(pw) < 2:
        raise ValueError("the A100 power fit needs at least two weighted pairs with power")
    xs = [math.log2(b) for b, _, _ in pw]
    ws = [w for _, _, w in pw]
    sw = sum(ws)
    mx = sum(w * x for x, w in zip(xs, ws)) / sw
    my = sum(w * y for (_, y, w) in pw) / sw
    sxx = sum(w * (x - mx) ** 2 for x, w in zip(xs, ws))
    slope = sum(w * (x - mx) * (y - my) for x, (_, y, w) in zip(xs, pw)) / sxx if sxx > 0 else 0.0
    tp = [p for p in pairs if p.weight > 0]
    per_source = {s: sum(p.weight for p in tp if p.source == s) for s in {p.source for p in tp}}
    num = sum(p.weight / per_source[p.source] * math.log(
        p.throughput_ratio * BANDWIDTH_GB_S[p.a100] / BANDWIDTH_GB_S["H100-80GB"]) for p in tp)
    k = math.exp(num / len(per_source))
    return A100Fit(power_intercept=my - slope * mx, power_slope=slope, bandwidth_share=k, pairs=tuple(pairs))


@cache
def a100_fit() -> A100Fit:
    """The fit over the packaged measured pairs."""
    return fit_pairs(_measured_pairs() + _splitwise_pairs())


def residuals(fit: A100Fit) -> list[dict]:
    """Per pair: measured and fitted ratios and the relative error (fitted ÷ measured − 1)."""
    out = []
    for p in fit.pairs:
        t, pw, e = fit.predicted(p)
        out.append({"source": p.source, "engine": p.engine, "model": p.model, "batch": p.batch, "gpus": p.gpus,
                    "a100": p.a100, "weight": p.weight, "why": p.why,
                    "throughput": (p.throughput_ratio, t, t / p.throughput_ratio - 1),
                    "power": None if pw is None else (p.power_ratio, pw, pw / p.power_ratio - 1),
                    "energy": None if e is None else (p.energy_ratio, e, e / p.energy_ratio - 1)})
    return out
