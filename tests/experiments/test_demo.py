"""`murakkab demo` on a short horizon with tiny rates: six runs, honest ratios, seeded reproducibility,
and the real per-workflow / joint re-planning path (one epoch re-plan in 2 hours)."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from murakkab.experiments.demo import DemoScenario, run_demo

LABELS = ["static", "static+autoscale", "per-workflow", "per-workflow+autoscale", "joint", "joint+autoscale"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(app, ["demo", "--hours", "2", "--scale", "0.05", "--seed", "3", "--out", str(out),
                                   "--no-parallel"])
    assert res.exit_code == 0, res.output
    return out, res.output


def _summary(out, label):
    return json.loads((out / label / "summary.json").read_text())


def _gpus(summary):
    return sum(summary["peak_gpus_by_type"].values())


def test_table_shows_each_runs_own_ratios_beside_the_published_ones(cli_run):
    out, text = cli_run
    lines: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("│ "):
            lines.setdefault(line.split("│")[1].strip(), line)          # the first table: resources and ratios
    for label in LABELS:
        assert label in lines
    static, joint = _summary(out, "static"), _summary(out, "joint")
    cells = [c.strip() for c in lines["joint"].split("│")[1:-1]]
    # our static ÷ run by hand from the two summary files, then the arXiv Table 1 figures (2560/908 GPUs,
    # 80.4/21.6 MWh, 201.5/46.5 k$) typed from the paper
    assert cells[-6:] == [f"{_gpus(static) / _gpus(joint):.2f}x", f"{static['facility_mwh'] / joint['facility_mwh']:.2f}x",
                          f"{static['cost_usd'] / joint['cost_usd']:.2f}x", "2.82x", "3.72x", "4.33x"]
    assert "static ÷ run" in text and "mip_rel_gap 0.01" in text
    assert f"run directory: {out}" in text
    assert (out / "report" / "report.html").is_file() and (out / "report" / "comparison.png").is_file()


def test_ratios_come_from_the_runs_own_summaries(cli_run):
    out, _ = cli_run
    static, joint = _summary(out, "static"), _summary(out, "joint")
    data = json.loads((out / "comparison.json").read_text())
    assert data["ratio"] == "static ÷ run"
    rows = {r["label"]: r for r in data["rows"]}
    assert list(rows) == LABELS
    ours = rows["joint"]["static_over_run"]
    assert ours["peak_gpus"] == pytest.approx(_gpus(static) / _gpus(joint))
    assert ours["energy"] == pytest.approx(static["facility_mwh"] / joint["facility_mwh"])
    assert ours["cost"] == pytest.approx(static["cost_usd"] / joint["cost_usd"])
    assert rows["static"]["static_over_run"]["peak_gpus"] == 1.0
    assert rows["joint+autoscale"]["paper"] is None                 # the paper's table has no autoscaled rows
    with (out / "comparison.csv").open() as fh:
        assert [r["label"] for r in csv.DictReader(fh)] == LABELS


def test_dynamic_policies_really_replan_once_in_two_hours(cli_run):
    out, _ = cli_run
    rows = {r["label"]: r for r in json.loads((out / "comparison.json").read_text())["rows"]}
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
    for name in ("plan.json", "steps.csv", "timeseries.csv"):
        assert (out / "joint" / name).exists()
    assert (out / "scenario.json").exists()


def test_same_seed_same_numbers_in_parallel_workers(cli_run, tmp_path):
    out, _ = cli_run
    rows = run_demo(DemoScenario(hours=2, scale=0.05, seed=3), tmp_path, parallel=True)
    before = json.loads((out / "comparison.json").read_text())["rows"]
    keys = ("peak_gpus", "peak_gpus_by_type", "facility_mwh", "cost_usd", "slo_attainment_by_tier", "requests",
            "delivered_accuracy_percent")
    assert [{k: getattr(r, k) for k in keys} for r in rows] == [{k: r[k] for k in keys} for r in before]


def test_bad_options_are_clear_errors(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--hours", "0", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--hours must be > 0" in res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad, words", [({"replan_check_s": 0.0}, "deviation check interval must be in"),
                                        ({"replan_deviation": -0.1}, "needs deviation > 0"),
                                        ({"peak_factor": 0.5}, "peak factor must be >= 1"),
                                        ({"latency_wait_probability": 1.5}, "latency_wait_probability")])
def test_bad_scenario_settings_are_refused_before_any_planning(bad, words):
    # the re-plan settings are refused by the shared settings (policy.replan), as for simulate and serve
    from murakkab.errors import MurakkabError
    with pytest.raises(MurakkabError) as err:
        DemoScenario(**bad)
    assert words in str(err.value)


def test_a_short_run_is_told_its_ratios_flatter_the_replanning_runs(cli_run):
    _, text = cli_run
    # 2 of 24 hours: the warning on stderr and the note under the tables both say so, with the measured pair
    assert text.count("a 2 h run covers 8% of the diurnal day") == 2
    assert "2 h 3.94x, 24 h 1.44x" in text and "--hours 24" in text


def test_a_full_day_gets_no_short_run_warning():
    from murakkab.experiments.demo_cli import short_run_warning
    assert short_run_warning(24) is None and short_run_warning(48) is None
    assert "23.5 h run" in short_run_warning(23.5)


def test_piped_progress_is_printed_as_lines(cli_run):
    _, text = cli_run
    # CliRunner's stderr is not a terminal: a first line at once, and 'done' at the end
    assert "demo: started (6 parts)" in text and "demo: done (" in text


def test_json_rows_for_scripts(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--hours", "1", "--scale", "0.05", "--seed", "3", "--out",
                                   str(tmp_path / "d"), "--no-parallel", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [r["label"] for r in doc["rows"]] == LABELS
    assert doc["warnings"] and "1 h run" in doc["warnings"][0]
    assert doc["rows"][0]["static_over_run"]["peak_gpus"] == pytest.approx(1.0)


def test_an_out_path_that_is_a_file_is_one_line_before_any_run(tmp_path):
    existing = tmp_path / "taken"
    existing.write_text("keep me")
    res = CliRunner().invoke(app, ["demo", "--hours", "1", "--out", str(existing)])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and res.output.startswith("error: --out")
    assert existing.read_text() == "keep me"
