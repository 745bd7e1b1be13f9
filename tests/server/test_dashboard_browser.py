"""The live dashboard in headless Chromium against a real uvicorn server: no console errors, the
tables and charts hold the jobs we sent, and it refreshes by itself. Screenshot in test-artifacts/."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from murakkab.runtime.journal import Journal
from murakkab.runtime.service import RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.browser import browser_page, screenshot
from tests.runtime import worlds


@pytest.fixture
def live_server(tmp_path):
    import uvicorn
    db = str(tmp_path / "j.db")
    j = Journal(db)
    key = j.add_tenant("admin")
    j.close()
    app = create_app(ServerConfig(runtime=RuntimeConfig(db_path=db, plan=worlds.hand_plan(), time_scale=0.001)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        thread.join(10)


def _invoke(client, n):
    ids = []
    for _ in range(n):
        r = client.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "2+2"}, "tier": "accuracy:good"})
        assert r.status_code == 200, r.text
        ids.append(r.json()["request_id"])
    return ids


def test_dashboard_in_chromium(live_server):
    base, key = live_server
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    first = _invoke(client, 3)
    with browser_page(viewport=(1024, 768)) as (page, errors):
        page.add_init_script(f"sessionStorage.setItem('murakkab-key', {json.dumps(key)})")
        page.goto(f"{base}/dashboard?refresh=300")
        page.wait_for_selector("#jobs tbody tr[data-job]")
        rows = page.eval_on_selector_all("#jobs tbody tr", "els => els.map(e => [e.dataset.job, e.dataset.energyWh])")
        arrivals = page.eval_on_selector("#chart-rate", "e => JSON.parse(e.dataset.values)")
        pools = page.eval_on_selector_all("#pools tbody tr", "els => els.map(e => e.cells[0].textContent)")
        # the page refreshes from the API by itself: new jobs appear without a reload
        second = _invoke(client, 2)
        page.wait_for_function("n => document.querySelectorAll('#jobs tbody tr').length === n", arg=5)
        arrivals_after = page.eval_on_selector("#chart-rate", "e => JSON.parse(e.dataset.values)")
        tiers = page.eval_on_selector_all("#tiers tbody tr", "els => els.map(e => [...e.cells].map(c => c.textContent))")
        # a video job's step lines are long: the recent-jobs table wraps them, the page stays one screen wide
        client.post("/v1/workflows/video_qa/invoke", json={"inputs": {"video": "clip.mp4", "question": "why?"},
                                                           "tier": "accuracy:good"})
        page.wait_for_function("n => document.querySelectorAll('#jobs tbody tr').length === n", arg=6)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        ticks = page.eval_on_selector_all("#chart-rate text.tick", "els => els.map(e => e.textContent)")
        screenshot(page, "dashboard")
    assert errors == []
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px window"
    assert ticks[0] == "-290 s" and ticks[-1] == "now"      # 30 bins of 10 s: the oldest ends 290 s before now
    assert {r[0] for r in rows} == set(first)
    for rid, wh in rows:
        res = client.get(f"/v1/jobs/{rid}").json()["result"]
        assert float(wh) == pytest.approx(res["energy_wh"])
    st = client.get("/v1/dashboard/state").json()
    wall_s_per_model_s = st["series"]["bin_s"] / st["time_scale"]    # rates are per model second
    assert sum(arrivals) * wall_s_per_model_s == pytest.approx(3)
    assert sum(arrivals_after) * wall_s_per_model_s == pytest.approx(5)
    assert pools == [p["pool"] for p in client.get("/v1/plan").json()["pools"]]
    reasoning = next(t for t in tiers if t[0] == "reasoning")
    assert reasoning[4:] == ["5", "5", "100.0%"]                   # finished, met, attainment
    assert len(second) == 2
