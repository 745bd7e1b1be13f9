"""Leave-one-model-out: how well is a model's J/token predicted when it was never measured?

For every ML.ENERGY v3 operating point with a measured energy per output token, two predictors are
fitted on the *other* models measured on the same GPU, the same task and the same architecture class
(dense, MoE, hybrid; all classes of that GPU and task when fewer than three other models share it):

- **instance model by size class**: log J/token = a + b·log(active parameters) + c·log(batch) +
  d·log(GPUs), least squares; batch is the point's mean measured batch (the load it ran at);
- **EcoLogits-style**: J/token = α·active parameters + β, least squares on the same rows (the
  form EcoLogits fits, linear in active parameters at one load; its coefficients are not copied).

The error of each point is |predicted − measured| ÷ measured; the summary gives the median and the
90th percentile per predictor, over all points and per architecture class.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from murakkab.profiles.mlenergy import PACKAGED_FILE, load_mlenergy, model_facts

MIN_OTHER_MODELS = 3


@dataclass(frozen=True)
class LomoPoint:
    model: str
    architecture: str
    hardware: str
    task: str
    gpus: int
    batch: float
    measured_j: float
    size_class_j: float        # instance model by size class
    ecologits_j: float         # linear in active parameters
    pooled: bool               # fitted on every architecture (too few of its own)

    @property
    def size_class_error(self) -> float:
        return abs(self.size_class_j - self.measured_j) / self.measured_j

    @property
    def ecologits_error(self) -> float:
        return abs(self.ecologits_j - self.measured_j) / self.measured_j


@cache
def architectures() -> dict[str, str]:
    """Measured model id -> architecture column of the ML.ENERGY table."""
    text = resources.files("murakkab").joinpath(PACKAGED_FILE).read_text(encoding="utf-8")
    return {r["model_id"]: r["architecture"] for r in csv.DictReader(text.splitlines())}


def _rows():
    """(model, architecture, hardware, task, gpus, batch, active params B, J/token) per measured point."""
    facts, arch = model_facts(), architectures()
    out = []
    for p in load_mlenergy(repeats="mean"):
        for pt in p.points:
            if pt.energy_per_token_j is None:
                continue
            out.append((p.key.model, arch[p.key.model], p.key.hardware, p.key.workload, p.key.gpus,
                        pt.avg_batch or float(pt.max_num_seqs), facts[p.key.model].active_params_b,
                        pt.energy_per_token_j))
    return out


def _design(rows) -> np.ndarray:
    return np.array([[1.0, np.log(r[6]), np.log(r[5]), np.log(r[4])] for r in rows])


def leave_one_model_out(rows: list[tuple] | None = None) -> list[LomoPoint]:
    """Every measured point predicted from the other models (`rows` as `_rows()` gives them; the
    packaged ML.ENERGY table when None)."""
    rows = _rows() if rows is None else rows
    out = []
    for held in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == held]
        for hw, task in sorted({(r[2], r[3]) for r in mine}):
            same = [r for r in rows if r[0] != held and r[2] == hw and r[3] == task]
            own = [r for r in same if r[1] == mine[0][1]]
            pooled = len({r[0] for r in own}) < MIN_OTHER_MODELS
            train = same if pooled else own
            if len({r[0] for r in train}) < 2:
                continue   # nothing to learn a size trend from
            coef, *_ = np.linalg.lstsq(_design(train), np.log([r[7] for r in train]), rcond=None)
            sizes = [r[6] for r in train]
            lin = np.polyfit(sizes, [r[7] for r in train], 1) if len(set(sizes)) > 1 else \
                np.array([0.0, statistics.mean(r[7] for r in train)])
            for r in (r for r in mine if r[2] == hw and r[3] == task):
                size_class = float(np.exp(_design([r]) @ coef)[0])
                # a straight line can go negative for small models: floor it at the smallest measured value
                eco = max(float(np.polyval(lin, r[6])), min(t[7] for t in train))
                out.append(LomoPoint(model=held, architecture=r[1], hardware=hw, task=task, gpus=r[4], batch=r[5],
                                     measured_j=r[7], size_class_j=size_class, ecologits_j=eco, pooled=pooled))
    return out


def summary(points: list[LomoPoint]) -> dict[str, dict[str, float]]:
    """Per group ('all' and each architecture): points, models, and median / p90 error of each predictor."""
    groups = {"all": points}
    for a in sorted({p.architecture for p in points}):
        groups[a] = [p for p in points if p.architecture == a]
    out = {}
    for name, ps in groups.items():
        sc = sorted(p.size_class_error for p in ps)
        eco = sorted(p.ecologits_error for p in ps)
        out[name] = {"points": len(ps), "models": len({p.model for p in ps}),
                     "size_class_median": statistics.median(sc), "size_class_p90": sc[int(0.9 * (len(sc) - 1))],
                     "ecologits_median": statistics.median(eco), "ecologits_p90": eco[int(0.9 * (len(eco) - 1))]}
    return out


def main() -> None:  # pragma: no cover - prints the table for docs/benchmarks.md
    s = summary(leave_one_model_out())
    print("| rows | points | models | size-class median | p90 | EcoLogits-style median | p90 |")
    print("|---|---|---|---|---|---|---|")
    for name, v in s.items():
        print(f"| {name} | {v['points']} | {v['models']} | {v['size_class_median']:.1%} | {v['size_class_p90']:.1%} | "
              f"{v['ecologits_median']:.1%} | {v['ecologits_p90']:.1%} |")


if __name__ == "__main__":  # pragma: no cover
    main()
