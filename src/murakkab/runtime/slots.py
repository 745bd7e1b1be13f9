"""Concurrency slots of one instance, with a count of the calls waiting for one.

The router's load of an instance is its calls in flight plus those waiting here. The semaphore is
made on first use, inside the running event loop.
"""

from __future__ import annotations

import asyncio


class Slots:
    def __init__(self, n: int):
        self.n = n
        self.waiting = 0
        self._sem: asyncio.Semaphore | None = None

    async def acquire(self) -> None:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.n)
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1

    def release(self) -> None:
        assert self._sem is not None, "release without acquire"
        self._sem.release()
