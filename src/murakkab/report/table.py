"""The policy comparison as terminal tables (rich), from `report.compare` rows: what `murakkab demo`
prints. The HTML report renders the same rows (report/html.py)."""

from __future__ import annotations

from rich.table import Table

from murakkab.report.compare import RATIO_HEADER, CompareRow


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def resources_table(rows: list[CompareRow], title: str) -> Table:
    """Peak GPUs by type, MWh, k$, our static ÷ run ratios and the paper's, one row per run."""
    hws = sorted({hw for r in rows for hw in r.peak_gpus_by_type})
    t = Table(title=title)
    for col in ["run", *hws, "GPUs", "MWh", "k$", f"{RATIO_HEADER}: GPUs", "energy", "cost",
                f"paper {RATIO_HEADER}: GPUs", "energy", "cost"]:
        t.add_column(col, justify="left" if col == "run" else "right")
    for r in rows:
        ours, paper = r.static_over_run, r.paper
        t.add_row(r.label, *[str(r.peak_gpus_by_type.get(h, 0)) for h in hws], str(r.peak_gpus),
                  f"{r.facility_mwh:.3f}", f"{r.cost_usd / 1000:.2f}",
                  *(_x(getattr(ours, k)) if ours else "-" for k in ("peak_gpus", "energy", "cost")),
                  *(_x(getattr(paper, k)) if paper else "-" for k in ("gpus", "energy", "cost")))
    return t


def slo_table(rows: list[CompareRow]) -> Table:
    """SLO attainment per (workflow, tier) and overall, delivered accuracy, requests and re-plans."""
    keys = sorted({k for r in rows for k in r.slo_attainment_by_tier})
    t = Table(title="SLO attainment per (workflow, tier) and delivered accuracy")
    for col in ["run", *keys, "all", "accuracy %", "requests", "unfinished", "re-plans"]:
        t.add_column(col.replace(" ", "\n", 1) if col in keys else col, justify="left" if col == "run" else "right")
    for r in rows:
        by, acc, att = r.slo_attainment_by_tier, r.delivered_accuracy_percent, r.slo_attainment
        t.add_row(r.label, *[("-" if k not in by else f"{100 * by[k]:.1f}%") for k in keys],
                  "-" if att is None else f"{100 * att:.1f}%", "-" if acc is None else f"{acc:.1f}",
                  str(r.requests), str(r.unfinished), "-" if r.replans is None else str(r.replans))
    return t
