"""The accuracy-latency-energy-cost front of one workflow.

A point is a configuration with all its model steps on one pool (model x hardware x parallelism x
operating point) and each tool step on its quickest placement. Per-request figures assume the
pools run at their operating point (fully used), so energy and cost are the request's share of busy
instances: busy instance-seconds x (busy power + node share) x PUE, and x price.
"""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.optimizer.world import WorkflowModel
from murakkab.spec.graph import heaviest_of


@dataclass(frozen=True)
class ParetoPoint:
    config: str
    pool: str                  # the model steps' pool
    hardware: str
    accuracy_percent: float
    latency_p90_s: float
    energy_wh: float
    cost_usd: float
    on_front: bool = False


def points(model: WorkflowModel, pue: float = 1.2) -> list[ParetoPoint]:
    out = []
    for cfg in model.configs:
        llm_steps = [s for s in cfg.steps.values() if s.model and not s.skipped]
        tool_steps = [s for s in cfg.steps.values() if not s.model and not s.skipped]
        tool_pick = {s.task: min(s.choices, key=lambda c: c.latency_p90_s) for s in tool_steps}
        shared = set.intersection(*({c.pool.id for c in s.choices} for s in llm_steps)) if llm_steps else {None}
        for pool_id in sorted(shared, key=str):
            chosen = dict(tool_pick)
            for s in llm_steps:
                chosen[s.task] = next(c for c in s.choices if c.pool.id == pool_id)
            energy = sum(c.busy_s_avg * (c.pool.power_busy_w + c.pool.node_overhead_w) for c in chosen.values()) * pue / 3600.0
            cost = sum(c.busy_s_avg * c.pool.price_usd_per_hour for c in chosen.values()) / 3600.0
            latency = heaviest_of(cfg.paths, {t: c.latency_p90_s for t, c in chosen.items()})
            hw = next((c.pool.hardware.name for s in llm_steps for c in [chosen[s.task]]), "cpu")
            out.append(ParetoPoint(config=cfg.id, pool=pool_id or "tools only", hardware=hw,
                                   accuracy_percent=cfg.profile.accuracy_percent, latency_p90_s=latency,
                                   energy_wh=energy, cost_usd=cost))
    return mark_front(out)


def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
    """a is no worse than b on every objective and better on one."""
    no_worse = (a.accuracy_percent >= b.accuracy_percent and a.latency_p90_s <= b.latency_p90_s
                and a.energy_wh <= b.energy_wh and a.cost_usd <= b.cost_usd)
    better = (a.accuracy_percent > b.accuracy_percent or a.latency_p90_s < b.latency_p90_s
              or a.energy_wh < b.energy_wh or a.cost_usd < b.cost_usd)
    return no_worse and better


def mark_front(pts: list[ParetoPoint]) -> list[ParetoPoint]:
    """The same points with `on_front` set for the non-dominated ones."""
    from dataclasses import replace
    return [replace(p, on_front=not any(dominates(q, p) for q in pts)) for p in pts]


def plot(pts: list[ParetoPoint], workflow: str, path: str) -> str:
    """Write a two-panel PNG: accuracy vs latency and accuracy vs energy, front highlighted."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    front = [p for p in pts if p.on_front]
    rest = [p for p in pts if not p.on_front]
    for ax, attr, label in ((axes[0], "latency_p90_s", "p90 end-to-end latency (s)"),
                            (axes[1], "energy_wh", "energy per request (Wh, at full pool use)")):
        ax.scatter([getattr(p, attr) for p in rest], [p.accuracy_percent for p in rest], s=10, c="#bbbbbb",
                   label="dominated")
        sc = ax.scatter([getattr(p, attr) for p in front], [p.accuracy_percent for p in front], s=28,
                        c=[p.cost_usd * 1000 for p in front], cmap="viridis", label="Pareto front")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("accuracy (%)")
        ax.grid(True, alpha=0.3)
    fig.colorbar(sc, ax=axes[1], label="cost per 1,000 requests ($)")
    axes[0].legend(loc="lower right")
    fig.suptitle(f"{workflow}: accuracy, latency, energy and cost of every configuration x pool")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
