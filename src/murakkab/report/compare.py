"""The policy comparison table: one row per run, with GPU-hours, energy and cost as ratios to the
`static` run (the hand-sized baseline). All figures come from each run's summary.json."""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.report.rundir import RunData


@dataclass(frozen=True)
class CompareRow:
    run: str
    label: str
    policy: str | None
    requests: int
    unfinished: int
    slo_attainment: float | None
    peak_gpus: int
    gpu_hours: float
    facility_mwh: float
    wh_per_request: float | None
    cost_usd: float
    delivered_accuracy_percent: float | None
    gpu_hours_vs_static: float | None = None
    energy_vs_static: float | None = None
    cost_vs_static: float | None = None


def row_of(run: RunData) -> CompareRow:
    s = run.summary
    n = int(s["requests"])
    met = sum(t["slo_met"] for t in s.get("slo", []))
    denom = n + int(s.get("unfinished", 0))
    return CompareRow(run=run.name, label=run.label, policy=run.plan.policy if run.plan else None, requests=n,
                      unfinished=int(s.get("unfinished", 0)), slo_attainment=met / denom if denom else None,
                      peak_gpus=sum(s["peak_gpus_by_type"].values()), gpu_hours=sum(s["gpu_hours_by_type"].values()),
                      facility_mwh=float(s["facility_mwh"]),
                      wh_per_request=float(s["facility_mwh"]) * 1e6 / n if n else None, cost_usd=float(s["cost_usd"]),
                      delivered_accuracy_percent=s.get("delivered_accuracy_percent"))


def baseline(runs: list[RunData]) -> RunData | None:
    """The run labelled exactly 'static' (no autoscaler), else the first run of a static plan."""
    for r in runs:
        if r.label == "static":
            return r
    return next((r for r in runs if r.plan is not None and r.plan.policy == "static"), None)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def compare(runs: list[RunData]) -> tuple[list[CompareRow], str | None]:
    """Rows (with ratios when a static baseline exists) and the baseline's label (None if absent)."""
    rows = [row_of(r) for r in runs]
    base = baseline(runs)
    if base is None:
        return rows, None
    b = row_of(base)
    from dataclasses import replace
    return [replace(r, gpu_hours_vs_static=_ratio(r.gpu_hours, b.gpu_hours),
                    energy_vs_static=_ratio(r.facility_mwh, b.facility_mwh),
                    cost_vs_static=_ratio(r.cost_usd, b.cost_usd)) for r in rows], base.label
