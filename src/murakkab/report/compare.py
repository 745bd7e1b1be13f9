"""The policy comparison: one row per run dir, with the baseline's figures divided by each run's.

Every comparison in murakkab (the HTML report, `murakkab demo`'s table and files) is built here, from
the runs' own summary.json. Ratios have one direction, `RATIO_HEADER`: static ÷ run, so 2.0x means the
static baseline needs twice the GPUs, energy or dollars of the run (the direction of the paper's
"Static vs Murakkab" figures, which sit beside ours in `paper`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from murakkab.policy.slo import attainment
from murakkab.report.paper import PaperRatios, paper_ratios
from murakkab.report.rundir import RunData

RATIO_HEADER = "static ÷ run"


@dataclass(frozen=True)
class Ratios:
    """Baseline ÷ run for each resource (None where the run's figure is 0)."""
    peak_gpus: float | None
    gpu_hours: float | None
    energy: float | None
    cost: float | None


@dataclass(frozen=True)
class CompareRow:
    run: str                                   # the run directory's name
    label: str
    policy: str | None
    autoscale: bool | None                     # None: a run dir written before summaries said so
    replans: int | None
    requests: int
    unfinished: int
    slo_attainment: float | None               # met ÷ (finished + unfinished)
    slo_attainment_by_tier: dict[str, float]   # "workflow tier" -> met ÷ finished
    peak_gpus: int
    peak_gpus_by_type: dict[str, int]
    gpu_hours: float
    facility_mwh: float
    wh_per_request: float | None
    cost_usd: float
    delivered_accuracy_percent: float | None
    static_over_run: Ratios | None = None      # None without a static baseline
    paper: PaperRatios | None = None           # the paper's static ÷ policy for the same policy, if it has one


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def row_of(run: RunData) -> CompareRow:
    s = run.summary
    n = int(s["requests"])
    unfinished = int(s.get("unfinished", 0))
    met = sum(t["slo_met"] for t in s.get("slo", []))
    policy = s.get("policy") or (run.plan.policy if run.plan else None)
    return CompareRow(run=run.name, label=run.label, policy=policy, autoscale=s.get("autoscale"),
                      replans=s.get("replans"), requests=n, unfinished=unfinished,
                      slo_attainment=attainment(met, n, unfinished),
                      slo_attainment_by_tier={f"{t['workflow']} {t['tier']}": t["attainment"] for t in s.get("slo", [])},
                      peak_gpus=sum(s["peak_gpus_by_type"].values()), peak_gpus_by_type=dict(s["peak_gpus_by_type"]),
                      gpu_hours=sum(s["gpu_hours_by_type"].values()), facility_mwh=float(s["facility_mwh"]),
                      wh_per_request=float(s["facility_mwh"]) * 1e6 / n if n else None, cost_usd=float(s["cost_usd"]),
                      delivered_accuracy_percent=s.get("delivered_accuracy_percent"))


def baseline(runs: list[RunData]) -> RunData | None:
    """The run labelled exactly 'static' (no autoscaler), else the first run of a static plan."""
    for r in runs:
        if r.label == "static":
            return r
    return next((r for r in runs if r.plan is not None and r.plan.policy == "static"), None)


def compare(runs: list[RunData]) -> tuple[list[CompareRow], str | None]:
    """Rows in the runs' order, with static ÷ run ratios when a static baseline exists, and the paper's
    ratios for the policies it reports (only runs known to be without the autoscaler, as in its table);
    returns the rows and the baseline's label (None if absent)."""
    from dataclasses import replace
    rows = [row_of(r) for r in runs]
    base = baseline(runs)
    paper = paper_ratios()
    out = []
    for r in rows:
        pr = paper.get(r.policy) if r.policy and r.autoscale is False else None
        ratios = None
        if base is not None:
            b = row_of(base)
            ratios = Ratios(peak_gpus=_ratio(b.peak_gpus, r.peak_gpus), gpu_hours=_ratio(b.gpu_hours, r.gpu_hours),
                            energy=_ratio(b.facility_mwh, r.facility_mwh), cost=_ratio(b.cost_usd, r.cost_usd))
        out.append(replace(r, static_over_run=ratios, paper=pr))
    return out, base.label if base is not None else None


def _flat(row: CompareRow) -> dict:
    """One CSV row: scalars as they are, ratios as static_over_run_<resource>, dicts spread into columns."""
    f = {k: v for k, v in asdict(row).items()
         if k not in ("static_over_run", "paper", "peak_gpus_by_type", "slo_attainment_by_tier")}
    for k, v in asdict(row.static_over_run or Ratios(None, None, None, None)).items():
        f[f"static_over_run_{k}"] = v
    pr = asdict(row.paper) if row.paper else {}
    for k in ("gpus", "energy", "cost", "source"):
        f[f"paper_static_over_run_{k}" if k != "source" else "paper_source"] = pr.get(k)
    f.update({f"gpus_{hw}": n for hw, n in row.peak_gpus_by_type.items()})
    f.update({f"slo_{k.replace(' ', '_')}": v for k, v in row.slo_attainment_by_tier.items()})
    return f


def write_comparison(rows: list[CompareRow], out: Path) -> list[Path]:
    """comparison.json (the rows as they are) and comparison.csv (one flat row per run) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps({"ratio": RATIO_HEADER, "rows": [asdict(r) for r in rows]},
                                                    indent=2))
    flat = [_flat(r) for r in rows]
    cols = list(dict.fromkeys(k for f in flat for k in f))
    with (out / "comparison.csv").open("w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=cols)
        wr.writeheader()
        wr.writerows(flat)
    return [out / "comparison.json", out / "comparison.csv"]
