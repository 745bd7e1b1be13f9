"""The shared reactive autoscaler inside a running `murakkab serve --autoscale` on the simulated backend.

Hand plan (tests/runtime/worlds.py): model pool "m", one instance with 4 slots; a reasoning request
makes 3 calls of 0.1 s TTFT + 100 tokens x 0.01 s = 1.1 model s each. At time scale 0.01 one
instance serves 4 / 1.1 s x 100 = ~360 calls per wall second, so 400 requests (1,200 calls) keep it
saturated for over 3 s of wall time. The autoscaler's defaults (policy/autoscaler.py): checks every
10 s over a 30 s window; here provisioning is 60 s. So no instance can be added before 30 + 60 = 90
model s = 0.9 wall s after the burst starts, and when the load is gone instances are drained one at
a time, each after a 30 s (0.3 wall s) window of low load, down to one.
"""

import asyncio
import threading
import time

import httpx

from tests.runtime import worlds
from tests.server.live import free_port, start_server, tenant_headers

N = 400
SCALE = 0.01
WINDOW_S, PROVISION_S = 30.0, 60.0


def _pool_m(c: httpx.Client) -> dict:
    return next(p for p in c.get("/v1/plan").json()["pools"] if p["pool"] == "m")


def test_a_burst_scales_the_pool_out_after_window_and_provisioning_and_back_in_when_it_ends(tmp_path):
    db, plan_file = tmp_path / "j.db", tmp_path / "plan.json"
    plan_file.write_text(worlds.hand_plan(model_instances=1).to_json())
    h = tenant_headers(db, "acme", max_concurrency=10_000)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(["--db", str(db), "--plan", str(plan_file), "--time-scale", str(SCALE), "--autoscale",
                         "--provisioning-s", str(PROVISION_S)], port, open(tmp_path / "server.log", "w"))
    timeline = []          # (wall seconds since the burst started, ready, desired, load)
    done = threading.Event()

    def sample(t0):        # watch the pool from the first request on, while the burst is still being sent
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            while not done.is_set():
                p = _pool_m(c)
                timeline.append((time.monotonic() - t0, p["ready"], p["desired"], p["load"]))
                time.sleep(0.03)

    try:
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            assert _pool_m(c)["ready"] == 1
            t0 = time.monotonic()
            watcher = threading.Thread(target=sample, args=(t0,), daemon=True)
            watcher.start()

            async def burst():
                async with httpx.AsyncClient(base_url=base, headers=h, timeout=30) as ac:
                    rs = await asyncio.gather(*(ac.post("/v1/workflows/reasoning/invoke", json={
                        "inputs": {"problem": f"p{i}"}, "tier": "accuracy:good", "mode": "job"}) for i in range(N)))
                return [r.json()["job_id"] for r in rs if r.status_code == 202]

            jobs = asyncio.run(burst())
            assert len(jobs) == N
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                counts = c.get("/healthz").json()["journal"]
                if counts.get("completed", 0) == N and timeline and timeline[-1][1] == 1 \
                        and max(t[1] for t in timeline) > 1:
                    break
                time.sleep(0.1)
            done.set()
            watcher.join(timeout=10)
            metrics = c.get("/metrics").text
    finally:
        done.set()
        proc.terminate()
        proc.wait(timeout=30)

    scaled = [t for t in timeline if t[1] >= 2]
    assert scaled, f"the pool never gained a ready instance under the burst: {timeline[:20]}"
    # lower bound exact: a full window of high load, then the provisioning delay (upper bound loose)
    assert scaled[0][0] >= (WINDOW_S + PROVISION_S) * SCALE, scaled[0]
    assert max(t[1] for t in timeline) <= 2 ** 3, "more than three doublings in one burst"
    # after the burst every job completed and the pool went back to its minimum of one instance
    assert timeline[-1][1] == 1 and timeline[-1][2] == 1 and timeline[-1][3] == 0, timeline[-5:]
    peak_i = max(range(len(timeline)), key=lambda i: timeline[i][1])
    # scale-in steps down one instance at a time: no sample shows a drop of two from the previous one
    assert all(b[1] >= a[1] - 1 for a, b in zip(timeline[peak_i:], timeline[peak_i + 1:]))
    assert 'murakkab_pool_instances{pool="m",state="desired"} 1.0' in metrics
