"""Run summary, time series and CSV/Parquet files of a simulation (the run directory's data).

Charts and comparisons of run directories are drawn by `murakkab.report`, which reads these files.

All energy here is modelled (simulation of profiles), never measured. Facility energy =
(GPU energy + non-GPU node power × instance time) × PUE. Cost = instance-hours × price, for every
allocated instance (provisioning, busy, idle or draining). GPU counts are allocated accelerator units
(instances × units per instance) on GPU hardware; CPU-node tools are counted apart.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from murakkab.policy.slo import SloRule, attainment
from murakkab.sim.engine import STEP_FIELDS, SimResult

J_PER_MWH = 3.6e9


def _is_gpu(hardware: str) -> bool:
    try:
        from murakkab.catalog import load_catalog
        hw = load_catalog().hardware.get(hardware)
        if hw is not None:
            return hw.kind == "gpu"
    except Exception:  # noqa: BLE001 - catalogue unreadable: fall back on the naming convention
        pass
    return not hardware.upper().startswith("CPU")


@dataclass
class TierStats:
    workflow: str
    tier: str
    requests: int
    slo_met: int
    attainment: float
    slo: str
    latency_p50_s: float | None
    latency_p90_s: float | None
    latency_p99_s: float | None
    accuracy_percent: float


@dataclass
class RunSummary:
    label: str
    horizon_s: float
    end_s: float
    requests: int
    unfinished: int
    peak_gpus_by_type: dict[str, int]
    gpu_hours_by_type: dict[str, float]
    peak_cpu_nodes_by_type: dict[str, int]
    instance_mwh: float        # accelerators of model pools + tool instances (GPU or CPU node), no node overhead
    node_mwh: float
    idle_instance_mwh: float
    facility_mwh: float
    pue: float
    cost_usd: float
    delivered_accuracy_percent: float | None
    slo: list[TierStats]
    policy: str = ""               # the plan's policy (re-plans keep it)
    autoscale: bool = False        # the reactive autoscaler was on
    replans: int = 0               # re-plans the epoch re-optimizer made
    energy_basis: str = "modelled (simulation of profiles)"
    notes: list[str] = field(default_factory=list)

    @property
    def peak_gpus(self) -> int:
        return sum(self.peak_gpus_by_type.values())

    @property
    def slo_attainment(self) -> float | None:
        return attainment(sum(s.slo_met for s in self.slo), sum(s.requests for s in self.slo), self.unfinished)


def _pct(sorted_vals: list[float], q: float) -> float | None:
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[i]


def _peaks(res: SimResult, gpu: bool) -> dict[str, int]:
    events: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for i in res.instances:
        if _is_gpu(i.hardware) == gpu:
            events[i.hardware] += [(i.alloc_s, i.units), (i.release_s, -i.units)]
    peaks = {}
    for hw, ev in events.items():
        ev.sort(key=lambda e: (e[0], e[1]))   # releases before allocations at the same instant
        cur = best = 0
        for _, d in ev:
            cur += d
            best = max(best, cur)
        peaks[hw] = best
    return dict(sorted(peaks.items()))


def summarize(res: SimResult, label: str = "run") -> RunSummary:
    pue = res.plan.pue
    gpu_j = sum(i.energy_j for i in res.instances)
    idle_j = sum(i.idle_j for i in res.instances)
    node_j = sum(i.node_w * (i.release_s - i.alloc_s) for i in res.instances)
    cost = sum(i.price_usd_per_s * (i.release_s - i.alloc_s) for i in res.instances)
    gpu_h: dict[str, float] = defaultdict(float)
    for i in res.instances:
        if _is_gpu(i.hardware):
            gpu_h[i.hardware] += i.units * (i.release_s - i.alloc_s) / 3600.0
    by_tier: dict[tuple[str, str], list] = defaultdict(list)
    for r in res.requests:
        by_tier[(r.workflow, r.tier)].append(r)
    stats, acc_sum = [], 0.0
    for (wf, tier), rs in sorted(by_tier.items()):
        route = res.routes[(wf, tier)]
        lats = sorted(r.latency_s for r in rs)
        met = sum(r.slo_met for r in rs)
        stats.append(TierStats(wf, tier, len(rs), met, attainment(met, len(rs)), SloRule.of_route(route).describe(), _pct(lats, 0.5), _pct(lats, 0.9),
                               _pct(lats, 0.99), route.accuracy_percent))
        acc_sum += route.accuracy_percent * len(rs)
    n = len(res.requests)
    return RunSummary(label=label, horizon_s=res.horizon_s, end_s=res.end_s, requests=n, unfinished=res.unfinished,
                      peak_gpus_by_type=_peaks(res, True), gpu_hours_by_type=dict(sorted(gpu_h.items())),
                      peak_cpu_nodes_by_type=_peaks(res, False), instance_mwh=gpu_j / J_PER_MWH,
                      node_mwh=node_j / J_PER_MWH, idle_instance_mwh=idle_j / J_PER_MWH,
                      facility_mwh=(gpu_j + node_j) * pue / J_PER_MWH, pue=pue, cost_usd=cost,
                      delivered_accuracy_percent=acc_sum / n if n else None, slo=stats, policy=res.plan.policy,
                      autoscale=res.config.autoscale, replans=len(res.forecasts))


def timeseries(res: SimResult) -> list[dict]:
    """Per bin and pool: mean instances and units allocated, mean GPU and facility power (W)."""
    w = res.config.bin_s
    nbins = max(1, math.ceil(res.end_s / w))
    rows: dict[tuple[int, str], dict] = {}
    for i in res.instances:
        b0, b1 = int(i.alloc_s // w), min(nbins - 1, int(max(i.release_s - 1e-9, i.alloc_s) // w))
        for b in range(b0, b1 + 1):
            lo, hi = max(b * w, i.alloc_s), min((b + 1) * w, i.release_s)
            frac = max(hi - lo, 0.0) / w
            gj = i.bins_j[b] if b < len(i.bins_j) else 0.0
            row = rows.setdefault((b, i.pool), {"t_start_s": b * w, "pool": i.pool, "hardware": i.hardware,
                                                "instances": 0.0, "units": 0.0, "gpu_power_w": 0.0,
                                                "facility_power_w": 0.0})
            row["instances"] += frac
            row["units"] += frac * i.units
            row["gpu_power_w"] += gj / w
            row["facility_power_w"] += (gj / w + i.node_w * frac) * res.plan.pue
    return [rows[k] for k in sorted(rows)]


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with path.open("w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)


def _parquet(path: Path, rows: list[dict]) -> bool:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    if rows:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return True


def write_outputs(res: SimResult, summary: RunSummary, out: Path, per_request: bool = True) -> list[Path]:
    """Write summary.json, plan.json (the plan that was run), requests.csv, steps.csv, timeseries.csv and
    instance_power.csv (+ .parquet when pyarrow is installed) into `out`; returns the files written.
    `per_request=False` leaves out the two large files (requests.csv, one row per request;
    instance_power.csv, one row per instance and bin). `murakkab.report.write_report` draws the charts."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=2))
    files.append(out / "summary.json")
    # the plan makes the run dir self-describing: `murakkab report` draws its DAGs and pools from it
    (out / "plan.json").write_text(res.plan.to_json())
    files.append(out / "plan.json")
    req_rows = [asdict(r) for r in res.requests] if per_request else None
    step_rows = [{"workflow": k[0], "tier": k[1], "task": k[2], **dict(zip(STEP_FIELDS, v))}
                 for k, v in sorted(res.steps.items())]
    ts_rows = timeseries(res)
    inst_rows = [{"t_start_s": b * res.config.bin_s, "instance": i.id, "pool": i.pool, "hardware": i.hardware,
                  "gpu_power_w": j / res.config.bin_s} for i in res.instances for b, j in enumerate(i.bins_j)
                 ] if per_request else None
    for name, rows in (("requests", req_rows), ("steps", step_rows), ("timeseries", ts_rows),
                       ("instance_power", inst_rows)):
        if rows is None:
            continue
        _write_csv(out / f"{name}.csv", rows)
        files.append(out / f"{name}.csv")
        if _parquet(out / f"{name}.parquet", rows):
            files.append(out / f"{name}.parquet")
    return files
