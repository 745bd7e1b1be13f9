"""SLO tiers derived from the catalogue, as the Murakkab paper defines them (best, good, fair, basic =
the best value and the 95th, 80th and 50th percentiles of what the catalogue can achieve).

For each workflow, the population is every (configuration, GPU type) pair the catalogue can run:
its accuracy, and its fastest end-to-end latency on that GPU type (each LLM step at its quickest
operating point there, each tool step at its quickest placement). Tiers are the best value and the
95th, 80th and 50th percentiles, mirrored for latency (lower is better: good = 5th percentile).
Latency tiers carry an accuracy floor, the basic accuracy tier, so their percentiles are taken over
the pairs that reach it: every tier is achievable by construction.
"""

from __future__ import annotations

import numpy as np

from murakkab.optimizer.steps import ConfigModel
from murakkab.optimizer.world import WorkflowModel
from murakkab.plan import TierSpec

TIER_NAMES = ("best", "good", "fair", "basic")
TIER_PERCENTILES = {"best": 100.0, "good": 95.0, "fair": 80.0, "basic": 50.0}


def fastest_latency(config: ConfigModel, gpu: str | None = None) -> float | None:
    """Critical-path latency at the SLO quantile with every step on its quickest option
    (LLM steps restricted to `gpu` when given); None if some step cannot run there."""
    per_step = {}
    for task, step in config.steps.items():
        if step.skipped:
            per_step[task] = 0.0
            continue
        choices = [c for c in step.choices
                   if gpu is None or step.model is None or c.pool.hardware.name == gpu]
        if not choices:
            return None
        per_step[task] = min(c.latency_slo_s for c in choices)
    return max(sum(per_step[t] for t in path) for path in config.paths)


def population(model: WorkflowModel) -> list[tuple[ConfigModel, str, float]]:
    """(configuration, GPU type, fastest latency) for every pair that can run."""
    rows = []
    for cfg in model.configs:
        gpus = sorted({c.pool.hardware.name for s in cfg.steps.values() if s.model for c in s.choices})
        for gpu in gpus:
            lat = fastest_latency(cfg, gpu)
            if lat is not None:
                rows.append((cfg, gpu, lat))
    return rows


def derive_tiers(model: WorkflowModel) -> list[TierSpec]:
    """Accuracy and latency tiers (best, good, fair, basic) of one workflow."""
    rows = population(model)
    acc = np.array([cfg.profile.accuracy_percent for cfg, _, _ in rows])
    n = len(rows)
    tiers = []
    floor = float(np.percentile(acc, TIER_PERCENTILES["basic"]))
    # Latency tiers promise the accuracy floor too, so only pairs that reach it set them.
    lat = np.array([latency for cfg, _, latency in rows if cfg.profile.accuracy_percent >= floor - 1e-9])
    n_lat = len(lat)
    for name in TIER_NAMES:
        q = TIER_PERCENTILES[name]
        tiers.append(TierSpec(workflow=model.name, name=name, metric="accuracy",
                              threshold=float(np.percentile(acc, q)),
                              source=f"p{q:g} of accuracy over {n} (configuration, GPU) pairs"))
    for name in TIER_NAMES:
        q = 100.0 - TIER_PERCENTILES[name]
        tiers.append(TierSpec(workflow=model.name, name=name, metric="latency",
                              threshold=float(np.percentile(lat, q)), accuracy_floor=floor,
                              source=f"p{q:g} of fastest latency over the {n_lat} (configuration, GPU) pairs "
                                     f"that reach the accuracy floor (= basic accuracy tier)"))
    return tiers


def tier_by_key(tiers: list[TierSpec], key: str) -> TierSpec:
    """Find a tier by 'metric:name' (e.g. 'accuracy:good')."""
    for t in tiers:
        if t.key == key:
            return t
    from murakkab.errors import MurakkabError
    raise MurakkabError(f"unknown tier '{key}'; known: {', '.join(t.key for t in tiers)}")
