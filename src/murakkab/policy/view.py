"""The body-agnostic interface policies act through.

The simulator and the runtime each implement `ClusterView`; the router, the autoscaler and the
re-optimizer only ever call these methods, so the same policy code drives both bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from murakkab.plan.schema import Plan


@dataclass(frozen=True)
class InstanceInfo:
    """What a policy may know about one instance."""
    id: str
    pool: str
    ready: bool          # provisioned and accepting work
    draining: bool       # removed: finishes what it holds, accepts nothing new
    load: int            # calls in flight + queued on it


class ClusterView(Protocol):
    def now(self) -> float:
        """Current time in seconds (virtual in the simulator, wall-clock in the runtime)."""

    def pool_ids(self) -> list[str]:
        """Pools currently known (planned or still draining)."""

    def slots_per_instance(self, pool: str) -> int:
        """Concurrent calls one instance of the pool serves at its operating point."""

    def instances(self, pool: str) -> list[InstanceInfo]:
        """All allocated instances of the pool, including provisioning and draining ones."""

    def add_instances(self, pool: str, n: int, ready_at: float) -> None:
        """Allocate n instances now; they accept work from `ready_at`."""

    def remove_instances(self, pool: str, n: int, at: float | None = None) -> None:
        """Drain n instances (least loaded first) now, or at time `at`; released when empty."""


class PlanView(ClusterView, Protocol):
    """A ClusterView that can also take a new plan (used by the epoch re-optimizer)."""

    def install_plan(self, plan: "Plan", switch_at: float) -> None:
        """Register the plan's pools (with no instances yet) and route new requests by it from
        `switch_at` on (when the instances added for it are ready)."""
