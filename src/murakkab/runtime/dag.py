"""Async DAG executor: start every step whose producers are done, as soon as they are done.

Generic over what a step does: `run(name)` is awaited once per step. Independent steps run
concurrently (one asyncio task each; the first ready step runs in the caller's task to save a
task switch on chains). If a step raises, the others are cancelled and the error propagates as
`StepFailed` naming the step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from murakkab.errors import MurakkabError


class StepFailed(MurakkabError):
    def __init__(self, step: str, cause: BaseException):
        super().__init__(f"step '{step}' failed: {cause}")
        self.step, self.cause = step, cause


def check_dag(steps: Sequence[str], edges: Sequence[tuple[str, str]]) -> None:
    """Raise MurakkabError on an edge to an unknown step or a cycle."""
    known = set(steps)
    indeg = {s: 0 for s in steps}
    succ: dict[str, list[str]] = {s: [] for s in steps}
    for a, b in edges:
        if a not in known or b not in known:
            raise MurakkabError(f"edge ({a}, {b}) names an unknown step; steps are {list(steps)}")
        succ[a].append(b)
        indeg[b] += 1
    ready = [s for s in steps if indeg[s] == 0]
    seen = 0
    while ready:
        s = ready.pop()
        seen += 1
        for t in succ[s]:
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
    if seen != len(steps):
        raise MurakkabError("the route's steps form a cycle; a DAG is required")


async def run_dag(steps: Sequence[str], edges: Sequence[tuple[str, str]],
                  run: Callable[[str], Awaitable[Any]]) -> dict[str, Any]:
    """Run every step after its producers; returns {step: result}. Assumes `check_dag` passed."""
    succ: dict[str, list[str]] = {s: [] for s in steps}
    waiting = dict.fromkeys(steps, 0)
    for a, b in edges:
        succ[a].append(b)
        waiting[b] += 1
    results: dict[str, Any] = {}
    ready = [s for s in steps if waiting[s] == 0]
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


def critical_path(steps: Sequence[str], edges: Sequence[tuple[str, str]], duration: dict[str, float]) -> float:
    """Longest path through the DAG with each step weighted by its duration."""
    pred: dict[str, list[str]] = {s: [] for s in steps}
    for a, b in edges:
        pred[b].append(a)
    finish: dict[str, float] = {}

    def f(s: str) -> float:
        if s not in finish:
            finish[s] = duration.get(s, 0.0) + max((f(p) for p in pred[s]), default=0.0)
        return finish[s]

    return max((f(s) for s in steps), default=0.0)
