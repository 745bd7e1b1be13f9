"""The live dashboard: a static page (server/dashboard/: HTML, JS, CSS shipped in the package, no CDN)
at /dashboard that polls GET /v1/dashboard/state.

    mount_dashboard(app, runtime_state(runtime), authorize=admin_dependency)

`state_provider` is any callable returning the state dict (see `runtime_state` for its shape), so the
page can be served over other bodies too (e.g. a replayed simulation).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse

from murakkab.policy.slo import SloRule
from murakkab.runtime.cluster import pool_model
from murakkab.server.dashboard_state import (POWER_BASIS, JobRow, TierRule, attainment, job_view, pool_power_w,
                                             series)

ASSETS = Path(__file__).with_name("dashboard")
_MEDIA = {"dashboard.js": "text/javascript", "dashboard.css": "text/css", "index.html": "text/html"}


def mount_dashboard(app: FastAPI, state_provider: Callable[[], dict], authorize: Callable | None = None) -> None:
    """Serve the page at /dashboard and its state at /v1/dashboard/state (guarded by `authorize`, a
    FastAPI dependency, when given: the state shows every tenant's jobs, so it is an operator view)."""
    pages = APIRouter(include_in_schema=False)

    @pages.get("/dashboard")
    async def dashboard_page():
        return FileResponse(ASSETS / "index.html", media_type="text/html")

    @pages.get("/dashboard/{asset}")
    async def dashboard_asset(asset: str):
        if asset not in _MEDIA:      # a fixed list: nothing else under the package is reachable
            raise HTTPException(status_code=404, detail=f"no dashboard asset '{asset}'")
        return FileResponse(ASSETS / asset, media_type=_MEDIA[asset])

    api = APIRouter(dependencies=[Depends(authorize)] if authorize else [])

    @api.get("/v1/dashboard/state", tags=["dashboard"])
    async def dashboard_state() -> dict[str, Any]:
        """Pools and instance counts, request rates, SLO attainment per tier, power and energy, recent
        jobs with their per-step accounting."""
        return state_provider()

    app.include_router(pages)
    app.include_router(api)


def _read_jobs(db_path: str, since: float, recent: int) -> tuple[list[JobRow], list[JobRow], dict, float]:
    """Jobs touched since `since`, the `recent` newest jobs, counts by status and total attributed Wh,
    through a read-only connection of our own (the journal is WAL: readers never block its writer)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        cols = "id, workflow, tier, status, created, updated, result, error, tenant"
        from murakkab.spec import builtin_names
        builtins = set(builtin_names())

        def rows(sql, params=()):
            # uploads are named 'tenant/name' in plans (and so in the tier rules): name jobs the same way
            return [JobRow(i, w if w in builtins else f"{tn}/{w}", t, s, c, u, json.loads(r) if r else None, e)
                    for i, w, t, s, c, u, r, e, tn in con.execute(sql, params).fetchall()]
        window = rows(f"SELECT {cols} FROM requests WHERE created >= ? OR updated >= ?", (since, since))
        newest = rows(f"SELECT {cols} FROM requests ORDER BY created DESC LIMIT ?", (recent,))
        counts = dict(con.execute("SELECT status, COUNT(*) FROM requests GROUP BY status").fetchall())
        energy = con.execute("SELECT COALESCE(SUM(json_extract(result, '$.energy_wh')), 0) FROM requests "
                             "WHERE status = 'completed'").fetchone()[0]
    finally:
        con.close()
    return window, newest, counts, float(energy)


def runtime_state(rt, *, window_s: float = 300.0, bin_s: float = 10.0, recent: int = 20) -> Callable[[], dict]:
    """A state provider over a running `murakkab.runtime.service.Runtime`."""

    def provide() -> dict:
        now = time.time()
        window, newest, counts, energy_wh = _read_jobs(rt.journal.path, now - window_s, recent)
        pools, rules, plan_info = [], {}, None
        total_w: float | None = 0.0
        cluster = rt.cluster
        if cluster is not None:
            plan = cluster.current_plan()
            plan_info = {"version": rt.plan_version, "plan_id": plan.plan_id, "policy": plan.policy,
                         "objective": plan.objective, "pue": plan.pue}
            for r in plan.routes:
                rules[(r.workflow, r.tier.key)] = TierRule(r.workflow, r.tier.key, SloRule.of_route(r))
            for pid, ps in cluster.pools.items():
                p = ps.plan
                infos = cluster.instances(pid)
                slots = cluster.slots_per_instance(pid)
                power = None
                if ps.mode == "simulated":
                    power = pool_power_w(pool_model(p), (i.load for i in infos))
                    total_w = None if total_w is None else total_w + power
                else:
                    total_w = None          # one unknown makes the total unknown
                pools.append({"pool": pid, "kind": p.kind, "model": p.model or p.tool, "hardware": p.hardware,
                              "units_per_instance": p.units_per_instance, "operating_point":
                              p.max_num_seqs if p.kind == "model" else p.concurrency, "backend": ps.mode,
                              "planned": p.instances, "desired": ps.desired,
                              "ready": sum(1 for i in infos if i.ready and not i.draining),
                              "provisioning": sum(1 for i in infos if not i.ready),
                              "draining": sum(1 for i in infos if i.draining), "load": sum(i.load for i in infos),
                              "slots": slots * len(infos), "power_w": power})
        scale = rt.cfg.time_scale           # rates and attributed power per model second (see dashboard_state)
        return {"now_unix": now, "window_s": window_s, "time_scale": scale, "plan": plan_info, "pools": pools,
                "tiers": attainment(window, rules, now, window_s, scale),
                "series": series(window, now, window_s, bin_s, scale),
                "totals": {"requests_by_status": counts, "energy_wh": energy_wh,
                           "energy_basis": "attributed to completed jobs (see each job's energy_basis)",
                           "power_w": total_w, "power_basis": POWER_BASIS},
                "recent": [job_view(j) for j in newest]}

    return provide
