"""Summary numbers, files, determinism, the CLI, and the shared policies driving the simulator."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from murakkab.policy.autoscaler import AutoscalerConfig
from murakkab.policy.reoptimizer import EpochReoptimizer
from murakkab.sim.arrivals import build_arrivals, poisson_times
from murakkab.instance import plan_point_curve
from murakkab.sim.engine import SimConfig, simulate
from murakkab.sim.report import summarize, write_outputs


def _two_step_plan(b, instances=2):
    steps = [b.tool_step("x", "t", 0.4), b.llm_step("a", [("m", 1.0)], out_p50=60, out_p90=150, inp=300, par=2)]
    return b.plan([b.route(steps, [("x", "a")], workflow="wf", metric="latency", threshold=8.0, rate=1.0,
                           accuracy=70.0),
                   b.route(steps, [("x", "a")], workflow="wf", metric="accuracy", threshold=65.0, rate=1.0,
                           accuracy=90.0)],
                  [b.model_pool(ttft=0.2, tpot=0.03, max_num_seqs=8, units=8, instances=instances, node_w=500.0),
                   b.tool_pool(concurrency=4)], pue=1.2)


def test_summary_by_hand(b):
    p = _two_step_plan(b)
    arr = build_arrivals(p, "poisson", 600.0, seed=1)
    res = simulate(p, arr, horizon_s=600.0, resolver=plan_point_curve)
    s = summarize(res)
    assert s.peak_gpus_by_type == {"H100-80GB": 16} and s.peak_cpu_nodes_by_type == {"CPU-64C": 1}
    assert s.gpu_hours_by_type["H100-80GB"] == pytest.approx(16 * res.end_s / 3600)
    assert s.cost_usd == pytest.approx(res.end_s / 3600 * (2 * 3.6 + 1.0))
    n_acc = sum(1 for r in res.requests if r.tier == "accuracy:good")
    assert s.delivered_accuracy_percent == pytest.approx((90.0 * n_acc + 70.0 * (s.requests - n_acc)) / s.requests)
    assert n_acc / s.requests == pytest.approx(0.7, abs=0.05)           # default tier mix
    acc = next(t for t in s.slo if t.tier == "accuracy:good")
    assert acc.attainment == 1.0                                          # route accuracy 90 >= 65
    lat = next(t for t in s.slo if t.tier == "latency:good")
    assert lat.attainment == pytest.approx(sum(r.latency_s <= 8.0 for r in res.requests if r.tier == "latency:good")
                                           / lat.requests)
    node_mwh = (2 * 500.0 * res.end_s) / 3.6e9                           # node overhead of the 2 model instances
    assert s.node_mwh == pytest.approx(node_mwh)
    assert s.facility_mwh == pytest.approx((s.instance_mwh + node_mwh) * 1.2)


def test_same_seed_same_numbers_different_seed_different(b):
    p = _two_step_plan(b, instances=1)
    cfg = SimConfig(seed=3, autoscale=True, autoscaler=AutoscalerConfig(provisioning_delay_s=30))

    def run(seed):
        arr = build_arrivals(p, "diurnal", 900.0, rate=3.0, seed=seed)
        return summarize(simulate(p, arr, horizon_s=900.0, config=SimConfig(**{**cfg.__dict__, "seed": seed}),
                                  resolver=plan_point_curve))
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_outputs_written(b, tmp_path):
    p = _two_step_plan(b)
    res = simulate(p, build_arrivals(p, "poisson", 300.0, seed=2), horizon_s=300.0, resolver=plan_point_curve)
    files = write_outputs(res, summarize(res), tmp_path)
    names = {f.name for f in files}
    assert {"summary.json", "plan.json", "requests.csv", "steps.csv", "timeseries.csv", "instance_power.csv"} <= names
    assert not any(n.endswith(".png") for n in names)                   # charts are the report's (murakkab.report)
    rows = (tmp_path / "timeseries.csv").read_text().splitlines()
    assert rows[0] == "t_start_s,pool,hardware,instances,units,gpu_power_w,facility_power_w"
    # time series integrates back to the summary's energy
    e = sum(float(r.split(",")[6]) * res.config.bin_s for r in rows[1:])
    assert e / 3.6e9 == pytest.approx(json.loads((tmp_path / "summary.json").read_text())["facility_mwh"], rel=1e-6)


def test_autoscaler_adds_instances_that_work_only_after_the_delay(b):
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=100)], threshold=10.0)],
               [b.model_pool(tpot=0.02, max_num_seqs=4, instances=1)])
    arr = [(t, "wf", "latency:good") for t in poisson_times(3.0, 600.0, random.Random(8))]
    cfg = SimConfig(autoscale=True, record_intervals=True,
                    autoscaler=AutoscalerConfig(interval_s=10, window_s=30, provisioning_delay_s=120))
    res = simulate(p, arr, horizon_s=600.0, config=cfg, resolver=plan_point_curve)
    new = [i for i in res.instances if i.alloc_s > 0]
    assert new, "3 req/s against 4 slots x (100 x 0.02 s) = 2 req/s of capacity must trigger a scale-out"
    for inst in new:
        assert inst.alloc_s >= 30.0
        worked = [t0 for t0, t1, _, pre, run in inst.intervals if pre or run]
        assert worked and min(worked) >= inst.alloc_s + 120.0 - 1e-9
    base = simulate(p, arr, horizon_s=600.0, resolver=plan_point_curve)
    assert summarize(res).slo_attainment > summarize(base).slo_attainment


def test_reoptimizer_moves_the_fleet_after_the_delay(b):
    p = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=50)], rate=0.5)], [b.model_pool(instances=1)])
    bigger = b.plan([b.route([b.llm_step("a", [("m", 1.0)], out_p50=50)], rate=2.0)], [b.model_pool(instances=3)])
    forecasts = []

    def maker(f):
        forecasts.append(f)
        return bigger
    reopt = EpochReoptimizer(maker, {("wf", "latency:good"): 0.5}, epoch_s=200.0, provisioning_delay_s=50.0)
    arr = [(t, "wf", "latency:good") for t in poisson_times(2.0, 500.0, random.Random(4))]
    res = simulate(p, arr, horizon_s=500.0, resolver=plan_point_curve, reoptimizer=reopt)
    first = sum(1 for t, *_ in arr if t < 200.0) / 200.0
    assert forecasts[0] == {("wf", "latency:good"): pytest.approx(0.5 * first + 0.5 * 0.5)}
    added = [i for i in res.instances if i.alloc_s > 0]
    assert [i.alloc_s for i in added] == [200.0, 200.0]
    assert summarize(res).peak_gpus_by_type == {"H100-80GB": 3}


def test_cli_simulate(b, tmp_path):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(_two_step_plan(b).to_json())
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["simulate", "--plan", str(plan_file), "--arrivals", "poisson", "--hours", "0.05",
                                 "--seed", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "peak GPUs 16" in r.output and (out / "summary.json").exists()
    assert (out / "report" / "report.html").is_file() and (out / "report" / "latency_cdf_run.png").is_file()
    bad = CliRunner().invoke(app, ["simulate", "--plan", str(plan_file), "--tier-mix", "latency:best=1",
                                   "--hours", "0.05", "--out", str(out)])
    assert bad.exit_code == 2 and "no such route" in bad.output
    plan_file.write_text("{}")
    bad = CliRunner().invoke(app, ["simulate", "--plan", str(plan_file), "--hours", "0.05", "--out", str(out)])
    assert bad.exit_code == 2 and "not a valid Plan JSON" in bad.output


def test_cli_simulate_reoptimizes_through_the_shared_replan_path(tmp_path):
    # an optimizer plan for reasoning at 0.2 request/s; 30 simulated minutes with 10-minute epochs: the
    # epochs close at 10 and 20 min (the one at 30 would fall on the horizon), so two re-plans
    import json

    from murakkab.optimizer.api import Demand, PlanRequest, make_plan
    plan = make_plan(PlanRequest(demand={("reasoning", "accuracy:good"): Demand(peak_rps=0.3, avg_rps=0.2)}))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_json())
    args = ["simulate", "--plan", str(plan_file), "--arrivals", "poisson", "--hours", "0.5", "--tier-mix", "plan",
            "--reoptimize", "--epoch-min", "10", "--peak-factor", "1.3", "--out", str(tmp_path / "run"), "--json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{"):])["replans"] == 2
    bad = CliRunner().invoke(app, [*args[:-3], "--peak-factor", "0.5", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "peak factor must be >= 1" in bad.output
