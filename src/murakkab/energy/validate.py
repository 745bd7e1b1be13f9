"""Leave-one-out validation of the instance model against ML.ENERGY v3 measurements.

For every measured operating point of every (model, hardware, parallelism, precision, task)
profile, predict throughput and energy per token from the *other* operating points of the same
profile (monotone PCHIP over concurrency, `profiles.interpolate.leave_one_out`) and compare with
the measurement. Points at either end of a sweep can only be extrapolated (held at the nearest
remaining point); they are reported separately from interpolated points.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from murakkab.profiles.interpolate import leave_one_out
from murakkab.profiles.mlenergy import load_mlenergy
from murakkab.profiles.schema import ModelProfile


@dataclass(frozen=True)
class LooResult:
    label: str                  # profile key label
    hardware: str
    task: str
    max_num_seqs: int
    source_row: int | None      # ML.ENERGY data row (first row if repeated runs were averaged)
    extrapolated: bool
    tput_measured: float
    tput_predicted: float
    ept_measured: float         # J per output token
    ept_predicted: float

    @property
    def tput_ape(self) -> float:
        return abs(self.tput_predicted - self.tput_measured) / self.tput_measured

    @property
    def ept_ape(self) -> float:
        return abs(self.ept_predicted - self.ept_measured) / self.ept_measured


@dataclass(frozen=True)
class GroupStats:
    hardware: str
    task: str
    extrapolated: bool
    n: int
    tput_mape: float
    ept_mape: float


def loo_results(profiles: list[ModelProfile]) -> tuple[list[LooResult], int]:
    """All leave-one-out predictions, and how many single-point profiles were skipped."""
    out, skipped = [], 0
    for prof in profiles:
        pts = tuple(sorted(prof.points, key=lambda p: p.max_num_seqs))
        if len(pts) < 2:
            skipped += 1
            continue
        for i, p in enumerate(pts):
            est = leave_one_out(pts, i)
            if est.energy_per_token_j is None:
                continue   # no measured energy on the other points: nothing to compare
            out.append(LooResult(prof.key.label(), prof.key.hardware, prof.key.workload, p.max_num_seqs,
                                 p.source.row, est.extrapolated, p.throughput_tok_s, est.throughput_tok_s,
                                 p.energy_per_token_j, est.energy_per_token_j))
    return out, skipped


def group_stats(results: list[LooResult]) -> list[GroupStats]:
    """MAPE per (hardware, task, interpolated|extrapolated), plus "all" rows per hardware and overall."""
    groups: dict[tuple[str, str, bool], list[LooResult]] = defaultdict(list)
    for r in results:
        for hw, task in ((r.hardware, r.task), (r.hardware, "all"), ("all", "all")):
            groups[(hw, task, r.extrapolated)].append(r)
    stats = []
    for (hw, task, ext), rs in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0] == "all", kv[0])):
        stats.append(GroupStats(hw, task, ext, len(rs), sum(r.tput_ape for r in rs) / len(rs),
                                sum(r.ept_ape for r in rs) / len(rs)))
    return stats


def worst(results: list[LooResult], n: int = 10, *, extrapolated: bool | None = False) -> list[LooResult]:
    """The n rows with the largest energy-per-token error (optionally only (non-)extrapolated)."""
    pool = [r for r in results if extrapolated is None or r.extrapolated == extrapolated]
    return sorted(pool, key=lambda r: max(r.ept_ape, r.tput_ape), reverse=True)[:n]


def validate_packaged() -> tuple[list[LooResult], int]:
    """Leave-one-out over the packaged ML.ENERGY table (repeated runs averaged, as the store does)."""
    return loo_results(load_mlenergy(repeats="mean"))
