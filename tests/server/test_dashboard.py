"""Dashboard state: rates, attainment, power and per-job accounting by hand; the state endpoint over
a real runtime; operator-only access; only the shipped assets are served."""

from __future__ import annotations

import pytest

from murakkab.policy.slo import SloRule
from murakkab.runtime.cluster import pool_model
from murakkab.server.dashboard_state import JobRow, TierRule, attainment, pool_power_w, series, slo_met
from tests.runtime import worlds as w

NOW = 10_000.0


def job(i, tier="latency:good", status="completed", created=NOW - 5, updated=NOW - 1, latency=1.0, wh=0.5):
    return JobRow(f"j{i}", "wf", tier, status, created, updated,
                  {"latency_s": latency, "energy_wh": wh} if status == "completed" else None, None)


RULES = {("wf", "latency:good"): TierRule("wf", "latency:good", SloRule("latency", 2.0, None, 70.0)),
         ("wf", "accuracy:good"): TierRule("wf", "accuracy:good", SloRule("accuracy", 80.0, None, 85.0))}


def test_slo_rules_latency_threshold_route_accuracy_and_failures():
    lat, acc = RULES[("wf", "latency:good")], RULES[("wf", "accuracy:good")]
    assert slo_met(job(1, latency=2.0), lat) and not slo_met(job(2, latency=2.01), lat)
    assert slo_met(job(3, tier="accuracy:good", latency=99), acc)          # route 85% >= 80%
    assert not slo_met(job(4, status="failed"), lat)
    # the simulator's rule: a latency tier also needs its route at the tier's accuracy floor
    below_floor = TierRule("wf", "latency:good", SloRule("latency", 2.0, 75.0, 70.0))
    assert not slo_met(job(5, latency=1.0), below_floor)
    assert below_floor.slo == "latency <= 2 s (accuracy >= 75%)"


def test_attainment_and_rates_over_the_window():
    jobs = [job(1, latency=1.0), job(2, latency=3.0), job(3, status="failed"),
            job(4, created=NOW - 400, updated=NOW - 350),                     # outside a 300 s window
            job(5, status="running", updated=NOW - 1)]                         # not finished
    rows = {(r["workflow"], r["tier"]): r for r in attainment(jobs, RULES, NOW, 300.0)}
    lat = rows[("wf", "latency:good")]
    assert (lat["finished"], lat["met"]) == (3, 1)
    assert lat["attainment"] == pytest.approx(1 / 3)
    assert lat["rate_rps"] == pytest.approx(4 / 300)                          # jobs 1, 2, 3, 5 accepted in window
    assert rows[("wf", "accuracy:good")]["attainment"] is None


def test_series_bins_arrivals_and_attributed_power():
    jobs = [job(1, created=NOW - 25, updated=NOW - 15, wh=1.0), job(2, created=NOW - 21, updated=NOW - 1, wh=2.0),
            job(3, created=NOW - 5, status="failed", updated=NOW - 2)]
    s = series(jobs, NOW, 30.0, 10.0)
    assert s["t_start_unix"] == [NOW - 30, NOW - 20, NOW - 10]
    assert s["arrivals_rps"] == pytest.approx([0.2, 0.0, 0.1])                # two in [-30,-20), one in [-10,0)
    assert s["attributed_power_w"] == pytest.approx([0.0, 1.0 * 3600 / 10, 2.0 * 3600 / 10])


def test_series_and_rates_are_per_model_second_at_a_time_scale():
    """At time scale 0.01 a 10 s wall bin is 1000 model seconds: 1 Wh finished in it is 3.6 W, not 360 W
    (the energy is accounted in model time), and one arrival is 0.001 requests per model second."""
    jobs = [JobRow("a", "w", "t", "completed", NOW - 5, NOW - 5, {"energy_wh": 1.0}, None)]
    s = series(jobs, NOW, 10.0, 10.0, time_scale=0.01)
    assert s["attributed_power_w"] == pytest.approx([1.0 * 3600 / 1000])
    assert s["arrivals_rps"] == pytest.approx([1 / 1000])
    rule = TierRule("w", "t", SloRule("accuracy", 50.0, None, 60.0))
    assert attainment(jobs, {("w", "t"): rule}, NOW, 10.0, time_scale=0.01)[0]["rate_rps"] == pytest.approx(1 / 1000)


def test_pool_power_follows_each_instances_occupancy_and_caps_at_its_slots():
    # hand pool "m": P(b) = 100 + 75 b over 4 slots; tool: 50 W idle, 200 W at 2 of 2 slots
    model = pool_model(w.model_pool())
    assert pool_power_w(model, [0, 2, 9]) == pytest.approx(100 + 250 + 400)   # queued calls draw no more
    assert pool_power_w(pool_model(w.tool_pool("t", "whisper_stt")), [1, 0]) == pytest.approx(125 + 50)


VIDEO_IN = {"video": "clip.mp4", "question": "what happens?"}


def test_state_endpoint_reports_the_runtime(server):
    h = server.hdr("admin")
    ids = []
    for _ in range(3):
        r = server.post("/v1/workflows/reasoning/invoke", json={"inputs": {"problem": "2+2"}, "tier": "accuracy:good"},
                        headers=h)
        assert r.status_code == 200
        ids.append(r.json()["request_id"])
    st = server.get("/v1/dashboard/state", headers=h).json()
    plan = server.get("/v1/plan", headers=h).json()
    assert [p["pool"] for p in st["pools"]] == [p["pool"] for p in plan["pools"]]
    assert [p["ready"] for p in st["pools"]] == [p["ready"] for p in plan["pools"]]
    # idle now: every simulated pool draws its idle power x allocated instances
    for p, pp in zip(st["pools"], plan["plan"]["pools"]):
        assert p["power_w"] == pytest.approx(pp["power_idle_w"] * p["ready"])
    assert st["totals"]["power_w"] == pytest.approx(sum(p["power_w"] for p in st["pools"]))
    # rates are per model second: at time scale 0.001 one wall second is 1000 model seconds
    assert st["time_scale"] == 0.001
    assert sum(st["series"]["arrivals_rps"]) * st["series"]["bin_s"] / st["time_scale"] == pytest.approx(3)
    reasoning = next(t for t in st["tiers"] if t["workflow"] == "reasoning")
    assert (reasoning["finished"], reasoning["met"]) == (3, 3)                 # hand plan: accuracy tiers are met
    recent = {j["id"]: j for j in st["recent"]}
    assert set(ids) <= set(recent)
    for rid in ids:
        res = server.get(f"/v1/jobs/{rid}", headers=h).json()["result"]
        assert recent[rid]["energy_wh"] == pytest.approx(res["energy_wh"])
        assert sum(s["energy_wh"] for s in recent[rid]["steps"]) == pytest.approx(res["energy_wh"])
    assert st["totals"]["energy_wh"] == pytest.approx(sum(recent[r]["energy_wh"] for r in ids))


def test_state_is_for_admins_only_and_assets_are_a_fixed_list(server):
    assert server.get("/v1/dashboard/state").status_code == 401
    assert server.get("/v1/dashboard/state", headers=server.hdr("acme")).status_code == 403
    page = server.get("/dashboard")
    assert page.status_code == 200 and "/dashboard/dashboard.js" in page.text
    assert "http" not in page.text.replace("http://www.w3.org", "")             # no CDN, nothing remote
    assert server.get("/dashboard/dashboard.js").headers["content-type"].startswith("text/javascript")
    assert server.get("/dashboard/app.py").status_code == 404
    assert server.get("/dashboard/..%2Fapp.py").status_code == 404
