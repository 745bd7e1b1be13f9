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
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from murakkab.energy.mlenergy_rows import CSV_PATH, MlEnergyRow, load_rows
from murakkab.errors import MurakkabError
from murakkab.names import did_you_mean

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
    row: int                  # ML.ENERGY row of the chosen operating point


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


def select_points(rows: tuple[MlEnergyRow, ...], *, gpu: str = "H100", min_total_params_b: float = 200.0,
                  node_gpus: int = 8, tasks: tuple[str, ...] = TEXT_TASKS) -> tuple[FitPoint, ...]:
    """Best (highest-throughput) operating point of every frontier-scale text configuration."""
    best: dict[tuple, MlEnergyRow] = {}
    for r in rows:
        if r.gpu != gpu or r.total_params_b < min_total_params_b or r.task not in tasks:
            continue
        if node_gpus % r.num_gpus:   # instances must tile the node
            continue
        if r.config not in best or r.throughput_tok_s > best[r.config].throughput_tok_s:
            best[r.config] = r
    return tuple(FitPoint(family_of(r.model_id), r.avg_output_len, r.throughput_tok_s * node_gpus / r.num_gpus, r.row)
                 for r in sorted(best.values(), key=lambda r: r.row))


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
    pts = select_points(load_rows(), gpu=gpu, min_total_params_b=min_total_params_b)
    src = (f"{CSV_PATH} rows {','.join(str(p.row) for p in pts)} [derived: log-linear fit, "
           f"{'per-family intercepts' if per_family else 'pooled'}]")
    return fit_points(pts, per_family=per_family, source=src)
