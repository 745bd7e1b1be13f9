"""The runtime's side of the shared epoch re-optimizer (`policy.reoptimizer.EpochReoptimizer`).

The policy object counts arrivals, keeps the EWMA forecast and moves the fleet through the
cluster (a `PlanView`); this module only supplies the optimizer call it needs: a forecast of
average rates per (workflow, tier) -> `murakkab.optimizer.make_plan`, solved cheaply
(`mip_rel_gap` 1e-2, a time limit) with the running plan's policy, objective, PUE and epoch.
The peak rate planned for each key is its forecast average times the peak/average ratio the
running plan had for that route (1 when unknown): the forecast says nothing about burstiness.
"""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.plan.schema import Plan


@dataclass(frozen=True)
class ReplanSettings:
    epoch_s: float = 3600.0               # model seconds between re-plans
    alpha: float = 0.5                    # EWMA weight of the last epoch's observed rate
    provisioning_delay_s: float = 120.0   # estimate: model load on a warm node (as the autoscaler's)
    mip_rel_gap: float = 1e-2             # cheap re-plans: 1 % from the optimum is enough per epoch
    time_limit_s: float = 10.0

    def __post_init__(self):
        from murakkab.errors import MurakkabError
        if not self.epoch_s > 0:
            raise MurakkabError(f"re-optimizer epoch must be > 0, got {self.epoch_s} s (fix: e.g. --epoch-min 60)")
        if not 0 < self.alpha <= 1:
            raise MurakkabError(f"EWMA alpha must be in (0, 1], got {self.alpha} (fix: e.g. 0.5)")
        if self.provisioning_delay_s < 0 or self.time_limit_s <= 0 or self.mip_rel_gap < 0:
            raise MurakkabError("re-plan settings need provisioning_delay_s >= 0, time_limit_s > 0, mip_rel_gap >= 0")


def peak_ratios(plan: Plan) -> dict[tuple[str, str], float]:
    """Peak/average rate per (workflow, tier key) of a plan's routes (1 where the average is 0)."""
    return {(r.workflow, r.tier.key): (r.rate_peak_rps / r.rate_avg_rps if r.rate_avg_rps > 0 else 1.0)
            for r in plan.routes}


def plan_maker(running: Plan, settings: ReplanSettings, workflows: dict | None = None):
    """forecast -> Plan, shaped like `running` (policy, objective, PUE, epoch, peak ratios).
    `workflows`: the optimizer's ReusedWorkflow per uploaded workflow name the plan routes."""
    ratios = peak_ratios(running)

    def make(forecast: dict[tuple[str, str], float]) -> Plan:
        from murakkab.optimizer.api import Demand, PlanRequest, make_plan
        demand = {k: Demand(peak_rps=v * max(ratios.get(k, 1.0), 1.0), avg_rps=v) for k, v in forecast.items()}
        return make_plan(PlanRequest(demand=demand, policy=running.policy, objective=running.objective,
                                     pue=running.pue, epoch_s=running.epoch_s, mip_rel_gap=settings.mip_rel_gap,
                                     time_limit_s=settings.time_limit_s, workflows=dict(workflows or {})))
    return make
