"""`murakkab report`: the comparison table and charts carry the runs' own numbers, DAG layout by hand,
clear errors on bad run dirs, and the CLI."""

from __future__ import annotations

import csv
import json
import re

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from murakkab.plan.schema import Plan
from murakkab.report import charts
from murakkab.report.compare import compare
from murakkab.report.dag import route_svg
from murakkab.report.html import write_report
from murakkab.report.rundir import ReportError, find_runs, load_run


def _summary(d):
    return json.loads((d / "summary.json").read_text())


def test_comparison_rows_and_ratios_come_from_each_summary(comparison_dir):
    rows, base = compare(find_runs(comparison_dir))
    assert base == "static"
    assert [r.run for r in rows] == ["joint", "static"]           # sub-directories in name order
    s_joint, s_static = _summary(comparison_dir / "joint"), _summary(comparison_dir / "static")
    joint = rows[0]
    assert joint.requests == s_joint["requests"]
    assert joint.peak_gpus == sum(s_joint["peak_gpus_by_type"].values())
    # one direction everywhere: static ÷ run
    assert joint.static_over_run.energy == pytest.approx(s_static["facility_mwh"] / s_joint["facility_mwh"])
    assert joint.static_over_run.cost == pytest.approx(s_static["cost_usd"] / s_joint["cost_usd"])
    assert joint.static_over_run.peak_gpus == pytest.approx(sum(s_static["peak_gpus_by_type"].values())
                                                            / sum(s_joint["peak_gpus_by_type"].values()))
    assert rows[1].static_over_run.energy == pytest.approx(1.0)
    assert joint.wh_per_request == pytest.approx(s_joint["facility_mwh"] * 1e6 / s_joint["requests"])
    assert (joint.policy, joint.autoscale, joint.replans) == ("joint", False, 0)


def test_paper_ratios_are_the_published_table_1_figures():
    from murakkab.report.paper import paper_ratios
    got = paper_ratios()
    # arXiv 2508.18298v2 Table 1 (p.9): Static 2560 GPUs, 80.4 MWh, 201.5 k$; Murakkab Opt 1151, 27.1, 56.2;
    # Murakkab Opt+Mult 908, 21.6, 46.5 (typed here from the paper, not read from the packaged file)
    assert (got["per-workflow"].gpus, got["per-workflow"].energy, got["per-workflow"].cost) == pytest.approx(
        (2560 / 1151, 80.4 / 27.1, 201.5 / 56.2))
    assert (got["joint"].gpus, got["joint"].energy, got["joint"].cost) == pytest.approx(
        (2560 / 908, 80.4 / 21.6, 201.5 / 46.5))
    assert "arXiv Table 1" in got["joint"].source


def test_comparison_files_and_html_name_the_ratio_direction(comparison_dir, tmp_path):
    from murakkab.report.compare import write_comparison
    rows, _ = compare(find_runs(comparison_dir))
    write_comparison(rows, tmp_path)
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data["ratio"] == "static ÷ run"
    with (tmp_path / "comparison.csv").open() as fh:
        flat = {r["label"]: r for r in csv.DictReader(fh)}
    s_joint, s_static = _summary(comparison_dir / "joint"), _summary(comparison_dir / "static")
    assert float(flat["joint"]["static_over_run_cost"]) == pytest.approx(s_static["cost_usd"] / s_joint["cost_usd"])
    html = write_report(comparison_dir, tmp_path / "rep").read_text()
    assert "static ÷ run: peak GPUs" in html and "comparison.png" in {p.name for p in (tmp_path / "rep").iterdir()}


def test_power_by_hardware_integrates_to_the_runs_facility_energy(comparison_dir):
    run = load_run(comparison_dir / "joint")
    chart = charts.gpus_and_power(run, "x")
    total_wh = sum(chart.data["energy_wh_by_hardware"].values())
    assert total_wh == pytest.approx(run.summary["facility_mwh"] * 1e6, rel=1e-6)
    # GPU types in the chart are the summary's GPU types (plus any CPU nodes)
    assert set(run.summary["peak_gpus_by_type"]) <= set(chart.data["peak_units_by_hardware"])


def test_energy_per_request_is_accelerator_plus_node_joules_times_pue(comparison_dir):
    d = comparison_dir / "static"
    pue = _summary(d)["pue"]
    with (d / "requests.csv").open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["latency_s"] not in ("", "None")]
    by_hand = [(float(r["gpu_j"]) + float(r["node_j"])) * pue / 3600 for r in rows]
    assert charts.request_energy_wh(load_run(d)) == pytest.approx(by_hand)


def test_dag_svg_shows_every_step_with_its_model_and_operating_point(comparison_dir):
    plan = Plan.from_json((comparison_dir / "joint" / "plan.json").read_text())
    route = plan.routes[0]
    svg = route_svg(route, plan)
    assert svg.count('class="step"') == len(route.steps)
    assert svg.count("<line") == len(route.edges)
    for step in route.steps:
        if step.model:
            assert f'data-model="{step.model}"' in svg
        for ps in step.pools:
            pool = plan.pool(ps.pool)
            assert f"{pool.units_per_instance}x{pool.hardware}" in svg
            if pool.max_num_seqs is not None:
                assert f"max_num_seqs {pool.max_num_seqs}" in svg


def test_report_html_is_self_contained(comparison_dir, tmp_path):
    path = write_report(comparison_dir, tmp_path / "rep")
    html = path.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)          # nothing fetched from a network
    assert "<script" not in html
    pngs = sorted(p.name for p in (tmp_path / "rep").glob("*.png"))
    assert html.count("data:image/png;base64,") == len(pngs)
    assert {"energy_per_request.png", "pareto_code_gen.png", "pareto_reasoning.png"} <= set(pngs)
    plans = [Plan.from_json((comparison_dir / r / "plan.json").read_text()) for r in ("joint", "static")]
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="dag"') == sum(len(p.routes) for p in plans)


def test_bad_run_dirs_are_refused_with_the_reason_and_nothing_written(tmp_path):
    with pytest.raises(ReportError, match="not a directory"):
        find_runs(tmp_path / "missing")
    with pytest.raises(ReportError, match="holds no simulation run"):
        write_report(tmp_path)
    assert not (tmp_path / "report").exists()
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(ReportError, match="missing timeseries.csv"):
        write_report(tmp_path)
    (tmp_path / "timeseries.csv").write_text("")
    with pytest.raises(ReportError, match="summary.json lacks requests, facility_mwh"):
        write_report(tmp_path)
    assert not (tmp_path / "report").exists()


def test_cli_writes_and_prints_the_path(comparison_dir, tmp_path):
    res = CliRunner().invoke(app, ["report", str(comparison_dir / "joint"), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert str(tmp_path / "report.html") in res.output.replace("\n", "")
    assert (tmp_path / "report.html").is_file()
    bad = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "not a directory" in bad.output


def test_demo_layout_without_requests_csv(comparison_dir, tmp_path):
    import shutil
    demo = tmp_path / "demo-x"
    for run in ("static", "joint"):
        shutil.copytree(comparison_dir / run, demo / run, ignore=shutil.ignore_patterns("requests.*", "instance_power.*"))
    (demo / "comparison.json").write_text("[]")                       # demo's own files sit beside the runs
    runs = find_runs(demo)
    assert [r.requests for r in runs] == [None, None]
    chart = charts.energy_per_request(runs, "e")
    s = _summary(demo / "joint")
    with (demo / "joint" / "steps.csv").open() as fh:
        steps = [r for r in csv.DictReader(fh) if r["workflow"] == "code_gen" and r["tier"] == "latency:good"]
    n = next(t["requests"] for t in s["slo"] if t["workflow"] == "code_gen" and t["tier"] == "latency:good")
    by_hand = sum(float(r["gpu_j"]) + float(r["node_j"]) for r in steps) * s["pue"] / 3600 / n
    assert chart.data["mean_wh"]["joint"]["code_gen latency:good"] == pytest.approx(by_hand)
    lat = charts.latency_cdf(runs[0], "l").data["series"]["code_gen latency:good"]
    t = next(t for t in s["slo"] if t["tier"] == "latency:good")
    assert tuple(lat["percentiles_s"][0]) == (t["latency_p50_s"], 0.5)
    assert write_report(demo).is_file()
