"""`murakkab serve` refuses bad startup settings with one `error:` line and status 2, before any server
starts (uvicorn.run is replaced by a recorder: reaching it means the check was missed)."""

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from tests.runtime import worlds


@pytest.fixture
def started(monkeypatch):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append(k))
    return calls


def _serve(tmp_path, *args):
    return CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "j.db"), *args])


@pytest.mark.parametrize("args, needle", [
    (["--time-scale", "0"], "--time-scale must be > 0"),
    (["--time-scale", "-1"], "--time-scale must be > 0"),
    (["--reoptimize"], "--reoptimize needs a plan"),
])
def test_bad_startup_settings_exit_2_with_one_line(tmp_path, started, args, needle):
    r = _serve(tmp_path, *args)
    assert r.exit_code == 2 and started == []
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in r.output and "fix:" in lines[0]


def test_bad_backends_and_plan_files_exit_2(tmp_path, started):
    bad = tmp_path / "b.yaml"
    bad.write_bytes(b"\xff\xfe")
    plan = tmp_path / "plan.json"
    plan.write_text("{}")
    for args, needle in ((["--backends", str(bad)], "UTF-8"), (["--plan", str(plan)], "not a valid plan")):
        r = _serve(tmp_path, *args)
        assert r.exit_code == 2 and started == [], r.output
        assert r.output.count("\n") == 1 and r.output.startswith("error: ") and needle in r.output


def test_good_settings_reach_the_server(tmp_path, started):
    plan = tmp_path / "plan.json"
    plan.write_text(worlds.hand_plan().to_json())
    r = _serve(tmp_path, "--plan", str(plan), "--reoptimize", "--time-scale", "0.01")
    assert r.exit_code == 0, r.output
    assert len(started) == 1 and started[0]["port"] == 8000
