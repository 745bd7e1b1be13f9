"""Per-node token throughput of frontier-scale models as a log-linear function of output length.

Fit: ``log TPS = a_family + b · log L_out`` by least squares over ML.ENERGY v3 rows, one point per
measured instance configuration (its highest-throughput operating point, i.e. the best serving
point the benchmark found), with per-node throughput = instance throughput × (GPUs per node / GPUs
per instance). ML.ENERGY has no input-length column, so input-length dependence cannot be fitted:
the paper's ``β1 · log L_in`` term is absent and ``L_in`` stays a fixed parameter.

Two variants: *pooled* (one intercept for all models) and *per family* (one intercept per model
family, slope shared, so the slope comes only from length variation within a family).

Outside a family's measured output-length range the rule is a choice (`EXTRAPOLATIONS`):
``flat`` holds TPS at the family's range edge (the paper's assumption of TPS held flat beyond the
measured lengths); ``slope`` carries the fitted slope across the whole fit's length range (lengths
measured for *any* family) and holds it flat beyond that, since no data supports the slope there.
The rows come from the profile store (`murakkab.profiles`), which reads and validates the CSV: an
operating point is one profile point, so the three configurations the file measures twice enter as
the store's averaged point (none of them is a >=200B model, so the packaged fit is unaffected).
Model sizes for the >=200B filter come from `murakkab.profiles.mlenergy.model_facts()`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from murakkab.errors import MurakkabError
from murakkab.names import did_you_mean
from murakkab.profiles.mlenergy import HARDWARE, PACKAGED_FILE, ModelFacts, model_facts
from murakkab.profiles.schema import ModelProfile
from murakkab.profiles.store import load_profiles

TEXT_TASKS = ("lm-arena-chat", "gpqa")
EXTRAPOLATIONS = ("flat", "slope")


def family_of(model_id: str) -> str:
    """Model family: the id without org, precision and chat/thinking release suffixes."""
    name = model_id.split("/")[-1]
    name = re.sub(r"-FP8$", "", name)
    return re.sub(r"-(Instruct|Thinking)-2507$", "", name)


@dataclass(frozen=True)
class FitPoint:
    family: str
    output_len: float
    node_tps: float
    row: int                  # ML.ENERGY row of the chosen operating point (first row if averaged)
    rows: tuple[int, ...] = ()  # every row averaged into it (empty: just `row`)

    def all_rows(self) -> tuple[int, ...]:
        return self.rows or (self.row,)


@dataclass(frozen=True)
class ThroughputFit:
    slope: float                       # b: d log TPS / d log L_out
    intercepts: dict[str, float]       # family (or "pooled") -> a
    points: tuple[FitPoint, ...]
    r2: float
    len_range: tuple[float, float]     # output lengths covered by the data
    source: str                        # provenance line
    family_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)   # per family (or "pooled")

    def families(self) -> list[str]:
        return sorted(self.intercepts)

    def family_range(self, family: str) -> tuple[float, float]:
        """Output lengths measured for `family` (the whole fit's range for "pooled")."""
        self._check(family)
        return self.family_ranges.get(family, self.len_range)

    def tps(self, output_len: np.ndarray | float, family: str = "pooled",
            extrapolation: str = "flat") -> np.ndarray:
        """Per-node tokens/s at the given output length(s).

        ``flat``: lengths outside the family's measured range are held at its edge. ``slope``: the
        fitted slope is used across the fit's whole length range, held flat beyond it."""
        self._check(family)
        if extrapolation not in EXTRAPOLATIONS:
            raise MurakkabError(f"unknown throughput extrapolation '{extrapolation}'"
                                f"{did_you_mean(extrapolation, list(EXTRAPOLATIONS))} "
                                f"(fix: use one of {', '.join(EXTRAPOLATIONS)})")
        lo, hi = self.family_range(family) if extrapolation == "flat" else self.len_range
        length = np.clip(np.asarray(output_len, dtype=float), lo, hi)
        return np.exp(self.intercepts[family] + self.slope * np.log(length))

    def _check(self, family: str) -> None:
        if family not in self.intercepts:
            raise MurakkabError(f"unknown throughput family '{family}'{did_you_mean(family, self.families())}"
                                f" (fix: use one of {', '.join(self.families())})")


def select_points(profiles: Iterable[ModelProfile], facts: Mapping[str, ModelFacts], *, gpu: str = "H100",
                  min_total_params_b: float = 200.0, node_gpus: int = 8,
                  tasks: tuple[str, ...] = TEXT_TASKS) -> tuple[FitPoint, ...]:
    """Best (highest-throughput) operating point of every frontier-scale text configuration.

    `profiles`: ML.ENERGY model profiles (one per measured configuration); `facts`: model id ->
    parameter counts (`model_facts()`); `gpu`: ML.ENERGY GPU name ("H100" or "B200")."""
    if gpu not in HARDWARE:
        raise MurakkabError(f"unknown ML.ENERGY gpu '{gpu}'{did_you_mean(gpu, list(HARDWARE))} "
                            f"(fix: use one of {', '.join(HARDWARE)})")
    out = []
    for prof in profiles:
        k = prof.key
        if k.hardware != HARDWARE[gpu] or k.workload not in tasks or node_gpus % k.gpus:  # must tile the node
            continue
        if k.model not in facts:
            raise MurakkabError(f"no parameter count for model '{k.model}' "
                                "(fix: load facts from the same ML.ENERGY file as the profiles)")
        if facts[k.model].total_params_b < min_total_params_b:
            continue
        # ties (never seen in the packaged data) go to the earliest row, as in the file
        best = max(prof.points, key=lambda pt: (pt.throughput_tok_s, -pt.source.row))
        if best.mean_output_tokens is None:
            raise MurakkabError(f"{best.source.cite()}: no mean output length, cannot place it on the fit "
                                "(fix: pass ML.ENERGY profiles only)")
        out.append(FitPoint(family_of(k.model), best.mean_output_tokens, best.throughput_tok_s * node_gpus / k.gpus,
                            best.source.row, best.source.rows))
    return tuple(sorted(out, key=lambda p: p.row))


def fit_points(points: tuple[FitPoint, ...], *, per_family: bool, source: str = "") -> ThroughputFit:
    """Least-squares log-linear fit. Raises if the data cannot identify a slope."""
    if len(points) < 2:
        raise MurakkabError(f"throughput fit needs at least 2 points, got {len(points)} "
                            "(fix: lower min_total_params_b or include more tasks)")
    fams = sorted({p.family for p in points}) if per_family else ["pooled"]
    x = np.array([math.log(p.output_len) for p in points])
    y = np.array([math.log(p.node_tps) for p in points])
    cols = [x] + [np.array([1.0 if (not per_family or p.family == f) else 0.0 for p in points]) for f in fams]
    design = np.column_stack(cols)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise MurakkabError("throughput fit is not identifiable: no family has two different output lengths "
                            "(fix: use the pooled fit or add data)")
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss_tot if ss_tot > 0 else 1.0
    ranges = {f: (min(p.output_len for p in points if not per_family or p.family == f),
                  max(p.output_len for p in points if not per_family or p.family == f)) for f in fams}
    return ThroughputFit(slope=float(coef[0]), intercepts={f: float(c) for f, c in zip(fams, coef[1:])},
                         points=points, r2=r2, len_range=(math.exp(float(x.min())), math.exp(float(x.max()))),
                         source=source, family_ranges=ranges)


def frontier_fit(per_family: bool = False, *, gpu: str = "H100", min_total_params_b: float = 200.0) -> ThroughputFit:
    """The packaged-data fit used by the estimator (see module docstring)."""
    # the store's ML.ENERGY profiles (repeats averaged), not its splitwise or derived A100 ones
    mlenergy = [p for p in load_profiles().model_profiles if p.points[0].source.file == PACKAGED_FILE]
    pts = select_points(mlenergy, model_facts(), gpu=gpu, min_total_params_b=min_total_params_b)
    src = (f"{PACKAGED_FILE} rows {','.join(str(r) for p in pts for r in p.all_rows())} [derived: log-linear fit, "
           f"{'per-family intercepts' if per_family else 'pooled'}]")
    return fit_points(pts, per_family=per_family, source=src)
