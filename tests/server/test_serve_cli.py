"""`murakkab serve` refuses bad startup settings with one `error:` line and status 2, before any server
starts (uvicorn.run is replaced by a recorder: reaching it means the check was missed)."""

import socket

import pytest
from typer.testing import CliRunner

from murakkab.cli import app
from tests.runtime import worlds
from tests.server.live import free_port


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
    port = free_port()
    r = _serve(tmp_path, "--plan", str(plan), "--reoptimize", "--time-scale", "0.01", "--port", str(port),
               "--shutdown-timeout", "3")
    assert r.exit_code == 0, r.output
    assert len(started) == 1 and started[0]["port"] == port and started[0]["timeout_graceful_shutdown"] == 3
    assert f"listening on http://127.0.0.1:{port}" in r.output and "warning" not in r.output


def test_no_auth_on_a_public_address_warns(tmp_path, started):
    r = _serve(tmp_path, "--no-auth", "--host", "0.0.0.0", "--port", str(free_port()))
    assert r.exit_code == 0 and len(started) == 1
    assert "warning: --no-auth on 0.0.0.0" in r.output and "listening on http://0.0.0.0:" in r.output
    r = _serve(tmp_path, "--no-auth", "--port", str(free_port()))             # loopback: no warning
    assert r.exit_code == 0 and "warning" not in r.output


def test_a_taken_port_is_one_error_line(tmp_path, started):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        r = _serve(tmp_path, "--port", str(taken.getsockname()[1]))
    assert r.exit_code == 2 and started == [] and r.output.startswith("error: cannot listen on 127.0.0.1:")
