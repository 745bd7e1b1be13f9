"""`murakkab demo` on a short horizon with tiny rates: six runs, honest ratios, seeded reproducibility,
and the real per-workflow / joint re-planning path (one epoch re-plan in 2 hours)."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from murakkab.sim.demo import DemoScenario, run_demo

LABELS = ["static", "static+autoscale", "per-workflow", "per-workflow+autoscale", "joint", "joint+autoscale"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(app, ["demo", "--hours", "2", "--scale", "0.05", "--seed", "3", "--out", str(out),
                                   "--no-parallel"])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_table_has_six_runs_and_the_paper_ratios(cli_run):
    out, text = cli_run
    for label in LABELS:
        assert f"│ {label} " in text
    assert "2.82x" in text and "3.72x" in text and "4.33x" in text     # arXiv Table 1: 2560/908, 80.4/21.6, 201.5/46.5
    assert "mip_rel_gap 0.01" in text
    assert f"run directory: {out}" in text


def test_ratios_come_from_the_runs_own_summaries(cli_run):
    out, _ = cli_run
    static = json.loads((out / "static" / "summary.json").read_text())
    joint = json.loads((out / "joint" / "summary.json").read_text())
    rows = {r["label"]: r for r in json.loads((out / "comparison.json").read_text())}
    assert [r for r in rows] == LABELS
    # by hand from the two summary files
    gpus = sum(static["peak_gpus_by_type"].values()) / sum(joint["peak_gpus_by_type"].values())
    assert rows["joint"]["static_over_this_gpus"] == pytest.approx(gpus)
    assert rows["joint"]["static_over_this_energy"] == pytest.approx(static["facility_mwh"] / joint["facility_mwh"])
    assert rows["joint"]["static_over_this_cost"] == pytest.approx(static["cost_usd"] / joint["cost_usd"])
    assert rows["static"]["static_over_this_gpus"] == 1.0
    with (out / "comparison.csv").open() as fh:
        assert [r["label"] for r in csv.DictReader(fh)] == LABELS


def test_dynamic_policies_really_replan_once_in_two_hours(cli_run):
    out, _ = cli_run
    rows = {r["label"]: r for r in json.loads((out / "comparison.json").read_text())}
    for label in LABELS:
        assert rows[label]["replans"] == (0 if label.startswith("static") else 1)
        assert rows[label]["requests"] > 0
    for label in ("per-workflow", "joint"):
        s = json.loads((out / label / "summary.json").read_text())
        assert len(s["plan_solve_s"]) == 2                     # first plan + the epoch re-plan at 1 h
        with (out / label / "forecasts.csv").open() as fh:
            fc = list(csv.DictReader(fh))
        assert {float(r["epoch_end_s"]) for r in fc} == {3600.0}
        assert {(r["workflow"], r["tier"]) for r in fc} == {(w, t) for w in ("code_gen", "reasoning", "video_qa")
                                                           for t in ("accuracy:good", "latency:good")}
    for name in ("plan.json", "steps.csv", "timeseries.csv", "gpus_over_time.png", "latency_cdf.png"):
        assert (out / "joint" / name).exists()
    assert (out / "comparison.png").exists() and (out / "scenario.json").exists()


def test_same_seed_same_numbers_in_parallel_workers(cli_run, tmp_path):
    out, _ = cli_run
    rows = run_demo(DemoScenario(hours=2, scale=0.05, seed=3), tmp_path, parallel=True, plots=False)
    before = json.loads((out / "comparison.json").read_text())
    keys = ("peak_gpus", "peak_gpus_by_type", "facility_mwh", "cost_k_usd", "slo_attainment", "requests",
            "delivered_accuracy_percent")
    assert [{k: r[k] for k in keys} for r in rows] == [{k: r[k] for k in keys} for r in before]


def test_bad_options_are_clear_errors(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--hours", "0", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--hours must be > 0" in res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad", [{"replan_check_s": 0.0}, {"replan_deviation": -0.1},
                                 {"latency_wait_probability": 1.5}])
def test_bad_scenario_settings_are_refused_before_any_planning(bad):
    from murakkab.errors import MurakkabError
    from murakkab.sim.demo import DemoScenario
    with pytest.raises(MurakkabError, match=next(iter(bad))):
        DemoScenario(**bad)
