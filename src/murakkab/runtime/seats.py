"""The runtime's bookkeeping of where calls wait: the slots in use on each instance, the calls queued
at it, and the calls waiting for any instance of a pool. The cluster keeps them (not the instances)
so that it can deal waiting calls again when an instance becomes ready, as the simulator does
(`policy.placement.rebalance`)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


@dataclass(eq=False)
class Waiter:
    """A call waiting for a slot. Its future resolves to the instance it may run on (a slot on that
    instance is already counted for it), or to the error that ends it."""
    future: asyncio.Future
    call_id: str
    submitted_at: float                  # cluster time it started to wait
    origin: object                       # CallOrigin | None: what a re-route needs
    pool: str                            # where it waits now
    instance: str | None = None          # None: waiting for any instance of `pool`


@dataclass
class Seat:
    """One instance's slots as the router counts them: load = calls holding a slot + calls queued."""
    slots: int
    busy: int = 0
    queue: deque = field(default_factory=deque)

    @property
    def load(self) -> int:
        return self.busy + len(self.queue)
