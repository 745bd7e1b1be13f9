"""One re-plan path for the demo, `murakkab simulate` and `murakkab serve`: the settings (validated
here, once), the plan maker (forecast -> Plan through the optimizer) and the epoch re-optimizer built
from them. The fleet moves to each new plan by `policy.actuation.actuate`; arrivals that rise beyond
the running plan re-plan early by the re-optimizer's deviation trigger (`check_s`).

Peak rule (the forecast gives average rates only, so a re-plan must choose the peak it sizes for):
`peak_factor` set -> forecast × peak_factor (the demo: 1.3, an estimate of the hour-ahead rise a
lagging EWMA misses); None -> forecast × the peak/average ratio the running plan had for that route
(1 when unknown), so a plan deployed for a bursty tier stays sized for bursts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan
from murakkab.policy.reoptimizer import EpochReoptimizer, Forecast


@dataclass(frozen=True)
class ReplanSettings:
    epoch_s: float = 3600.0               # model seconds between re-plans
    alpha: float = 0.5                    # EWMA weight of the last epoch's observed rate
    provisioning_delay_s: float = 120.0   # estimate: model load on a warm node (as the autoscaler's)
    peak_factor: float | None = None      # see the module docstring; None: the running plan's ratios
    check_s: float | None = None          # deviation checks every check_s (None: re-plan only per epoch)
    deviation: float = 0.15               # relative rise over the planned rate that re-plans early
    z: float = 3.0                        # ... and the rise must exceed z Poisson standard deviations
    mip_rel_gap: float = 1e-2             # cheap re-plans: 1 % from the optimum is enough per epoch
    time_limit_s: float = 10.0

    def __post_init__(self):
        if not self.epoch_s > 0:
            raise MurakkabError(f"re-optimizer epoch must be > 0, got {self.epoch_s} s (fix: e.g. --epoch-min 60)")
        if not 0 < self.alpha <= 1:
            raise MurakkabError(f"EWMA alpha must be in (0, 1], got {self.alpha} (fix: e.g. 0.5)")
        if not self.provisioning_delay_s >= 0:
            raise MurakkabError(f"provisioning delay must be >= 0 s, got {self.provisioning_delay_s} (fix: e.g. 120)")
        if self.peak_factor is not None and not self.peak_factor >= 1:
            raise MurakkabError(f"peak factor must be >= 1 (a peak below the average), got {self.peak_factor} "
                                "(fix: e.g. 1.3, or leave it unset for the running plan's peak/average ratio)")
        if self.check_s is not None and not 0 < self.check_s <= self.epoch_s:
            raise MurakkabError(f"deviation check interval must be in (0, epoch {self.epoch_s} s], got "
                                f"{self.check_s} (fix: e.g. 600, or leave it unset for no checks)")
        if not self.deviation > 0 or not self.z >= 0:
            raise MurakkabError(f"the deviation trigger needs deviation > 0 and z >= 0, got {self.deviation}, "
                                f"{self.z} (fix: e.g. 0.15 and 3)")
        if not self.time_limit_s > 0 or not self.mip_rel_gap >= 0:
            raise MurakkabError(f"re-plans need time_limit_s > 0 and mip_rel_gap >= 0, got {self.time_limit_s}, "
                                f"{self.mip_rel_gap}")

    def reoptimizer(self, make_plan: Callable[[Forecast], Plan], forecast: Forecast) -> EpochReoptimizer:
        """The epoch re-optimizer with these settings, starting from `forecast`."""
        return EpochReoptimizer(make_plan, forecast, epoch_s=self.epoch_s, alpha=self.alpha,
                                provisioning_delay_s=self.provisioning_delay_s, check_s=self.check_s,
                                deviation=self.deviation, z=self.z)


def peak_ratios(plan: Plan) -> dict[tuple[str, str], float]:
    """Peak/average rate per (workflow, tier key) of a plan's routes (1 where the average is 0)."""
    return {(r.workflow, r.tier.key): (r.rate_peak_rps / r.rate_avg_rps if r.rate_avg_rps > 0 else 1.0)
            for r in plan.routes}


def peak_rates(forecast: Forecast, settings: ReplanSettings, running: Plan | None) -> Forecast:
    """The peak rate a re-plan sizes each key for (the peak rule above)."""
    if settings.peak_factor is not None:
        return {k: v * settings.peak_factor for k, v in forecast.items()}
    ratios = peak_ratios(running) if running is not None else {}
    return {k: v * max(ratios.get(k, 1.0), 1.0) for k, v in forecast.items()}


@dataclass(frozen=True)
class PlanShape:
    """What a re-plan keeps from the plan it replaces (or, for a first plan, is given)."""
    policy: str = "joint"
    objective: str = "energy"
    pue: float | None = None
    epoch_s: float = 3600.0
    latency_wait_probability: float | None = None

    @classmethod
    def of(cls, plan: Plan) -> PlanShape:
        """The running plan's policy, objective, PUE and epoch (its queueing bound: the optimizer's default)."""
        return cls(plan.policy, plan.objective, plan.pue, plan.epoch_s)


def plan_maker(settings: ReplanSettings, shape: PlanShape | Callable[[], Plan],
               workflows: Callable[[], dict] | None = None) -> Callable[[Forecast], Plan]:
    """forecast (average rates) -> Plan. `shape`: a fixed PlanShape, or a callable returning the running
    plan (its shape and, without a peak factor, its peak ratios are read when each re-plan is made).
    `workflows()`: the optimizer's ReusedWorkflow per uploaded workflow the plan routes."""

    def make(forecast: Forecast) -> Plan:
        from murakkab.optimizer.api import Demand, PlanRequest, make_plan
        running = shape() if callable(shape) else None
        sh = PlanShape.of(running) if running is not None else shape
        peaks = peak_rates(forecast, settings, running)
        demand = {k: Demand(peak_rps=peaks[k], avg_rps=v) for k, v in forecast.items()}
        extra = {"pue": sh.pue} if sh.pue is not None else {}
        if sh.latency_wait_probability is not None:
            extra["latency_wait_probability"] = sh.latency_wait_probability
        return make_plan(PlanRequest(demand=demand, policy=sh.policy, objective=sh.objective, epoch_s=sh.epoch_s,
                                     mip_rel_gap=settings.mip_rel_gap, time_limit_s=settings.time_limit_s,
                                     workflows=dict(workflows() if workflows else {}), **extra))
    return make
