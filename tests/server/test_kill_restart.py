"""SIGKILL the server under load, restart it on the same journal: every accepted job ends
completed or failed with a reason; none disappears."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from murakkab.runtime.journal import Journal
from tests.runtime import worlds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db, plan_file, port, log):
    proc = subprocess.Popen([sys.executable, "-m", "murakkab.cli", "serve", "--db", str(db), "--plan", str(plan_file),
                             "--port", str(port), "--time-scale", "0.2"], stdout=log, stderr=log,
                            start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        assert proc.poll() is None, f"server exited: {open(log.name).read()[-2000:]}"
    proc.kill()
    raise AssertionError("server did not come up in 90 s")


def test_sigkill_under_load_loses_no_accepted_request(tmp_path):
    db = tmp_path / "j.db"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(worlds.hand_plan(model_instances=2).to_json())
    j = Journal(str(db))
    key = j.add_tenant("acme", max_concurrency=1000)
    j.close()
    h = {"Authorization": f"Bearer {key}"}
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    proc = _start(db, plan_file, port, log)
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

    proc = _start(db, plan_file, port, log)
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
