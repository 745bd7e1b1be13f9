"""Report charts as PNG bytes, each with the numbers it plots (embedded in the HTML as data
attributes, so a reader or a test can check a chart holds the run's data).

All energy and power here is modelled by the simulator, never measured.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field

from murakkab.report.rundir import RunData


@dataclass
class Chart:
    key: str                      # file stem, e.g. "gpus_power_static"
    title: str
    png: bytes
    data: dict = field(default_factory=dict)
    caption: str = ""


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    _plt().close(fig)
    return buf.getvalue()


def by_hardware(run: RunData) -> tuple[list[float], dict[str, list[float]], dict[str, list[float]]]:
    """Bin start times (s), and per hardware type the allocated units and facility power (W) per bin."""
    bins = sorted({r.t_start_s for r in run.series})
    idx = {t: k for k, t in enumerate(bins)}
    units: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(bins))
    power: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(bins))
    for r in run.series:
        units[r.hardware][idx[r.t_start_s]] += r.units
        power[r.hardware][idx[r.t_start_s]] += r.facility_power_w
    return bins, dict(sorted(units.items())), dict(sorted(power.items()))


def gpus_and_power(run: RunData, key: str) -> Chart:
    plt = _plt()
    bins, units, power = by_hardware(run)
    hours = [t / 3600 for t in bins]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
    names = list(units)
    if names:
        a1.stackplot(hours, [units[h] for h in names], labels=names, step="post")
        a2.stackplot(hours, [[w / 1000 for w in power[h]] for h in names], labels=names, step="post")
        a1.legend(loc="upper left", fontsize=8)
    a1.set(xlabel="time (h)", ylabel="units allocated (GPUs; CPU nodes)", title="Instances by hardware type")
    a2.set(xlabel="time (h)", ylabel="facility power (kW, modelled)", title=f"Power by hardware type (PUE {run.pue:g})")
    peak_units = {h: max(v) for h, v in units.items()}
    energy_wh = {h: sum(v) * _bin_width(bins) / 3600 for h, v in power.items()}
    return Chart(key, f"{run.label}: GPUs and power over time", _png(fig),
                 {"bins": len(bins), "peak_units_by_hardware": peak_units, "energy_wh_by_hardware": energy_wh},
                 "Mean allocated units per time bin (allocation includes provisioning and idle instances) and "
                 "facility power = (accelerator + node power) x PUE, stacked by hardware type.")


def _bin_width(bins: list[float]) -> float:
    return bins[1] - bins[0] if len(bins) > 1 else 60.0


def _threshold(run: RunData, wf: str, tier: str) -> float | None:
    if not tier.startswith("latency:") or run.plan is None:
        return None
    try:
        return run.plan.route(wf, tier).tier.threshold
    except KeyError:
        return None


def latency_percentiles(run: RunData, key: str) -> Chart:
    """Without requests.csv (demo runs): the summary's p50/p90/p99 per tier as points of the CDF."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    data = {}
    for t in run.summary.get("slo", []):
        qs = [(t[f"latency_p{q}_s"], q / 100) for q in (50, 90, 99) if t.get(f"latency_p{q}_s") is not None]
        if not qs:
            continue
        line, = ax.plot([x for x, _ in qs], [y for _, y in qs], marker="o", label=f"{t['workflow']} {t['tier']}")
        threshold = _threshold(run, t["workflow"], t["tier"])
        if threshold is not None:
            ax.axvline(threshold, color=line.get_color(), linestyle="--", linewidth=1)
        data[f"{t['workflow']} {t['tier']}"] = {"finished": t["requests"], "slo": t["slo"], "percentiles_s": qs,
                                                "latency_threshold_s": threshold, "attainment": t["attainment"]}
    ax.set_xscale("log")
    ax.set(xlabel="end-to-end latency (s); dashed: latency SLO", ylabel="fraction of requests",
           title=f"{run.label}: latency percentiles against each SLO")
    if data:
        ax.legend(loc="lower right", fontsize=8)
    return Chart(key, f"{run.label}: latency percentiles", _png(fig), {"series": data},
                 "This run dir has no requests.csv (murakkab demo leaves it out), so the CDF is drawn through "
                 "the p50, p90 and p99 of summary.json.")


def latency_cdf(run: RunData, key: str) -> Chart:
    if run.requests is None:
        return latency_percentiles(run, key)
    plt = _plt()
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in run.requests:
        if r.latency_s is not None:
            by[(r.workflow, r.tier)].append(r.latency_s)
    slos = {(s["workflow"], s["tier"]): s for s in run.summary.get("slo", [])}
    fig, ax = plt.subplots(figsize=(8, 3.8))
    data = {}
    for (wf, tier), lats in sorted(by.items()):
        lats.sort()
        n = len(lats)
        line, = ax.step(lats, [(i + 1) / n for i in range(n)], where="post", label=f"{wf} {tier}")
        threshold = _threshold(run, wf, tier)
        if threshold is not None:
            ax.axvline(threshold, color=line.get_color(), linestyle="--", linewidth=1)
        s = slos.get((wf, tier), {})
        data[f"{wf} {tier}"] = {"finished": n, "slo": s.get("slo"), "latency_threshold_s": threshold,
                                "attainment": s.get("attainment")}
    ax.set_xscale("log")
    ax.set(xlabel="end-to-end latency (s); dashed: latency SLO", ylabel="fraction of finished requests",
           title=f"{run.label}: latency CDF against each SLO")
    if by:
        ax.legend(loc="lower right", fontsize=8)
    return Chart(key, f"{run.label}: latency CDFs", _png(fig), {"series": data},
                 "Accuracy tiers are met by the route's accuracy (no latency line); latency tiers by the dashed "
                 f"threshold. Unfinished requests ({run.summary.get('unfinished', 0)}) are not in the CDF.")


def request_energy_wh(run: RunData) -> list[float]:
    """Facility energy attributed to each finished request (Wh) = (accelerator + node J) x PUE / 3600."""
    return [(r.gpu_j + r.node_j) * run.pue / 3600 for r in run.requests if r.latency_s is not None]


def mean_energy_by_tier(run: RunData) -> dict[str, float]:
    """Mean facility Wh per finished request of each (workflow, tier), from steps.csv and summary.json."""
    n = {(t["workflow"], t["tier"]): t["requests"] for t in run.summary.get("slo", [])}
    return {f"{wf} {tier}": j * run.pue / 3600 / n[(wf, tier)] for (wf, tier), j in sorted(run.step_joules.items())
            if n.get((wf, tier))}


def energy_by_tier(runs: list[RunData], key: str) -> Chart:
    """Without per-request rows: mean energy per request of each (workflow, tier), grouped by run."""
    plt = _plt()
    import numpy as np
    means = {run.label: mean_energy_by_tier(run) for run in runs}
    groups = sorted({g for m in means.values() for g in m})
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(len(runs), 1)
    for k, (label, m) in enumerate(means.items()):
        ax.bar(np.arange(len(groups)) + k * width, [m.get(g, 0.0) for g in groups], width, label=label)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups, fontsize=8)
    ax.set_yscale("log")
    ax.set(ylabel="facility Wh per request (mean, modelled)", title="Energy per request by workflow and tier")
    ax.legend(fontsize=7, ncol=2)
    return Chart(key, "Energy per request by (workflow, tier)", _png(fig), {"mean_wh": means},
                 "The run dirs have no requests.csv (murakkab demo leaves it out), so this shows each tier's mean "
                 "(steps.csv energy x PUE / requests) rather than the full distribution. Idle energy is not "
                 "attributed to requests.")


def energy_per_request(runs: list[RunData], key: str) -> Chart:
    if any(run.requests is None for run in runs):
        return energy_by_tier(runs, key)
    plt = _plt()
    import numpy as np
    fig, ax = plt.subplots(figsize=(8, 3.8))
    data = {}
    vals = {run.label: request_energy_wh(run) for run in runs}
    pos = [v for vs in vals.values() for v in vs if v > 0]
    edges = np.logspace(np.log10(min(pos)), np.log10(max(pos)), 40) if pos else None
    for label, vs in vals.items():
        ok = [v for v in vs if v > 0]
        if ok:
            ax.hist(ok, bins=edges, histtype="step", linewidth=1.5, label=label)
        srt = sorted(vs)
        data[label] = {"requests": len(vs), "mean_wh": sum(vs) / len(vs) if vs else None,
                       "median_wh": srt[len(srt) // 2] if srt else None}
    if pos:
        ax.set_xscale("log")
        ax.legend(fontsize=8)
    ax.set(xlabel="facility energy per request (Wh, modelled)", ylabel="requests",
           title="Energy per request")
    return Chart(key, "Energy-per-request distribution", _png(fig), {"runs": data},
                 "Energy attributed to requests by tokens processed; idle instance energy is not attributed "
                 "to any request (it is in the run totals).")


def comparison(rows: list, key: str) -> Chart:
    """Peak GPUs, facility MWh and k$ of each run side by side (`report.compare` rows)."""
    plt = _plt()
    labels = [r.label for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    series = {"peak_gpus": [r.peak_gpus for r in rows], "facility_mwh": [r.facility_mwh for r in rows],
              "cost_k_usd": [r.cost_usd / 1000 for r in rows]}
    for ax, (name, vals), title in zip(axes, series.items(),
                                       ("peak GPUs", "facility energy (MWh, modelled)", "cost (k$)")):
        ax.bar(range(len(rows)), vals)
        ax.set_xticks(range(len(rows)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_title(title)
    return Chart(key, "Peak GPUs, energy and cost per run", _png(fig), {"runs": labels, **series},
                 "The same figures as the comparison table, from each run's summary.json.")


def pareto(workflow: str, plan_routes: list, key: str) -> Chart:
    """The workflow's accuracy/latency and accuracy/energy fronts, with the plan's routes marked."""
    from murakkab.optimizer.pareto import points
    from murakkab.optimizer.world import workflow_model
    plt = _plt()
    pts = points(workflow_model(workflow))
    front = [p for p in pts if p.on_front]
    rest = [p for p in pts if not p.on_front]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, attr, xl, route_attr in ((axes[0], "latency_p90_s", "p90 latency (s)", "latency_p90_s"),
                                     (axes[1], "energy_wh", "energy per request (Wh, full pool use)",
                                      "energy_wh_per_request")):
        ax.scatter([getattr(p, attr) for p in rest], [p.accuracy_percent for p in rest], s=8, c="#bbbbbb",
                   label="dominated")
        ax.scatter([getattr(p, attr) for p in front], [p.accuracy_percent for p in front], s=24, c="#1f77b4",
                   label="Pareto front")
        ax.scatter([getattr(r, route_attr) for r in plan_routes], [r.accuracy_percent for r in plan_routes],
                   s=90, marker="*", c="#d62728", label="plan's routes")
        ax.set_xscale("log")
        ax.set(xlabel=xl, ylabel="accuracy (%)")
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{workflow}: every configuration x pool")
    return Chart(key, f"{workflow}: Pareto fronts", _png(fig),
                 {"points": len(pts), "front": len(front), "routes": [r.tier.key for r in plan_routes]},
                 "Per-request energy and cost assume pools at their operating point (optimizer's model). "
                 "Route energy in the plan includes idle capacity at the planned load, so stars may sit right "
                 "of the front.")
