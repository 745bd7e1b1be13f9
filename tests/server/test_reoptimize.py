"""The shared epoch re-optimizer inside a running `murakkab serve --reoptimize`: a short epoch on the
time-scaled simulated backend, an arrival mix unlike the one the running plan was made for, then a
new plan version whose instance counts the fleet follows.

Timing: time scale 0.01, so a 5-minute epoch is 3 s of wall time and the 60 s provisioning delay
0.6 s. What is asserted does not depend on which epoch each request lands in: the EWMA is checked
by hand on the rates the server reports it observed, and every request must be counted exactly once.
"""

import asyncio
import time

import httpx
import pytest

from murakkab.optimizer.api import Demand, PlanRequest, make_plan
from murakkab.plan.schema import Plan
from murakkab.runtime.journal import Journal
from tests.server.live import free_port, start_server, tenant_headers

RS, VQ = ("reasoning", "accuracy:good"), ("video_qa", "accuracy:good")
N = 150


async def _burst(base: str, headers: dict) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
        async def one(i):
            r = await c.post("/v1/workflows/reasoning/invoke",
                             json={"inputs": {"problem": f"p{i}"}, "tier": "accuracy:good", "mode": "job"})
            assert r.status_code == 202, r.text
        await asyncio.gather(*(one(i) for i in range(N)))


def _ready(view: dict) -> dict[str, int]:
    return {p["pool"]: p["ready"] for p in view["pools"]}


def _settled(view: dict) -> bool:
    """Every pool of the routing plan has exactly its planned instances ready; any other pool none."""
    planned = {p["id"]: p["instances"] for p in view["plan"]["pools"]}
    return _ready(view) == {pid: planned.get(pid, 0) for pid in _ready(view)}


def test_an_epoch_with_a_new_arrival_mix_installs_a_new_plan_and_the_fleet_follows(tmp_path):
    initial = make_plan(PlanRequest(demand={RS: Demand(0.02, 0.02), VQ: Demand(0.2, 0.2)},
                                    mip_rel_gap=1e-2, time_limit_s=10))
    db, plan_file = tmp_path / "j.db", tmp_path / "plan.json"
    plan_file.write_text(initial.to_json())
    h = tenant_headers(db, "admin", max_concurrency=1000)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "w")
    proc = start_server(["--db", str(db), "--plan", str(plan_file), "--time-scale", "0.01", "--reoptimize",
                         "--epoch-min", "5", "--provisioning-s", "60"], port, log)
    try:
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            v0 = c.get("/v1/plan").json()
            assert v0["version"] == 1 and v0["reoptimizer"]["epoch_s"] == 300 and v0["reoptimizer"]["alpha"] == 0.5
            asyncio.run(_burst(base, h))
            # wait until every request has been counted in a closed epoch and that epoch's plan is live
            deadline, view = time.time() + 40, None
            while time.time() < deadline:
                view = c.get("/v1/plan").json()
                epochs = view["reoptimizer"]["epochs"]
                counted = sum(e["observed_rps"].get("reasoning/accuracy:good", 0) * e["elapsed_s"] for e in epochs)
                if epochs and round(counted) == N and view["plan"]["plan_id"] == epochs[-1].get("plan_id") \
                        and _settled(view):
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"the fleet never settled on a re-plan that counted all {N} requests: {view}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    epochs = view["reoptimizer"]["epochs"]
    assert all("error" not in e for e in epochs), epochs
    # the EWMA by hand, epoch after epoch, from the rates the running plan was made for
    prev = {"reasoning/accuracy:good": 0.02, "video_qa/accuracy:good": 0.2}
    for e in epochs:
        for k in prev:
            prev[k] = 0.5 * e["observed_rps"].get(k, 0.0) + 0.5 * prev[k]
            assert e["forecast_rps"][k] == pytest.approx(prev[k], rel=1e-9)
    assert "video_qa/accuracy:good" not in epochs[0]["observed_rps"]
    # each closed epoch is a new active version, in order, stored in the journal
    assert [e["version"] for e in epochs] == list(range(2, 2 + len(epochs)))
    assert view["version"] == epochs[-1]["version"]
    stored = Journal(str(db))
    versions = stored.plan_versions()
    active = [v for v, _, _, a in versions if a]
    new = Plan.from_json(stored.plan(active[0]))
    stored.close()
    assert active == [epochs[-1]["version"]] and new.plan_id == view["plan"]["plan_id"] == epochs[-1]["plan_id"]
    # the live fleet is the new plan's: every planned pool has exactly its instances ready, any other is drained
    ready = _ready(view)
    for p in new.pools:
        assert ready[p.id] == p.instances, (p.id, ready)
    assert all(n == 0 for pid, n in ready.items() if pid not in {p.id for p in new.pools})
    # the mix moved to reasoning: its route now has more instances than the plan it started from
    def rs_instances(plan: Plan) -> int:
        pools = {s.pool for st in plan.route(*RS).steps for s in st.pools}
        return sum(p.instances for p in plan.pools if p.id in pools)
    assert epochs[-1]["forecast_rps"]["reasoning/accuracy:good"] > 0.02
    assert rs_instances(new) > rs_instances(initial), (rs_instances(new), rs_instances(initial))
