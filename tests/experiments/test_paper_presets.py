"""The paper presets: `murakkab demo --scenario paper | h100-sweep`."""

import math

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from murakkab.experiments.paper import h100_sweep, paper_demand, paper_ratios, paper_rows


def test_paper_ratios_are_arxiv_table_1():
    # arXiv Table 1: Static 2560 GPUs, 80.4 MWh, 201.5 k$; Opt 1151, 27.1, 56.2; Opt+Mult 908, 21.6, 46.5
    r = paper_ratios()
    assert r["per-workflow"] == pytest.approx((2560 / 1151, 80.4 / 27.1, 201.5 / 56.2))
    assert r["joint"] == pytest.approx((2560 / 908, 80.4 / 21.6, 201.5 / 46.5))


def test_paper_preset_puts_the_papers_static_beside_ours():
    demand = paper_demand()
    assert {w for w, _ in demand} == {"video_qa", "code_gen"}
    assert {t for _, t in demand} == {"accuracy:good", "latency:good"}
    # 70 / 30 split of each workflow's trace rate
    v = demand[("video_qa", "accuracy:good")].avg_rps / demand[("video_qa", "latency:good")].avg_rps
    assert v == pytest.approx(0.7 / 0.3)
    gemma, ours, per_wf, joint = paper_rows(demand)
    assert gemma.short_routes == 2 and ours.short_routes == 0 and per_wf.short_routes == 0
    assert per_wf.gpus < ours.gpus and joint.kwh <= per_wf.kwh * (1 + 2e-3)


def test_h100_sweep_never_loses_a_plan_as_h100s_are_added():
    rows = h100_sweep(paper_demand(), 250, [0, 20, 40, 80])
    feasible = [not r.refused for r in rows]
    assert feasible == sorted(feasible)          # once a step plans, every larger budget plans
    assert feasible[-1]
    planned = [r for r in rows if not r.refused]
    assert all(r.h100 <= r.h100_budget and r.a100 <= 250 for r in planned)
    assert all(b.kwh <= a.kwh * (1 + 2e-3) for a, b in zip(planned, planned[1:]))
    assert all(math.isnan(r.kwh) for r in rows if r.refused)


def test_demo_cli_runs_the_presets_and_refuses_unknown_ones():
    res = CliRunner().invoke(app, ["demo", "--scenario", "paper"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "Gemma-3-27B on A100" in res.output and "2.22x" in res.output
    res = CliRunner().invoke(app, ["demo", "--scenario", "h100-sweep", "--h100-steps", "40,x"])
    assert res.exit_code == 2 and "--h100-steps" in res.output
    res = CliRunner().invoke(app, ["demo", "--scenario", "papr"])
    assert res.exit_code == 2 and "unknown scenario" in res.output


def test_demo_workflow_set_is_an_option(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--workflows", "video_qa,code_gen", "--hours", "1", "--scale", "0.05",
                                   "--no-parallel", "--out", str(tmp_path / "run")], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "mean rates code_gen 0.05/s, video_qa 0.05/s;" in res.output and "reasoning" not in res.output
    res = CliRunner().invoke(app, ["demo", "--workflows", "video_qa,resoning", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "unknown workflow 'resoning'" in res.output and "reasoning" in res.output
