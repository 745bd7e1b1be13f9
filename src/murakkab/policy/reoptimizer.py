"""Epoch re-optimizer: forecast demand, re-plan, move the fleet to the new plan.

Every epoch (default 60 min) the observed arrival rate of each (workflow, tier key) over the epoch
updates an EWMA forecast, forecast ← α·observed + (1−α)·forecast (α = 0.5 by default; the first
forecast is the rate the running plan was made for). The optimizer callable turns the forecast into
a new Plan. Instances the new plan adds are allocated now and accept work after the provisioning
delay; the new routes take effect at that moment, and instances the plan no longer needs are
drained then (so capacity never dips while new instances load).

Deviation trigger (optional, off by default): with `check_s` set, a body calls `on_tick` every
`tick_s` (= check_s) instead of `on_epoch` every epoch. A tick closes the epoch when it is due, or
early when some workflow's arrivals since the epoch began exceed what the running plan was sized
for: observed count n over the elapsed time e against the planned forecast rate r (summed over the
workflow's tiers), re-plan when n > (1 + deviation)·r·e and n − r·e > z·√(r·e) (z = 3: a Poisson
count's three-sigma band, so noise alone re-plans about once in 700 checks per workflow). An early
close is an ordinary epoch close: the EWMA folds in the partial epoch's rate with the same α, and a
new epoch starts. Only rises trigger: a plan larger than needed wastes energy until the epoch ends,
one smaller than needed misses SLOs now. The first check comes at least `check_s` into an epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan
from murakkab.policy.actuation import actuate, fleet_diff  # noqa: F401 - fleet_diff: its old home
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
    check_s: float | None = None      # deviation checks every check_s (None: re-plan only per epoch)
    deviation: float = 0.15           # relative rise over the planned rate that re-plans early
    z: float = 3.0                    # ... and the rise must exceed z Poisson standard deviations
    early: list[tuple[float, str]] = field(default_factory=list)   # (time, workflow) of early re-plans

    def __post_init__(self):
        if not 0 < self.alpha <= 1:
            raise MurakkabError(f"EWMA alpha must be in (0, 1], got {self.alpha} (fix: e.g. 0.5)")
        if self.epoch_s <= 0:
            raise MurakkabError(f"epoch must be > 0 s, got {self.epoch_s} (fix: e.g. 3600)")
        if self.check_s is not None and not 0 < self.check_s <= self.epoch_s:
            raise MurakkabError(f"deviation check interval must be in (0, epoch {self.epoch_s} s], got "
                                f"{self.check_s} (fix: e.g. 600, or None for no checks)")
        if not self.deviation > 0 or self.z < 0:
            raise MurakkabError(f"deviation trigger needs deviation > 0 and z >= 0, got {self.deviation}, {self.z}")
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
        """Move the view's fleet to `plan` (`policy.actuation.actuate` with the provisioning delay)."""
        actuate(view, plan, self.provisioning_delay_s)

    def on_epoch(self, view: PlanView) -> Plan:
        """Close the epoch at view.now(): update the forecast, re-plan, and actuate the diff."""
        plan = self.make_plan(self.close_epoch(view.now()))
        self.actuate(view, plan)
        return plan

    @property
    def tick_s(self) -> float:
        """How often a body calls `on_tick`: the check interval, or the epoch without checks."""
        return self.check_s if self.check_s is not None else self.epoch_s

    def deviating(self, now: float) -> list[str]:
        """Workflows whose arrivals since the epoch began rose beyond the trigger (see the module
        docstring) over the forecast the running plan was made for; [] before `check_s` has passed."""
        elapsed = now - self._last
        if self.check_s is None or elapsed < self.check_s - 1e-6:
            return []
        seen: dict[str, int] = {}
        planned: dict[str, float] = {}
        for (wf, _), n in self._counts.items():
            seen[wf] = seen.get(wf, 0) + n
        for (wf, _), r in self.forecast.items():
            planned[wf] = planned.get(wf, 0.0) + r
        out = []
        for wf, n in sorted(seen.items()):
            expected = planned.get(wf, 0.0) * elapsed
            if n > (1 + self.deviation) * expected and n - expected > self.z * math.sqrt(expected):
                out.append(wf)
        return out

    def due(self, now: float) -> str | None:
        """Why the epoch should close at `now`: "epoch" when it is due, "deviation: <workflows>" when
        arrivals rose beyond the trigger (recorded in `early`), None when neither. A body whose re-plan
        must not block (the runtime) asks this every `tick_s`, then closes the epoch and re-plans."""
        if now - self._last >= self.epoch_s - 1e-6:
            return "epoch"
        rising = self.deviating(now)
        if not rising:
            return None
        self.early.append((now, ",".join(rising)))
        return "deviation: " + ",".join(rising)

    def on_tick(self, view: PlanView) -> Plan | None:
        """Call every `tick_s`: close the epoch and re-plan when it is due, or early when arrivals
        deviate (`due`); returns the new plan, or None when nothing was done."""
        if self.due(view.now()) is None:
            return None
        return self.on_epoch(view)


@dataclass
class TickDriver:
    """The re-optimizer as seen by a body that calls `on_epoch` every `epoch_s` (the simulator's event
    loop): its `epoch_s` is the re-optimizer's `tick_s` and its `on_epoch` is `on_tick`, so deviation
    checks run on their own cadence. Without `check_s` it behaves exactly like the re-optimizer."""
    reopt: EpochReoptimizer

    @property
    def epoch_s(self) -> float:
        return self.reopt.tick_s

    @property
    def history(self) -> list[tuple[float, Forecast]]:
        return self.reopt.history

    def record_arrival(self, workflow: str, tier_key: str) -> None:
        self.reopt.record_arrival(workflow, tier_key)

    def on_epoch(self, view: PlanView) -> Plan | None:
        return self.reopt.on_tick(view)
