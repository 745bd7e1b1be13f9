"""Async DAG executor: start every step whose producers are done, as soon as they are done.

Generic over what a step does: `run(name)` is awaited once per step. Independent steps run
concurrently (one asyncio task each; the first ready step runs in the caller's task to save a
task switch on chains). If a step raises, the others are cancelled and the error propagates as
`StepFailed` naming the step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from murakkab.errors import MurakkabError
from murakkab.spec.graph import successors_of


class StepFailed(MurakkabError):
    def __init__(self, step: str, cause: BaseException):
        super().__init__(f"step '{step}' failed: {cause}")
        self.step, self.cause = step, cause


async def run_dag(preds: Mapping[str, Sequence[str]], run: Callable[[str], Awaitable[Any]]) -> dict[str, Any]:
    """Run every step after its producers (`preds`: step -> the steps it reads from, a DAG such as
    `Route.predecessors()`, which a Route checks when it is built); returns {step: result}."""
    succ = successors_of(preds)
    waiting = {s: len(set(ps)) for s, ps in preds.items()}
    results: dict[str, Any] = {}
    ready = [s for s in preds if waiting[s] == 0]
    running: dict[asyncio.Task, str] = {}

    def release(name: str) -> None:
        for t in succ[name]:
            waiting[t] -= 1
            if waiting[t] == 0:
                ready.append(t)

    try:
        while ready or running:
            # chain fast path: exactly one step can run and nothing else is in flight
            while len(ready) == 1 and not running:
                name = ready.pop()
                try:
                    results[name] = await run(name)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - re-raised with the step's name
                    raise StepFailed(name, exc) from exc
                release(name)
            while ready:
                name = ready.pop()
                running[asyncio.ensure_future(run(name))] = name
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                name = running.pop(task)
                exc = task.exception()
                if exc is not None:
                    raise StepFailed(name, exc) from exc
                results[name] = task.result()
                release(name)
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
    return results
