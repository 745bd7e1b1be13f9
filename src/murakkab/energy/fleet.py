"""Fleet projection, carbon and efficiency levers: pure arithmetic on per-query energy (Wh)."""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.errors import MurakkabError


@dataclass(frozen=True)
class FleetProjection:
    queries_per_day: float
    long_share: float
    gwh_per_day_baseline: float     # every query is a baseline query
    gwh_per_day_with_long: float    # long_share of queries are long (test-time scaling) queries
    wh_per_query_mixed: float       # mean Wh per query of the mix


def fleet(queries_per_day: float, mean_wh_baseline: float, mean_wh_long: float, long_share: float) -> FleetProjection:
    """Daily energy of a fleet. Uses *means* (totals add means, not medians)."""
    if queries_per_day < 0:
        raise MurakkabError(f"queries_per_day must be >= 0, got {queries_per_day} (fix: pass a count)")
    if not 0 <= long_share <= 1:
        raise MurakkabError(f"long_share must be within 0..1, got {long_share} (fix: e.g. 0.1 for 10%)")
    mixed = (1 - long_share) * mean_wh_baseline + long_share * mean_wh_long
    return FleetProjection(queries_per_day, long_share, queries_per_day * mean_wh_baseline / 1e9,
                           queries_per_day * mixed / 1e9, mixed)


def carbon_g(wh: float, grid_g_per_kwh: float) -> float:
    """gCO2e of `wh` watt-hours at a grid intensity in gCO2e/kWh."""
    if grid_g_per_kwh < 0:
        raise MurakkabError(f"grid intensity must be >= 0 gCO2e/kWh, got {grid_g_per_kwh} (fix: e.g. 400)")
    return wh / 1000.0 * grid_g_per_kwh


@dataclass(frozen=True)
class Lever:
    name: str
    reduction: float         # baseline energy ÷ energy with the lever
    median_wh: float         # baseline median divided by the lever


def levers(median_wh: float, reductions: dict[str, float]) -> tuple[list[Lever], Lever]:
    """Each lever alone and all combined (independent levers multiply)."""
    out, combined = [], 1.0
    for name, r in reductions.items():
        if r <= 0:
            raise MurakkabError(f"lever '{name}' must be a positive reduction factor, got {r} (fix: e.g. 1.5)")
        out.append(Lever(name, r, median_wh / r))
        combined *= r
    return out, Lever("combined", combined, median_wh / combined)
