"""Where a call runs inside a pool, as decisions both bodies apply.

Every function here is pure: it reads `InstanceInfo` (and the waiting calls' submission times) and
returns a decision; the simulator's event loop and the runtime's cluster carry it out. Rules:

- instance choice: the least-loaded routable instance (load = calls in service + queued on it);
  ties go to the earliest in routing order (instances join it as they become ready).
- rebalance, when an instance becomes ready: calls waiting for any instance of the pool (the pool
  had none ready) and calls queued at the pool's other routable instances are dealt again, oldest
  first, each to the least-loaded instance counting the calls dealt so far. Without it a backlog
  stays where it queued while the new instance idles.
- a stranded call (its pool has no routable instance): it waits when some instance of the pool is
  still provisioning; a pool that a re-plan retired (every instance draining) never gets one, so the
  call moves to a pool of the same kind that the running plan gives its task (picked by that step's
  shares); with none it has nowhere to go.
- drain order: instances still provisioning first (free to cancel), then the least loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from murakkab.errors import MurakkabError
from murakkab.policy.view import InstanceInfo


@dataclass(frozen=True)
class WaitingCall:
    """A call waiting for a slot: `key` is the body's handle, `submitted_at` when it was sent (s)."""
    key: Hashable
    submitted_at: float


@dataclass(frozen=True)
class Placement:
    """Run (or queue) the waiting call `key` on `instance`."""
    key: Hashable
    instance: str


@dataclass(frozen=True)
class Rebalance:
    pool: str
    placements: tuple[Placement, ...]     # in the order the body applies them (oldest call first)


@dataclass(frozen=True)
class Drain:
    pool: str
    victims: tuple[str, ...]              # instance ids to drain, in drain order
    strand_pending: bool                  # no live instance is left: the pool's waiting calls must move


@dataclass(frozen=True)
class Strand:
    """What a call for `pool` does when that pool has no routable instance."""
    pool: str
    action: Literal["wait", "reroute", "nowhere"]
    to: str | None = None                 # the pool to run on, for "reroute"


@dataclass(frozen=True)
class Applied:
    """A decision as a body applied it (the bodies' optional decision logs; the contract tests compare
    them): when, and the body's handle of the call it moved (None for drains and rebalances)."""
    at: float
    decision: Rebalance | Drain | Strand
    call: Hashable | None = None


def least_loaded_index(loads: Sequence[int]) -> int | None:
    """Index of the first smallest load; None when there is none."""
    best = None
    for j, ld in enumerate(loads):
        if best is None or ld < loads[best]:
            best = j
    return best


def pick_instance(routable: Sequence[InstanceInfo], avoid: frozenset[str] | set[str] = frozenset()) -> str | None:
    """The instance a new call goes to: the least-loaded of `routable` (ready, not draining, in routing
    order) that is not in `avoid` (instances that already failed this call); when every one is to be
    avoided, the least-loaded of all (a new round of attempts). None when `routable` is empty."""
    fresh = [i for i in routable if i.id not in avoid] or list(routable)
    j = least_loaded_index([i.load for i in fresh])
    return None if j is None else fresh[j].id


def rebalance(pool: str, routable: Sequence[InstanceInfo], pending: Sequence[WaitingCall],
              queued: Mapping[str, Sequence[WaitingCall]]) -> Rebalance:
    """Deal the pool's waiting calls again when an instance becomes ready (see the module docstring).
    `routable`: the pool's routable instances in routing order, the new one included, each `load`
    counting its queued calls; `pending`: calls waiting for any instance, oldest first; `queued[id]`:
    the calls queued at instance `id`, in queue order. Ties in submission time keep the order pending,
    then each instance's queue in routing order."""
    if not routable:
        raise MurakkabError(f"pool '{pool}': a rebalance needs at least one routable instance")
    waiting = list(pending)
    for inst in routable:
        waiting.extend(queued.get(inst.id, ()))
    waiting.sort(key=lambda c: c.submitted_at)          # stable: ties keep the order above
    loads = [i.load - len(queued.get(i.id, ())) for i in routable]
    out = []
    for call in waiting:
        j = least_loaded_index(loads)
        loads[j] += 1
        out.append(Placement(call.key, routable[j].id))
    return Rebalance(pool, tuple(out))


def drain(pool: str, instances: Sequence[InstanceInfo], n: int) -> Drain:
    """Which `n` of the pool's instances to drain: among those not yet draining, provisioning ones
    first, then the least loaded (ties: the earlier in `instances`)."""
    if n < 0:
        raise MurakkabError(f"cannot drain {n} instances of pool '{pool}'")
    live = [i for i in instances if not i.draining]
    live.sort(key=lambda i: (i.ready, i.load))          # stable
    return Drain(pool, tuple(i.id for i in live[:n]), n >= len(live))


def strand(pool: str, kind: str, instances: Sequence[InstanceInfo],
           step_pools: Sequence[tuple[str, str]] | None, pick: Callable[[], int]) -> Strand:
    """A call for `pool` (of `kind`, "model" or "tool") when none of its `instances` is routable.
    `step_pools`: (pool id, kind) of the running plan's step for the call's task, in the step's share
    order, or None when the running plan has no such (non-skipped) step; `pick()` is that step's pool
    choice by shares (called only when the call moves)."""
    if any(not i.draining for i in instances):
        return Strand(pool, "wait")
    if step_pools is None:
        return Strand(pool, "nowhere")
    same_kind = [pid for pid, k in step_pools if k == kind and pid != pool]
    if not same_kind:
        return Strand(pool, "nowhere")
    target = step_pools[pick()][0]
    return Strand(pool, "reroute", target if target in same_kind else same_kind[0])
