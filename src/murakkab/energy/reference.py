"""Reference figures of arXiv 2509.20241 v1 (Oviedo et al., "Energy Use of AI Inference", a bottom-up
per-query estimate from public data) and their side-by-side comparison.

The paper's figures are published numbers, not parameters: they are compared with, never fed into,
the estimate. A comparison is only like-for-like when the run uses the paper's setting
(`paper_setting_differences` lists what differs).
"""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.energy.estimate import Estimate
from murakkab.energy.fleet import FleetProjection
from murakkab.energy.params import PAPER, EstimateParams

TOLERANCE = 0.20   # the reproduction target: within ±20% of each published figure


@dataclass(frozen=True)
class ReferenceFigure:
    key: str
    label: str
    unit: str
    paper: float
    source: str


# Published in the v1 abstract: chat and test-time-scaling medians per query, and the fleet totals.
PAPER_V1: tuple[ReferenceFigure, ...] = (
    ReferenceFigure("chat_median", "median per query, chat (300 tok)", "Wh", 0.34, f"{PAPER}: median 0.34 Wh"),
    ReferenceFigure("chat_p25", "25th percentile, chat", "Wh", 0.18, f"{PAPER}: IQR 0.18–0.67 Wh"),
    ReferenceFigure("chat_p75", "75th percentile, chat", "Wh", 0.67, f"{PAPER}: IQR 0.18–0.67 Wh"),
    ReferenceFigure("long_median", "median per query, test-time scaling (5,000 tok)", "Wh", 4.32,
                    f"{PAPER}: 4.32 Wh with 15× the tokens"),
    ReferenceFigure("energy_ratio", "test-time scaling energy rise (medians)", "×", 13.0, f"{PAPER}: 13× rise"),
    ReferenceFigure("fleet", "fleet, 1e9 queries/day", "GWh/day", 0.8, f"{PAPER}: ≈0.8 GWh/day"),
    ReferenceFigure("fleet_long", "fleet, 1e9 queries/day, 10% long", "GWh/day", 1.8, f"{PAPER}: 1.8 GWh/day"),
)

# Parameters that define the paper's scenario: the figures above only apply when these match.
_PAPER_SETTING = dict(scenario="chat", output_median=300.0, long_output_median_tokens=5000.0,
                      output_distribution="exponential", input_tokens=500.0, prefill_weight=0.0,
                      node_max_kw=11.3, power_centre_frac=0.7, power_p5_frac=0.4, power_p95_frac=0.9,
                      pue_p5=1.05, pue_p95=1.40, queries_per_day=1e9, long_share=0.10)


@dataclass(frozen=True)
class Comparison:
    figure: ReferenceFigure
    ours: float

    @property
    def rel_diff(self) -> float:
        """(ours − paper) / paper."""
        return (self.ours - self.figure.paper) / self.figure.paper

    @property
    def within_tolerance(self) -> bool:
        return abs(self.rel_diff) <= TOLERANCE


def paper_setting_differences(params: EstimateParams) -> list[str]:
    """Parameters of this run that differ from the paper's scenario, as 'name=ours (paper x)'."""
    out = []
    for name, paper in _PAPER_SETTING.items():
        ours = getattr(params, name)
        if ours != paper:
            out.append(f"{name}={ours} (paper {paper})")
    return out


def compare(est: Estimate, fl: FleetProjection) -> list[Comparison]:
    """Each published v1 figure next to this run's value of the same quantity."""
    ours = {"chat_median": est.baseline.median, "chat_p25": est.baseline.p25, "chat_p75": est.baseline.p75,
            "long_median": est.long.median, "energy_ratio": est.energy_ratio,
            "fleet": fl.gwh_per_day_baseline, "fleet_long": fl.gwh_per_day_with_long}
    return [Comparison(f, ours[f.key]) for f in PAPER_V1]
