"""Validation shared by every model-profile loader.

Loaders parse rows into (ProfileKey, OperatingPoint) records; `build_profiles` checks them and groups
them into `ModelProfile`s. Bad values and duplicate operating points raise `ProfileError` naming the
source file and row; non-monotone points are kept and reported as warnings on the profile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from murakkab.errors import ProfileError
from murakkab.profiles.schema import ModelProfile, OperatingPoint, ProfileKey


def read_rows(packaged_file: str, path=None) -> tuple[str, list[dict[str, str]]]:
    """(file name for messages, CSV rows) of a packaged data file (path inside the `murakkab`
    package), or of `path` when given (tests and user-supplied files)."""
    import csv
    from importlib import resources
    if path is None:
        text = resources.files("murakkab").joinpath(packaged_file).read_text(encoding="utf-8")
        return packaged_file, list(csv.DictReader(text.splitlines()))
    with open(path, newline="", encoding="utf-8") as fh:
        return str(path), list(csv.DictReader(fh))


def where(file: str, row: int | None) -> str:
    return f"{file} row {row}" if row is not None else file


def parse_number(file: str, row: int, column: str, cell: str) -> float:
    """A float from a CSV cell, or ProfileError naming file, row and column."""
    try:
        return float(cell)
    except (TypeError, ValueError):
        raise ProfileError(f"{where(file, row)}: column '{column}' is not a number ({cell!r}); "
                           f"fix the cell or remove the row") from None


def check_values(file: str, row: int, values: Mapping[str, float | None]) -> None:
    """Reject NaN, infinite, negative or zero values (None means unknown and is allowed)."""
    for column, value in values.items():
        if value is None:
            continue
        if math.isnan(value) or math.isinf(value):
            raise ProfileError(f"{where(file, row)}: column '{column}' is {value}; "
                               f"a profile needs a finite measured value (fix or remove the row)")
        if value <= 0:
            raise ProfileError(f"{where(file, row)}: column '{column}' is {value:g}, must be > 0 "
                               f"(fix or remove the row)")


def monotone_warnings(points: Iterable[OperatingPoint]) -> list[str]:
    """Warnings for TPOT or throughput falling as the concurrency cap grows (points sorted by cap)."""
    pts = sorted(points, key=lambda p: p.max_num_seqs)
    out = []
    for a, b in zip(pts, pts[1:]):
        ra, rb = a.source.row, b.source.row
        if b.tpot_median_s < a.tpot_median_s:
            out.append(f"TPOT falls from {a.tpot_median_s * 1e3:.2f} ms at max_num_seqs={a.max_num_seqs} "
                       f"(row {ra}) to {b.tpot_median_s * 1e3:.2f} ms at {b.max_num_seqs} (row {rb})")
        if b.throughput_tok_s < a.throughput_tok_s:
            out.append(f"throughput falls from {a.throughput_tok_s:.1f} tok/s at max_num_seqs={a.max_num_seqs} "
                       f"(row {ra}) to {b.throughput_tok_s:.1f} tok/s at {b.max_num_seqs} (row {rb})")
    return out


def build_profiles(file: str, records: Iterable[tuple[ProfileKey, OperatingPoint]],
                   extra_warnings: Mapping[ProfileKey, list[str]] | None = None) -> list[ModelProfile]:
    """Group records into profiles (in first-seen key order), sorted by max_num_seqs.

    Raises ProfileError on two records with the same key and max_num_seqs (naming both rows): a
    loader that means to merge repeated measurements must aggregate them first and say so.
    """
    groups: dict[ProfileKey, dict[int, OperatingPoint]] = {}
    for key, point in records:
        check_values(file, point.source.row, {
            "throughput": point.throughput_tok_s, "power": point.power_w, "tpot": point.tpot_median_s,
            "energy_per_token": point.energy_per_token_j})
        pts = groups.setdefault(key, {})
        if point.max_num_seqs in pts:
            first = pts[point.max_num_seqs].source.row
            raise ProfileError(
                f"{file} row {point.source.row}: duplicate operating point {key.label()} "
                f"max_num_seqs={point.max_num_seqs}, already given by row {first}; "
                f"remove one row or aggregate the repeated measurements explicitly")
        pts[point.max_num_seqs] = point
    extra = extra_warnings or {}
    profiles = []
    for key, pts in groups.items():
        ordered = tuple(pts[n] for n in sorted(pts))
        profiles.append(ModelProfile(key=key, points=ordered,
                                     warnings=tuple(extra.get(key, [])) + tuple(monotone_warnings(ordered))))
    return profiles
