"""`murakkab energy` commands as a user runs them."""

import re

from typer.testing import CliRunner

from murakkab.cli import app

runner = CliRunner()


def test_estimate_degenerate_prints_the_formula_value(tmp_path):
    cfg = tmp_path / "p.yaml"
    cfg.write_text("output_distribution: fixed\npower_centre_frac: 0.5\npower_p5_frac: 0.5\n"
                   "power_p95_frac: 0.5\npue_p5: 1.2\npue_p95: 1.2\n")
    res = runner.invoke(app, ["energy", "estimate", "--config", str(cfg), "--node-max-kw", "10",
                              "--throughput", "1000", "--draws", "100", "--queries-per-day", "1e9",
                              "--long-share", "0"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    # 1.2 × 5 kW × 300 / (3.6 × 1000) = 0.5 Wh per query -> 0.5 GWh/day for 1e9 queries
    row = next(line for line in res.output.splitlines() if "baseline" in line)
    assert re.search(r"\b0\.5\b", row)
    assert "user parameter" in res.output


def test_estimate_rejects_bad_parameters_without_traceback():
    res = runner.invoke(app, ["energy", "estimate", "--pue-p5", "0.9", "--draws", "10"])
    assert res.exit_code == 2
    assert "pue_p5" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["energy", "estimate", "--throughput", "0", "--draws", "10"])
    assert res.exit_code == 2 and "throughput_tok_s" in res.output


def test_validate_prints_mape_tables():
    res = runner.invoke(app, ["energy", "validate", "--worst", "3"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "interpolated" in res.output and "extrapolated" in res.output and "H100-80GB" in res.output


def test_estimate_states_throughput_choice_and_compares_with_the_paper():
    res = runner.invoke(app, ["energy", "estimate", "--draws", "500"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "Throughput family: Llama-3.1-405B-Instruct (default: dense frontier class" in res.output
    assert "held flat [paper's assumption] (--throughput-extrapolation flat)" in res.output
    row = next(line for line in res.output.splitlines() if "fleet, 1e9 queries/day, 10% long" in line)
    assert "1.8 GWh/day" in row          # the paper's published figure sits next to ours
    assert "Not the paper's setting" not in res.output
    res = runner.invoke(app, ["energy", "estimate", "--draws", "500", "--throughput-family", "pooled",
                              "--throughput-extrapolation", "slope", "--long-share", "0.2"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "Throughput family: pooled (user choice)" in res.output and "fitted slope to" in res.output
    assert "Not the paper's setting" in res.output and "long_share=0.2" in res.output
