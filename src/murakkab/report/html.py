"""`write_report`: one self-contained HTML file (PNGs inlined as data URIs, DAGs as inline SVG, no
scripts or network) plus the same PNGs as files, from one run dir or a directory of runs."""

from __future__ import annotations

import base64
import datetime as _dt
import json
from html import escape
from pathlib import Path

from murakkab.report import charts
from murakkab.report.compare import RATIO_HEADER, CompareRow, compare
from murakkab.report.dag import route_svg
from murakkab.report.rundir import RunData, find_runs

CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:12px;color:#555}
.note{font-size:12px;color:#555}.dagbox{overflow-x:auto;margin-bottom:14px}.good{color:#176b1a}.bad{color:#a31515}
"""


def _fmt(v, spec: str = ".3g", suffix: str = "") -> str:
    return "–" if v is None else f"{v:{spec}}{suffix}"


def _figure(chart: charts.Chart, out: Path) -> str:
    (out / f"{chart.key}.png").write_bytes(chart.png)
    b64 = base64.b64encode(chart.png).decode()
    return (f'<figure class="chart" data-chart="{escape(chart.key)}" data-values="{escape(json.dumps(chart.data))}">'
            f'<img alt="{escape(chart.title)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{escape(chart.title)}. {escape(chart.caption)}</figcaption></figure>")


def _compare_table(rows: list[CompareRow], base: str | None) -> str:
    head = ("run", "plan policy", "requests", "unfinished", "SLO attainment", "peak GPUs", "GPU-hours",
            "facility MWh", "Wh/request", "cost $", "accuracy %", f"{RATIO_HEADER}: peak GPUs", "GPU-hours",
            "energy", "cost", f"paper {RATIO_HEADER}: GPUs", "energy", "cost")
    out = ['<table id="compare"><tr>' + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        ours, paper = r.static_over_run, r.paper
        cells = (r.label, r.policy or "?", str(r.requests), str(r.unfinished), _fmt(r.slo_attainment and
                 100 * r.slo_attainment, ".1f", "%"), str(r.peak_gpus), _fmt(r.gpu_hours, ".2f"),
                 _fmt(r.facility_mwh, ".4g"), _fmt(r.wh_per_request, ".3g"), _fmt(r.cost_usd, ",.2f"),
                 _fmt(r.delivered_accuracy_percent, ".1f"),
                 *(_fmt(getattr(ours, k) if ours else None, ".2f", "x") for k in ("peak_gpus", "gpu_hours", "energy",
                                                                                 "cost")),
                 *(_fmt(getattr(paper, k) if paper else None, ".2f", "x") for k in ("gpus", "energy", "cost")))
        data = escape(json.dumps({"run": r.run, "requests": r.requests, "facility_mwh": r.facility_mwh,
                                  "gpu_hours": r.gpu_hours, "cost_usd": r.cost_usd,
                                  "static_over_run_energy": ours.energy if ours else None}))
        out.append(f'<tr data-row="{data}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    note = (f"Ratios are {escape(RATIO_HEADER)}: the run '{escape(base)}' divided by each run, so 2.00x means the "
            "static baseline needs twice as much." if base else
            "No static run in this directory, so no ratios (run the static policy too to get them).")
    sources = sorted({r.paper.source for r in rows if r.paper})
    if sources:
        note += f" Paper ratios: {escape('; '.join(sources))}; its scenario and catalogue differ from ours."
    return "".join(out) + f'<p class="note">{note} Energy and power are modelled by the simulator, never measured.</p>'


def _slo_table(run: RunData) -> str:
    out = ['<table class="slo"><tr><th>workflow</th><th>tier</th><th>SLO</th><th>requests</th><th>attainment</th>'
           "<th>p50 s</th><th>p90 s</th><th>p99 s</th><th>accuracy %</th></tr>"]
    for t in run.summary.get("slo", []):
        cls = "good" if t["attainment"] >= 0.99 else "bad"
        out.append(f'<tr><td>{escape(t["workflow"])}</td><td>{escape(t["tier"])}</td><td>{escape(t["slo"])}</td>'
                   f'<td>{t["requests"]}</td><td class="{cls}">{100 * t["attainment"]:.1f}%</td>'
                   f'<td>{_fmt(t["latency_p50_s"], ".2f")}</td><td>{_fmt(t["latency_p90_s"], ".2f")}</td>'
                   f'<td>{_fmt(t["latency_p99_s"], ".2f")}</td><td>{t["accuracy_percent"]:.1f}</td></tr>')
    return "".join(out) + "</table>"


def _dags(run: RunData) -> str:
    if run.plan is None:
        return '<p class="note">This run dir has no plan.json (written before plans were saved), so no DAGs.</p>'
    parts = []
    for r in run.plan.routes:
        parts.append(f"<h4>{escape(r.workflow)} · {escape(r.tier.key)} "
                     f"({'≤' if r.tier.metric == 'latency' else '≥'} {r.tier.threshold:.4g}"
                     f"{' s' if r.tier.metric == 'latency' else '%'}): accuracy {r.accuracy_percent:.1f}% "
                     f"({escape(r.accuracy_basis)}), predicted p90 {r.latency_p90_s:.2f} s, "
                     f"{r.energy_wh_per_request:.3g} Wh/request (plan)</h4>"
                     f'<div class="dagbox">{route_svg(r, run.plan)}</div>')
    return "".join(parts)


def _pareto_section(runs: list[RunData], out: Path) -> str:
    routes: dict[str, list] = {}
    for run in runs:
        if run.plan is not None:
            for r in run.plan.routes:
                routes.setdefault(r.workflow, []).append(r)
    if not routes:
        return '<p class="note">No plan.json in the run(s), so the workflows are unknown: no Pareto fronts.</p>'
    parts = []
    from murakkab.errors import MurakkabError
    for wf, rs in sorted(routes.items()):
        try:
            parts.append(_figure(charts.pareto(wf, rs, f"pareto_{wf}"), out))
        except MurakkabError as exc:   # e.g. an uploaded workflow without profiles: say so, keep the rest
            parts.append(f'<p class="note">{escape(wf)}: no Pareto front ({escape(str(exc))}).</p>')
    return "".join(parts)


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write report.html (+ PNGs) for the run(s) in `run_dir` into `out` (default run_dir/report);
    returns the HTML path. Raises ReportError when run_dir holds no readable run."""
    runs = find_runs(run_dir)
    out = out or run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    rows, base = compare(runs)
    many = len(runs) > 1
    body = [f"<h1>murakkab report: {escape(run_dir.name)}</h1>",
            f'<p class="note">{len(runs)} run(s); generated {_dt.datetime.now().isoformat(timespec="seconds")}. '
            "Every energy, power and cost figure is modelled by the simulator from the profiles "
            "(see docs/simulator.md).</p>",
            "<h2>Policy comparison</h2>" if many else "<h2>Run totals</h2>", _compare_table(rows, base),
            _figure(charts.comparison(rows, "comparison"), out) if many else "",
            "<h2>Energy per request</h2>", _figure(charts.energy_per_request(runs, "energy_per_request"), out),
            "<h2>Pareto fronts</h2>", _pareto_section(runs, out)]
    for k, run in enumerate(runs):
        slug = f"{k}_{run.name}" if many else "run"
        body += [f'<section class="run" data-run="{escape(run.name)}"><h2>Run {escape(run.label)}</h2>',
                 "<h3>SLO attainment</h3>", _slo_table(run),
                 "<h3>Executable DAGs (model, hardware, operating point of each step)</h3>", _dags(run),
                 "<h3>GPUs and power over time</h3>", _figure(charts.gpus_and_power(run, f"gpus_power_{slug}"), out),
                 "<h3>Latency against each SLO</h3>", _figure(charts.latency_cdf(run, f"latency_cdf_{slug}"), out),
                 "</section>"]
    html = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>murakkab report: {escape(run_dir.name)}</title><style>{CSS}</style></head><body>"
            + "".join(body) + "</body></html>")
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
