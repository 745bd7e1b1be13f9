"""Per-step orchestration overhead and steps/s of a no-op DAG: murakkab's async DAG executor side by
side with LangGraph executing the same DAG, in one run; plus the full runtime request path
(journal, router, accounting) with zero-time steps.

    python benchmarks/runtime_overhead.py [--repeats 2000]

LangGraph is a benchmark-only dependency (`pip install langgraph`). DAGs: a 10-step chain and a
fan-out/fan-in (1 -> 4 -> 4 -> 1, 10 steps). Each step is an async function that returns at once,
so all measured time is orchestration. Median per-step overhead = median over runs of
(run time / steps); steps/s = total steps / total time, runs back to back on one event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import operator
from typing import Annotated, TypedDict

from murakkab.runtime.dag import run_dag


class State(TypedDict):
    """LangGraph state: each step appends its name (a reducer, so fan-out branches merge)."""
    done: Annotated[list, operator.add]

CHAIN = ([f"s{i}" for i in range(10)], [(f"s{i}", f"s{i + 1}") for i in range(9)])
FAN = (["a"] + [f"b{i}" for i in range(4)] + [f"c{i}" for i in range(4)] + ["d"],
       [("a", f"b{i}") for i in range(4)] + [(f"b{i}", f"c{i}") for i in range(4)] + [(f"c{i}", "d") for i in range(4)])


async def _noop(_name):
    return None


async def bench_murakkab(dag, repeats):
    steps, edges = dag
    per, t_all = [], time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        await run_dag(steps, edges, _noop)
        per.append((time.perf_counter() - t) / len(steps))
    return per, len(steps) * repeats / (time.perf_counter() - t_all)


def build_langgraph(dag):
    from langgraph.graph import END, START, StateGraph

    steps, edges = dag
    g = StateGraph(State)
    for s in steps:
        async def node(state, _s=s):
            return {"done": [_s]}
        g.add_node(s, node)
    preds = {s: [a for a, b in edges if b == s] for s in steps}
    for s in steps:
        if not preds[s]:
            g.add_edge(START, s)
        elif len(preds[s]) == 1:
            g.add_edge(preds[s][0], s)
        else:
            g.add_edge(preds[s], s)          # wait for all producers (fan-in)
        if not any(a == s for a, _ in edges):
            g.add_edge(s, END)
    return g.compile()


async def bench_langgraph(dag, repeats):
    graph = build_langgraph(dag)
    n = len(dag[0])
    out = await graph.ainvoke({"done": []})
    assert sorted(out["done"]) == sorted(dag[0]), out        # every step ran once
    per, t_all = [], time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        await graph.ainvoke({"done": []})
        per.append((time.perf_counter() - t) / n)
    return per, n * repeats / (time.perf_counter() - t_all)


async def bench_runtime(requests):
    """Full request path: journal, DAG, router, simulated instances with zero service time."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from murakkab.runtime.service import Runtime, RuntimeConfig
    from tests.runtime import worlds
    plan = worlds.hand_plan()
    # zero-time steps: tools with 0 s service, model steps of 1 token with no TTFT, at scale 1e-9
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(RuntimeConfig(db_path=os.path.join(tmp, "j.db"), plan=plan, time_scale=1e-9))
        await rt.start()
        per = []
        t_all = time.perf_counter()
        for _ in range(requests):
            rid = rt.submit("bench", "video_qa", "accuracy:good", {"video": "v", "question": "q"})
            res = await rt.wait(rid)
            per.append(res.latency_s / len(res.steps))
        rate = 5 * requests / (time.perf_counter() - t_all)
        await rt.stop()
    return per, rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load avg {os.getloadavg()[0]:.1f}")
    import importlib.metadata as md
    print(f"langgraph {md.version('langgraph')}")
    print(f"{'DAG':<8} {'engine':<22} {'median us/step':>15} {'p99 us/step':>12} {'steps/s':>10}")
    for name, dag in (("chain10", CHAIN), ("fan10", FAN)):
        for engine, fn in (("murakkab run_dag", bench_murakkab), ("langgraph", bench_langgraph)):
            per, rate = asyncio.run(fn(dag, args.repeats))
            per.sort()
            print(f"{name:<8} {engine:<22} {statistics.median(per) * 1e6:>15.1f} "
                  f"{per[int(0.99 * len(per))] * 1e6:>12.1f} {rate:>10.0f}")
    per, rate = asyncio.run(bench_runtime(args.requests))
    per.sort()
    print(f"{'video_qa':<8} {'murakkab full path':<22} {statistics.median(per) * 1e6:>15.1f} "
          f"{per[int(0.99 * len(per))] * 1e6:>12.1f} {rate:>10.0f}")


if __name__ == "__main__":
    main()
