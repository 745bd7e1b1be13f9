"""Bounded loopback load test: 2,000 video Q/A requests, 200 at a time, on the simulated backend
(1/1000 of real time) through a real server process: none lost, none faster than its DAG allows,
every answer the plan's length; orchestration overhead reported (not asserted: no timed tests)."""

import asyncio
import os
import signal
import statistics

import httpx

from murakkab.runtime.journal import Journal
from tests.runtime import worlds
from tests.server.live import free_port, start_server, tenant_headers

N, CONCURRENCY = 2000, 200


def test_2000_requests_at_200_concurrent_none_lost(tmp_path):
    db = tmp_path / "j.db"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(worlds.hand_plan(model_instances=4).to_json())
    h = tenant_headers(db, "load", max_concurrency=CONCURRENCY)
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = start_server(["--db", str(db), "--plan", str(plan_file), "--time-scale", "0.001"], port, log)

    async def drive():
        sem = asyncio.Semaphore(CONCURRENCY)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120,
                                     headers=h,
                                     limits=httpx.Limits(max_connections=CONCURRENCY)) as c:
            async def one(i):
                async with sem:
                    r = await c.post("/v1/workflows/video_qa/invoke",
                                     json={"inputs": {"video": "v.mp4", "question": f"q{i}"}, "tier": "accuracy:good"})
                    return r.status_code, r.json()
            return await asyncio.gather(*(one(i) for i in range(N)))

    try:
        results = asyncio.run(drive())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    codes = [c for c, _ in results]
    assert codes.count(200) == N, {c: codes.count(c) for c in set(codes)}
    assert all(b["status"] == "completed" and len(b["steps"]) == 5 for _, b in results)
    assert Journal(str(db)).counts() == {"completed": N}
    # by hand from worlds.hand_plan: the longest chain is scenes -> frames -> detections -> answer, three
    # tools of 0.5 s and an answer of TTFT 0.1 s + 100 tokens x 0.01 s = 1.1 s: 2.6 s of model time at
    # least (queueing only adds); the answer's 100 output tokens are fixed (p50 = p90 = 100)
    floor_s = 3 * worlds.TOOL_S + worlds.TTFT + 100 * worlds.TPOT
    assert floor_s == 2.6
    assert min(b["model_latency_s"] for _, b in results) >= floor_s * (1 - 1e-3)
    assert all(next(s for s in b["steps"] if s["task"] == "answer")["tokens_out"] == 100 for _, b in results)
    assert all(0.0 <= b["overhead_s"] <= b["latency_s"] for _, b in results)
    per_step = sorted(b["overhead_s"] / len(b["steps"]) for _, b in results)
    p50, p99 = statistics.median(per_step), per_step[int(0.99 * len(per_step))]
    print(f"\nload test: {N} requests, {CONCURRENCY} concurrent: orchestration overhead per step "
          f"p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
