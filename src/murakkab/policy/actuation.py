"""Moving a running fleet to a new plan, the one way both bodies do it.

The change is data (`FleetChange`): instances the plan adds are allocated now and accept work after
the provisioning delay; the new routes take effect at that moment (`switch_at`), and the instances the
plan no longer needs are drained then, so capacity never dips while new instances load. A plan an
operator deploys by hand uses the same change with the delay it is given (0: at once).
"""

from __future__ import annotations

from dataclasses import dataclass

from murakkab.errors import MurakkabError
from murakkab.plan.schema import Plan
from murakkab.policy.view import PlanView


def fleet_diff(current: dict[str, int], plan: Plan) -> tuple[dict[str, int], dict[str, int]]:
    """(instances to add, instances to remove) per pool to go from `current` live counts to `plan`."""
    target = {p.id: p.instances for p in plan.pools}
    add = {p: n - current.get(p, 0) for p, n in target.items() if n > current.get(p, 0)}
    remove = {p: c - target.get(p, 0) for p, c in current.items() if c > target.get(p, 0)}
    return add, remove


@dataclass(frozen=True)
class FleetChange:
    plan_id: str
    switch_at: float                 # when the new routes take effect and surplus instances drain
    add: dict[str, int]              # pool -> instances allocated now, ready at switch_at
    remove: dict[str, int]           # pool -> instances drained at switch_at


def fleet_change(view: PlanView, plan: Plan, provisioning_delay_s: float) -> FleetChange:
    """The change that moves the view's live (not draining) instances to `plan`."""
    if not provisioning_delay_s >= 0:
        raise MurakkabError(f"provisioning delay must be >= 0 s, got {provisioning_delay_s} (fix: e.g. 120)")
    current = {p: sum(1 for i in view.instances(p) if not i.draining) for p in view.pool_ids()}
    add, remove = fleet_diff(current, plan)
    return FleetChange(plan.plan_id, view.now() + provisioning_delay_s, add, remove)


def actuate(view: PlanView, plan: Plan, provisioning_delay_s: float) -> FleetChange:
    """Apply `fleet_change(view, plan, provisioning_delay_s)` through the view and return it: the
    plan is installed to switch at `switch_at`, new instances are added ready then, and surplus ones
    drain then."""
    change = fleet_change(view, plan, provisioning_delay_s)
    view.install_plan(plan, change.switch_at)
    for pool, n in change.add.items():
        view.add_instances(pool, n, change.switch_at)
    for pool, n in change.remove.items():
        view.remove_instances(pool, n, at=change.switch_at)
    return change
