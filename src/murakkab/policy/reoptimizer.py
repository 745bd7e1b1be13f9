"""Epoch re-optimizer: forecast demand, re-plan, move the fleet to the new plan.

Every epoch (default 60 min) the observed arrival rate of each (workflow, tier key) over the epoch
updates an EWMA forecast, forecast ← α·observed + (1−α)·forecast (α = 0.5 by default; the first
forecast is the rate the running plan was made for). The optimizer callable turns the forecast into
a new Plan. Instances the new plan adds are allocated now and accept work after the provisioning
delay; the new routes take effect at that moment, and instances the plan no longer needs are
drained then (so capacity never dips while new instances load).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan
from murakkab.policy.view import PlanView

Forecast = dict[tuple[str, str], float]       # (workflow, tier key) -> arrivals per second
PlanMaker = Callable[[Forecast], Plan]


def ewma(previous: Forecast, observed: Forecast, alpha: float) -> Forecast:
    """α·observed + (1−α)·previous per key; a key missing on one side counts as 0 there."""
    keys = sorted(set(previous) | set(observed))
    return {k: alpha * observed.get(k, 0.0) + (1 - alpha) * previous.get(k, 0.0) for k in keys}


def forecast_of(plan: Plan) -> Forecast:
    """The average arrival rates a plan was sized for."""
    return {(r.workflow, r.tier.key): r.rate_avg_rps for r in plan.routes}


def fleet_diff(current: dict[str, int], plan: Plan) -> tuple[dict[str, int], dict[str, int]]:
    """(instances to add, instances to remove) per pool to go from `current` live counts to `plan`."""
    target = {p.id: p.instances for p in plan.pools}
    add = {p: n - current.get(p, 0) for p, n in target.items() if n > current.get(p, 0)}
    remove = {p: c - target.get(p, 0) for p, c in current.items() if c > target.get(p, 0)}
    return add, remove


@dataclass
class EpochReoptimizer:
    make_plan: PlanMaker
    initial_forecast: Forecast
    epoch_s: float = 3600.0
    alpha: float = 0.5
    provisioning_delay_s: float = 120.0
    history: list[tuple[float, Forecast]] = field(default_factory=list)   # (time, forecast) per epoch
    _counts: dict[tuple[str, str], int] = field(default_factory=dict)
    _last: float = 0.0

    def __post_init__(self):
        if not 0 < self.alpha <= 1:
            raise MurakkabError(f"EWMA alpha must be in (0, 1], got {self.alpha} (fix: e.g. 0.5)")
        if self.epoch_s <= 0:
            raise MurakkabError(f"epoch must be > 0 s, got {self.epoch_s} (fix: e.g. 3600)")
        self.forecast: Forecast = dict(self.initial_forecast)
        self.last_observed: Forecast = {}      # rates seen in the last closed epoch
        self.last_elapsed_s: float = 0.0       # its length

    def begin(self, now: float) -> None:
        """Start the first epoch at `now` (a body whose clock does not start at 0 when it starts)."""
        self._last = now
        self._counts.clear()

    def record_arrival(self, workflow: str, tier_key: str) -> None:
        key = (workflow, tier_key)
        self._counts[key] = self._counts.get(key, 0) + 1

    def close_epoch(self, now: float) -> Forecast:
        """Close the epoch at `now`: fold the observed arrival rates into the forecast and return it.
        Split from `on_epoch` so a body whose optimizer call must not block (the runtime solves in a
        worker thread) can re-plan between closing the epoch and actuating the result."""
        elapsed = now - self._last
        if elapsed <= 0:
            raise MurakkabError(f"epoch closed at {now} s, not after the previous one at {self._last} s")
        self.last_observed = {k: c / elapsed for k, c in self._counts.items()}
        self.last_elapsed_s = elapsed
        self.forecast = ewma(self.forecast, self.last_observed, self.alpha)
        self.history.append((now, dict(self.forecast)))
        self._counts.clear()
        self._last = now
        return dict(self.forecast)

    def actuate(self, view: PlanView, plan: Plan) -> None:
        """Move the view's fleet to `plan`: new instances now (ready after the provisioning delay),
        new routes and the drain of surplus instances at that moment."""
        switch_at = view.now() + self.provisioning_delay_s
        current = {p: sum(1 for i in view.instances(p) if not i.draining) for p in view.pool_ids()}
        add, remove = fleet_diff(current, plan)
        view.install_plan(plan, switch_at)
        for pool, n in add.items():
            view.add_instances(pool, n, switch_at)
        for pool, n in remove.items():
            view.remove_instances(pool, n, at=switch_at)

    def on_epoch(self, view: PlanView) -> Plan:
        """Close the epoch at view.now(): update the forecast, re-plan, and actuate the diff."""
        plan = self.make_plan(self.close_epoch(view.now()))
        self.actuate(view, plan)
        return plan
