"""Read what the simulator's `write_outputs` (sim/report.py) wrote into a run directory.

A run dir holds summary.json and timeseries.csv, and usually plan.json, requests.csv and steps.csv
(`murakkab demo` leaves requests.csv out: then latency comes from the summary's percentiles and energy
per request from steps.csv). Other files are ignored here. A directory with no summary.json of its own but several run sub-directories is a policy
comparison (what `murakkab demo` writes).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan

REQUIRED = ("summary.json", "timeseries.csv")
SUMMARY_KEYS = ("requests", "facility_mwh", "cost_usd", "peak_gpus_by_type", "gpu_hours_by_type", "slo")


class ReportError(MurakkabError):
    """A run directory that cannot be reported on (missing or malformed files)."""


@dataclass(frozen=True)
class RequestRow:
    workflow: str
    tier: str
    latency_s: float | None        # None: unfinished when the run ended
    slo_met: bool
    gpu_j: float
    node_j: float


@dataclass(frozen=True)
class SeriesRow:
    t_start_s: float
    pool: str
    hardware: str
    units: float
    facility_power_w: float


@dataclass(frozen=True)
class RunData:
    name: str                      # the sub-directory name (or the directory's own name)
    path: Path
    summary: dict
    plan: Plan | None              # None for run dirs written before plan.json was saved
    requests: tuple[RequestRow, ...] | None        # None: the run dir has no requests.csv
    series: tuple[SeriesRow, ...]
    step_joules: dict[tuple[str, str], float]      # (workflow, tier) -> accelerator + node J of its steps

    @property
    def label(self) -> str:
        return str(self.summary.get("label") or self.name)

    @property
    def pue(self) -> float:
        return float(self.summary.get("pue", 1.0))


def _float(v: str) -> float | None:
    return None if v in ("", "None") else float(v)


def _read_csv(path: Path) -> list[dict]:
    text = path.read_text()
    if not text.strip():
        return []                  # write_outputs leaves an empty file when there are no rows
    return list(csv.DictReader(text.splitlines()))


def load_run(path: Path) -> RunData:
    """Read one run directory; raises ReportError naming the missing or malformed file."""
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise ReportError(f"{path} is not a simulation run directory: missing {', '.join(missing)} "
                          "(fix: pass the --out directory of 'murakkab simulate' or a 'murakkab demo' run)")
    try:
        summary = json.loads((path / "summary.json").read_text())
        lacking = [k for k in SUMMARY_KEYS if k not in summary]
        if lacking:
            raise ReportError(f"{path}: summary.json lacks {', '.join(lacking)} (fix: it must be the summary "
                              "'murakkab simulate' wrote; re-run it)")
        plan = Plan.from_json((path / "plan.json").read_text()) if (path / "plan.json").is_file() else None
        reqs = None
        if (path / "requests.csv").is_file():
            reqs = tuple(RequestRow(r["workflow"], r["tier"], _float(r["latency_s"]), r["slo_met"] == "True",
                                    float(r["gpu_j"]), float(r["node_j"])) for r in _read_csv(path / "requests.csv"))
        step_j: dict[tuple[str, str], float] = {}
        if (path / "steps.csv").is_file():
            for r in _read_csv(path / "steps.csv"):
                k = (r["workflow"], r["tier"])
                step_j[k] = step_j.get(k, 0.0) + float(r["gpu_j"]) + float(r["node_j"])
        series = tuple(SeriesRow(float(r["t_start_s"]), r["pool"], r["hardware"], float(r["units"]),
                                 float(r["facility_power_w"])) for r in _read_csv(path / "timeseries.csv"))
    except (ValueError, KeyError) as exc:
        raise ReportError(f"{path}: malformed run file ({type(exc).__name__}: {str(exc).splitlines()[0]}) "
                          "(fix: re-run 'murakkab simulate' into a fresh --out directory)") from None
    return RunData(path.name, path, summary, plan, reqs, series, step_j)


def find_runs(path: Path) -> list[RunData]:
    """One run (a run dir) or several (a directory of run dirs, in name order)."""
    if not path.is_dir():
        raise ReportError(f"{path} is not a directory (fix: pass a run directory written by 'murakkab simulate')")
    if (path / "summary.json").is_file():
        return [load_run(path)]
    subs = sorted(p for p in path.iterdir() if p.is_dir() and (p / "summary.json").is_file())
    if not subs:
        raise ReportError(f"{path} holds no simulation run (no summary.json in it or its sub-directories) "
                          "(fix: run 'murakkab simulate --out DIR' or 'murakkab demo' first)")
    return [load_run(p) for p in subs]
