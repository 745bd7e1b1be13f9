"""Parameters of the per-query energy estimate (arXiv 2509.20241 v1 methodology), with sources.

Defaults reproduce the paper's v1 parameter table (8xH100 node at 11.3 kW peak, node power log-normal
around 0.7 of peak, PUE 1.05-1.40, exponential output lengths). Every field can be overridden
from the command line or a YAML file; `PARAM_SOURCES` says where each default comes from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from murakkab.errors import MurakkabError

SCENARIO_OUTPUT_MEDIAN = {"chat": 300.0, "reasoning": 5000.0}
DEFAULT_THROUGHPUT_FAMILY = "Llama-3.1-405B-Instruct"

PAPER = "arXiv 2509.20241 v1"
PARAM_SOURCES: dict[str, str] = {
    "output_median_tokens": f"{PAPER}: exponential, median 300 (chat) / 5,000 (test-time scaling)",
    "long_output_median_tokens": f"{PAPER}: test-time scaling median 5,000",
    "input_tokens": f"{PAPER}: fixed 500",
    "prefill_weight": "estimate: 0 = paper's L_eff ≈ L_out (prefill folded into TPS)",
    "node_max_kw": f"{PAPER}: 11.3 kW for 8×H100 (our hardware.csv says 10.2 kW for a DGX H100)",
    "power_centre_frac": f"{PAPER}: log-normal centred at 0.7·P_max",
    "power_p5_frac": f"{PAPER}: 5th percentile 0.4·P_max",
    "power_p95_frac": f"{PAPER}: 95th percentile 0.9·P_max",
    "pue_p5": f"{PAPER}: PUE 5th percentile 1.05",
    "pue_p95": f"{PAPER}: PUE 95th percentile 1.40",
    "throughput_family": ("derived: dense frontier class = Llama-3.1-405B-Instruct (FP8, 8×H100, ML.ENERGY v3 "
                          "row 397), the one dense >200B model we measured, as in the paper's >200B class "
                          "(DeepSeek-R1, Llama 3.1 405B, Nemotron Ultra); 'pooled' = all >=200B H100 rows, "
                          "mostly MoE (docs/energy.md)"),
    "throughput_extrapolation": (f"{PAPER}: TPS held flat beyond the measured output lengths ('flat'; stated for the "
                                 "later version, unverified for v1); "
                                 "'slope' extends the fitted log-linear slope instead"),
    "draws": "estimate: 10^4 draws for stable quartiles",
    "queries_per_day": f"{PAPER}: 1 billion queries/day",
    "long_share": f"{PAPER}: 10% long queries",
    "grid_g_per_kwh": "estimate: 400 gCO2e/kWh, a round mid-range grid intensity; set your own",
    "lever_model": "estimate: low end of the paper's 1.5–3.5× per lever",
    "lever_platform": "estimate: low end of the paper's 1.5–3.5× per lever",
    "lever_hardware": "estimate: low end of the paper's 1.5–3.5× per lever",
}


class EstimateParams(BaseModel):
    """All knobs of `murakkab energy estimate`. Fractions are of the node's maximum power."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: Literal["chat", "reasoning"] = "chat"
    output_median_tokens: float | None = Field(default=None, gt=0)   # None: scenario default
    long_output_median_tokens: float = Field(default=5000.0, gt=0)
    output_distribution: Literal["exponential", "fixed"] = "exponential"
    input_tokens: float = Field(default=500.0, ge=0)
    prefill_weight: float = Field(default=0.0, ge=0)   # L_eff = L_out + prefill_weight × L_in
    node_max_kw: float = Field(default=11.3, gt=0)
    power_centre_frac: float = Field(default=0.7, gt=0, le=1)
    power_p5_frac: float = Field(default=0.4, gt=0, le=1)
    power_p95_frac: float = Field(default=0.9, gt=0, le=1)
    pue_p5: float = Field(default=1.05, ge=1)
    pue_p95: float = Field(default=1.40, ge=1)
    # Dense frontier class by default (docs/energy.md); "pooled" or any family of the per-family fit.
    throughput_family: str = DEFAULT_THROUGHPUT_FAMILY
    throughput_extrapolation: Literal["flat", "slope"] = "flat"   # beyond the family's measured lengths
    throughput_tok_s: float | None = Field(default=None, gt=0)   # fixed per-node TPS, bypasses the fit
    draws: int = Field(default=10_000, ge=1, le=10_000_000)
    seed: int = 0
    queries_per_day: float = Field(default=1e9, ge=0)
    long_share: float = Field(default=0.10, ge=0, le=1)
    grid_g_per_kwh: float = Field(default=400.0, ge=0)
    lever_model: float = Field(default=1.5, gt=0)
    lever_platform: float = Field(default=1.5, gt=0)
    lever_hardware: float = Field(default=1.5, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "EstimateParams":
        if not self.power_p5_frac <= self.power_centre_frac <= self.power_p95_frac:
            raise ValueError("node power fractions must satisfy power_p5_frac <= power_centre_frac <= "
                             f"power_p95_frac, got {self.power_p5_frac}, {self.power_centre_frac}, "
                             f"{self.power_p95_frac}")
        if self.pue_p5 > self.pue_p95:
            raise ValueError(f"pue_p5 ({self.pue_p5}) must not exceed pue_p95 ({self.pue_p95})")
        return self

    @property
    def output_median(self) -> float:
        return self.output_median_tokens or SCENARIO_OUTPUT_MEDIAN[self.scenario]


def make_params(overrides: dict[str, Any] | None = None, *, config: Path | None = None) -> EstimateParams:
    """Build parameters from an optional YAML file, then `overrides` (None values ignored).

    Raises MurakkabError naming each bad field and the rule it breaks; nothing is half-applied."""
    values: dict[str, Any] = {}
    if config is not None:
        try:
            loaded = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise MurakkabError(f"cannot read energy config {config}: {exc.strerror} (fix: check the path)") from exc
        except yaml.YAMLError as exc:
            raise MurakkabError(f"{config}: not valid YAML: {exc} (fix: correct the syntax)") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise MurakkabError(f"{config}: must be a mapping of parameter: value "
                                f"(fix: e.g. 'pue_p5: 1.1'; known: {', '.join(EstimateParams.model_fields)})")
        values.update(loaded)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return EstimateParams(**values)
    except ValidationError as exc:
        where = f"{config}: " if config else ""
        parts = []
        for e in exc.errors():
            field = ".".join(str(x) for x in e["loc"]) or "parameters"
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = f"unknown parameter (known: {', '.join(EstimateParams.model_fields)})"
            parts.append(f"{field}: {msg}")
        raise MurakkabError(f"{where}invalid energy parameters: " + "; ".join(parts)
                            + " (fix: change the value(s) named above)") from None
