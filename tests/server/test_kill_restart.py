"""SIGKILL the server under load, restart it on the same journal: every accepted job ends
completed or failed with a reason; none disappears."""

import os
import signal
import time

import httpx

from murakkab.runtime.journal import Journal
from tests.runtime import worlds
from tests.server.live import free_port, start_server, tenant_headers


def test_sigkill_under_load_loses_no_accepted_request(tmp_path):
    db = tmp_path / "j.db"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(worlds.hand_plan(model_instances=2).to_json())
    h = tenant_headers(db, "acme", max_concurrency=1000)
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = start_server(["--db", str(db), "--plan", str(plan_file), "--time-scale", "0.2"], port, log)
    accepted = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=h, timeout=10) as c:
            for i in range(40):
                r = c.post("/v1/workflows/reasoning/invoke",
                           json={"inputs": {"problem": f"p{i}"}, "tier": "accuracy:good", "mode": "job"})
                assert r.status_code == 202, r.text
                accepted.append(r.json()["job_id"])
        time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    open_at_kill = [rid for rid in accepted if Journal(str(db)).request(rid).status in ("accepted", "running")]
    assert open_at_kill, "the kill came too late to interrupt anything; the test proves nothing"

    proc = start_server(["--db", str(db), "--plan", str(plan_file), "--time-scale", "0.2"], port, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=h, timeout=10) as c:
            deadline = time.time() + 120
            states = {}
            while time.time() < deadline:
                states = {rid: c.get(f"/v1/jobs/{rid}").json() for rid in accepted}
                if all(s["status"] in ("completed", "failed") for s in states.values()):
                    break
                time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert len(states) == 40
    for rid, s in states.items():
        assert s["status"] in ("completed", "failed"), (rid, s)
        if s["status"] == "completed":
            assert s["result"]["energy_wh"] > 0 and s["result"]["steps"][0]["calls"] == 3
        else:
            assert s["error"]
    j = Journal(str(db))
    recovered = [rid for rid in open_at_kill if any(k == "recovered" for _, _, k, _ in j.events(rid))]
    assert sorted(recovered) == sorted(open_at_kill)
