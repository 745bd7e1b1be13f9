"""The paper's own policy comparison (arXiv 2508.18298v2, Table 1), packaged with its provenance in
profiles/data/murakkab_paper/policy_comparison.csv, as static ÷ policy ratios beside ours."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from murakkab.errors import MurakkabError

# our policy name -> the paper's row it corresponds to (per-workflow optimisation; joint with multiplexing)
PAPER_ROW_FOR = {"per-workflow": "Murakkab Opt", "joint": "Murakkab Opt+Mult"}


@dataclass(frozen=True)
class PaperRatios:
    """The paper's Static ÷ policy for GPUs, energy and cost, and the table and rows they come from."""
    gpus: float
    energy: float
    cost: float
    source: str


def paper_ratios() -> dict[str, PaperRatios]:
    """Static ÷ policy from the packaged table's arXiv rows, keyed by our policy name."""
    path = resources.files("murakkab.profiles").joinpath("data/murakkab_paper/policy_comparison.csv")
    with path.open() as fh:
        rows = {r["policy"]: r for r in csv.DictReader(fh) if r["version"].startswith("arxiv")}
    missing = [p for p in ("Static", *PAPER_ROW_FOR.values()) if p not in rows]
    if missing:
        raise MurakkabError(f"the packaged paper table has no arXiv row for {', '.join(missing)} "
                            "(fix: restore profiles/data/murakkab_paper/policy_comparison.csv)")
    st = rows["Static"]
    return {ours: PaperRatios(gpus=float(st["gpus"]) / float(rows[theirs]["gpus"]),
                              energy=float(st["energy_mwh"]) / float(rows[theirs]["energy_mwh"]),
                              cost=float(st["cost_k_usd"]) / float(rows[theirs]["cost_k_usd"]),
                              source=f"{rows[theirs]['source_table']}: Static / {theirs} ({rows[theirs]['version']})")
            for ours, theirs in PAPER_ROW_FOR.items()}
