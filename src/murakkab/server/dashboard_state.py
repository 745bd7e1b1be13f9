"""Pure functions behind the dashboard's JSON: request rates per bin, SLO attainment per tier, the
power a pool draws now, recent jobs with their per-step accounting.

Energy of a job is what the runtime attributed to it (modelled for simulated backends, measured only
where a meter says so: see each job's `energy_basis`). Pool power is modelled by the shared instance
model (`murakkab.instance`, the simulator's and the runtime meter's rule) at each allocated instance's
occupancy: P(b) of the profile curve for a model pool, idle + (busy - idle) x occupancy for a tool;
real (remote) backends have no meter here, so their power is unknown (null).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from murakkab.instance.model import InstanceModel
from murakkab.policy.slo import SloRule
from murakkab.policy.slo import attainment as slo_attainment

POWER_BASIS = ("modelled: accelerators only, before PUE; the instance model's power at each allocated instance's "
               "calls in flight (model pools: the profile's P(b); tools: idle + (busy - idle) x occupancy)")


@dataclass(frozen=True)
class JobRow:
    id: str
    workflow: str
    tier: str
    status: str
    created: float          # unix s, when accepted
    updated: float          # unix s, last change (finish time for finished jobs)
    result: dict | None
    error: str | None


@dataclass(frozen=True)
class TierRule:
    """A (workflow, tier) of the running plan and the SLO rule its requests are judged by."""
    workflow: str
    tier: str               # tier key, e.g. latency:good
    rule: SloRule

    @property
    def slo(self) -> str:
        return self.rule.describe()


def slo_met(job: JobRow, rule: TierRule) -> bool:
    """Only a completed job can meet its SLO; then `policy.slo` judges its model-time latency (the
    simulator's and the runtime's rule)."""
    if job.status != "completed" or job.result is None:
        return False
    return rule.rule.met(job_latency_s(job.result))


def job_latency_s(result: dict) -> float:
    """A job's latency in model time, the time its tier's threshold is in: `model_latency_s` (wall clock
    divided by the simulated backend's time scale); results journalled before it existed have only
    the wall-clock `latency_s`."""
    v = result.get("model_latency_s")
    return float(v if v is not None else result.get("latency_s", math.inf))


def attainment(jobs: list[JobRow], rules: dict[tuple[str, str], TierRule], now: float,
               window_s: float, time_scale: float = 1.0) -> list[dict]:
    """Per (workflow, tier): jobs finished in the last `window_s` (wall clock), how many met the SLO,
    and the rate of accepted jobs over the window per model second (a wall second at `time_scale` is
    1/time_scale model seconds)."""
    out = {}
    for key, rule in rules.items():
        out[key] = {"workflow": rule.workflow, "tier": rule.tier, "slo": rule.slo, "finished": 0, "met": 0,
                    "attainment": None, "rate_rps": 0.0}
    for j in jobs:
        rule = rules.get((j.workflow, j.tier))
        if rule is None:
            continue
        row = out[(j.workflow, j.tier)]
        if j.created >= now - window_s:
            row["rate_rps"] += time_scale / window_s
        if j.status in ("completed", "failed") and j.updated >= now - window_s:
            row["finished"] += 1
            row["met"] += slo_met(j, rule)
    for row in out.values():
        row["attainment"] = slo_attainment(row["met"], row["finished"])
    return [out[k] for k in sorted(out)]


def series(jobs: list[JobRow], now: float, window_s: float, bin_s: float, time_scale: float = 1.0) -> dict:
    """Bins of `bin_s` wall seconds over the last `window_s`, oldest first: accepted requests per model
    second, and the power attributed to the jobs finished in each bin (their energy, accounted in
    model time, over the bin's model seconds: bin_s / time_scale), W."""
    n = max(1, int(round(window_s / bin_s)))
    start = now - n * bin_s
    arrivals, power = [0.0] * n, [0.0] * n
    for j in jobs:
        k = math.floor((j.created - start) / bin_s)
        if 0 <= k < n:
            arrivals[k] += time_scale / bin_s
        if j.status == "completed" and j.result is not None:
            k = math.floor((j.updated - start) / bin_s)
            if 0 <= k < n:
                power[k] += float(j.result.get("energy_wh", 0.0)) * 3600.0 * time_scale / bin_s
    return {"bin_s": bin_s, "time_scale": time_scale, "t_start_unix": [start + k * bin_s for k in range(n)], "arrivals_rps": arrivals,
            "attributed_power_w": power}


def pool_power_w(model: InstanceModel, loads: Iterable[int]) -> float:
    """Accelerator power of a pool's allocated instances, each at its load (calls in flight and queued:
    a queue forms only when every slot is held, and queued calls draw nothing more)."""
    return sum(model.power_w(load) for load in loads)


def job_view(j: JobRow) -> dict:
    """A job with its per-step accounting (latency, tokens, energy, cost, pools), without outputs."""
    r = j.result or {}
    steps = [{k: s.get(k) for k in ("task", "kind", "model", "skipped", "pools", "calls", "latency_s", "tokens_in",
                                    "tokens_out", "energy_wh", "energy_basis", "cost_usd")}
             for s in r.get("steps", [])]
    return {"id": j.id, "workflow": j.workflow, "tier": j.tier, "status": j.status, "created_unix": j.created,
            "latency_s": r.get("latency_s"), "model_latency_s": r.get("model_latency_s"), "energy_wh": r.get("energy_wh"), "energy_basis": r.get("energy_basis"),
            "cost_usd": r.get("cost_usd"), "error": j.error, "steps": steps}
