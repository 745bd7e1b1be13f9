"""The CLI for people and scripts: stdout carries only murakkab's own output."""

from __future__ import annotations

import subprocess
import sys


def murakkab(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real command in a fresh process (HiGHS prints its banner once per process)."""
    return subprocess.run([sys.executable, "-m", "murakkab.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_the_solver_banner_stays_off_stdout():
    res = murakkab("plan", "--rate", "reasoning:accuracy:good=1")
    assert res.returncode == 0, res.stderr
    assert "HiGHS" in res.stdout            # the Solve table names the solver ...
    assert "Running HiGHS" not in res.stdout and "Copyright" not in res.stdout   # ... its banner is not there


# ---- in-process: tables, JSON, progress --------------------------------------------------------
import json  # noqa: E402

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from murakkab.catalog import load_catalog  # noqa: E402
from murakkab.cli import app  # noqa: E402


def run(*args: str, columns: int | None = None):
    env = {"COLUMNS": str(columns)} if columns else {}
    res = CliRunner().invoke(app, list(args), env=env)
    assert res.exit_code == 0, res.output
    return res


@pytest.mark.parametrize("columns", [80, None])      # a terminal of 80 columns, and piped with no COLUMNS
def test_catalog_ids_are_whole_and_can_be_copied_into_profiles(columns):
    text = run("catalog", columns=columns).stdout
    assert "…" not in text                              # nothing cut
    cat = load_catalog()
    for name in [*cat.models, *cat.hardware, *cat.executors, *cat.capabilities]:
        assert f"│ {name} " in text, name              # each id whole on one line in its table's first column
    # the ids as a reader copies them from the Models table work in `profiles`
    models = text.split("Models")[1].split("Hardware")[0]
    copied = [line.split("│")[1].strip() for line in models.splitlines() if line.startswith("│ ")]
    copied = [c for c in copied if c]
    assert sorted(copied) == sorted(cat.models)
    for model in copied[:3]:
        assert run("profiles", model).exit_code == 0


def test_plan_pool_ids_are_wrapped_not_cut_at_80_columns():
    text = run("plan", "--rate", "reasoning:latency:good=1", columns=80).stdout
    assert "…" not in text
    pools = text.split("Pools")[1].split("Totals")[0]
    first_column = "".join(line.split("│")[1].strip() for line in pools.splitlines() if line.startswith("│ "))
    assert "gpt-oss-120b|openai/gpt-oss-120b@2xH100-80GB/tp2/mxfp4/gpqa|mns16~latency" in first_column


@pytest.mark.parametrize("args, check", [
    (["catalog"], lambda d: set(d) == {"capabilities", "executors", "models", "hardware"}
        and d["models"]["gemma-3-27b"]["id"] == "gemma-3-27b"),
    (["workflows"], lambda d: [w["name"] for w in d] == ["code_gen", "reasoning", "video_qa"]
        and d[1]["tasks"] == [{"name": "solve", "capability": "reasoning", "after": []}]),
    (["profiles", "gemma-3-27b", "--hardware", "H100-80GB"], lambda d: d["profiled_as"] == "google/gemma-3-27b-it"
        and d["profiles"] and all(p["key"]["hardware"] == "H100-80GB" for p in d["profiles"])),
    (["tiers", "reasoning"], lambda d: {t["key"] for t in d} >= {"accuracy:good", "latency:good"}),
    (["plan", "--rate", "reasoning:accuracy:good=0.5"], lambda d: d["policy"] == "joint" and d["routes"]
        and d["routes"][0]["workflow"] == "reasoning"),
    (["energy", "estimate", "--draws", "2000"], lambda d: d["params"]["draws"] == 2000
        and d["baseline_wh"]["p25"] <= d["baseline_wh"]["median"] <= d["baseline_wh"]["p75"]),
    (["energy", "validate"], lambda d: d["groups"] and max(g["n"] for g in d["groups"]) <= len(d["results"])
        and all(r["tput_measured"] > 0 for r in d["results"])),
])
def test_every_table_command_prints_json_for_scripts(args, check):
    assert check(json.loads(run(*args, "--json").stdout))


def test_pareto_json_lists_every_point(tmp_path):
    d = json.loads(run("pareto", "reasoning", "--png", str(tmp_path / "p.png"), "--json").stdout)
    assert d["workflow"] == "reasoning" and any(p["on_front"] for p in d["points"])
    assert (tmp_path / "p.png").is_file()


def test_simulate_json_progress_and_summary(tmp_path):
    plan = tmp_path / "plan.json"
    run("plan", "--rate", "reasoning:accuracy:good=0.5", "--out", str(plan))
    res = run("simulate", "--plan", str(plan), "--hours", "0.5", "--tier-mix", "plan", "--out", str(tmp_path / "s"),
              "--json")
    doc = json.loads(res.stdout)
    assert doc["requests"] > 0 and doc["run_dir"] == str(tmp_path / "s")
    assert json.loads((tmp_path / "s" / "summary.json").read_text())["requests"] == doc["requests"]
    # piped stderr (not a terminal): progress as plain lines, first at once, 'done' at the end
    assert "simulating: started" in res.stderr and "simulating: done (" in res.stderr
