"""The Murakkab paper's scenarios as presets, planned (one epoch), printed next to the paper's figures.

- `paper`: video Q/A + code generation only, demand from the packaged Azure 2023 trace (code ->
  code_gen, every conversation -> video_qa, first hour, x `scale`), 70 % accuracy:good / 30 %
  latency:good; policies: the paper's static baseline (Gemma-3-27B on A100 for both workflows,
  `optimizer/data/static_baseline_paper_gemma.yaml`), our accuracy-matched static baseline, per-workflow
  and joint. Ratios are static ÷ policy against the paper's static, beside arXiv Table 1.
- `h100-sweep`: the same demand, the A100 budget fixed, the H100 budget stepped; energy-optimal joint
  plans. The paper states the direction (as H100s become available energy falls and cost rises); no
  figure of the sweep is packaged, so only the direction is printed beside ours.

These are plans for one epoch at the trace's first-hour rates, not simulated days: compare directions
and ratios with the paper, not digits.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from murakkab.errors import MurakkabError

PAPER_GEMMA = "static_baseline_paper_gemma.yaml"
PAPER_TABLE = "profiles/data/murakkab_paper/policy_comparison.csv"
PAPER_VERSION = "arxiv_2508.18298v2"
PAPER_ROW = {"per-workflow": "Murakkab Opt", "joint": "Murakkab Opt+Mult"}


@dataclass(frozen=True)
class PaperRow:
    label: str
    gpus: int
    kwh: float
    usd: float
    accuracy_percent: float          # request-weighted
    short_routes: int                # routes whose accuracy is below their tier's threshold
    note: str = ""


def paper_demand(scale: float = 1.0, window_min: float = 60.0, slots: int = 1) -> dict:
    """The paper scenario's demand: video_qa (every conversation) and code_gen from the trace."""
    from murakkab.optimizer.api import Demand
    from murakkab.optimizer.demand import demand_from_times
    from murakkab.sim.arrivals import azure_times
    if not scale > 0:
        raise MurakkabError(f"scale must be > 0 (got {scale})")
    times = azure_times(chat_to="video_qa")
    out = {}
    for w in ("video_qa", "code_gen"):
        for key, d in demand_from_times(w, times[w], window_min * 60.0, slots=slots).items():
            out[key] = Demand(d.peak_rps * scale, d.avg_rps * scale, tuple(r * scale for r in d.slot_peaks))
    return out


def _row(label: str, plan, note: str = "") -> PaperRow:
    short = sum(1 for r in plan.routes if r.tier.metric == "accuracy" and r.accuracy_percent < r.tier.threshold - 1e-9)
    gpus = sum(plan.totals.gpus_by_type.values())
    return PaperRow(label, gpus, plan.totals.energy_kwh_per_epoch, plan.totals.cost_usd_per_epoch,
                    plan.totals.accuracy_percent_avg, short, note)


def paper_rows(demand: dict) -> list[PaperRow]:
    from murakkab.optimizer import PlanRequest, make_plan
    from murakkab.optimizer.scenario_files import load_static_baseline
    gemma = load_static_baseline(resources.files("murakkab.optimizer").joinpath("data", PAPER_GEMMA))
    rows = [_row("static (paper: Gemma-3-27B on A100)",
                 make_plan(PlanRequest(demand=demand, policy="static", static_baseline=gemma))),
            _row("static (ours: accuracy-matched)", make_plan(PlanRequest(demand=demand, policy="static")))]
    for policy in ("per-workflow", "joint"):
        rows.append(_row(policy, make_plan(PlanRequest(demand=demand, policy=policy))))
    return rows


def paper_ratios() -> dict[str, tuple[float, float, float]]:
    """policy -> the paper's static ÷ policy (GPUs, energy, cost), arXiv Table 1."""
    text = resources.files("murakkab").joinpath(PAPER_TABLE).read_text(encoding="utf-8")
    rows = {r["policy"]: r for r in csv.DictReader(text.splitlines()) if r["version"] == PAPER_VERSION}
    base = rows["Static"]
    return {p: tuple(float(base[k]) / float(rows[name][k]) for k in ("gpus", "energy_mwh", "cost_k_usd"))
            for p, name in PAPER_ROW.items()}


@dataclass(frozen=True)
class SweepRow:
    h100_budget: int
    a100: int
    h100: int
    kwh: float
    usd: float
    refused: str = ""                # the InfeasiblePlan reason, when no plan fits


def h100_sweep(demand: dict, a100_budget: int, h100_budgets: list[int]) -> list[SweepRow]:
    """Energy-optimal joint plans with the A100 budget fixed and the H100 budget stepped."""
    from murakkab.optimizer import InfeasiblePlan, PlanRequest, make_plan, tiers_for
    if a100_budget < 0 or any(b < 0 for b in h100_budgets):
        raise MurakkabError("budgets must be >= 0")
    # one set of tiers for every step (derived on the whole catalogue): a budget of 0 would otherwise
    # re-derive them on the hardware left, and the rows would not ask for the same service
    tiers = {w: tiers_for(w) for w in sorted({w for w, _ in demand})}
    out = []
    for h in h100_budgets:
        try:
            plan = make_plan(PlanRequest(demand=demand, budgets={"A100-80GB": a100_budget, "H100-80GB": h},
                                         tiers=tiers))
        except InfeasiblePlan as exc:
            out.append(SweepRow(h, 0, 0, float("nan"), float("nan"), refused=str(exc)))
            continue
        g = plan.totals.gpus_by_type
        out.append(SweepRow(h, g.get("A100-80GB", 0), g.get("H100-80GB", 0), plan.totals.energy_kwh_per_epoch,
                            plan.totals.cost_usd_per_epoch))
    return out
