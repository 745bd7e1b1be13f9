"""The model profiler against a loopback server with scripted token timing (known TTFT and TPOT), and
every bad input it must refuse with a clear message and nothing half-written."""

import json
import os
import subprocess
import sys

import pytest

from tests.profiling.scripted_server import Scripted
from tests.server.live import free_port

TTFT, TPOT, OUT_TOKENS = 0.2, 0.1, 8


def profile(tmp_path, endpoint, concurrency="1", *extra, out=None):
    wl = tmp_path / "wl.jsonl"
    wl.write_text(json.dumps({"input_tokens": 20, "output_tokens": OUT_TOKENS}) + "\n")
    out = out or tmp_path / "cat"
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "murakkab.cli", "profile", "model", "--endpoint", endpoint,
                           "--model", "scripted", "--hardware", "H100-80GB", "--concurrency", concurrency,
                           "--out", str(out), "--workload", str(wl), "--window", "1.8", "--time-cap", "12", *extra],
                          capture_output=True, text=True, timeout=300, env=env)


def rows(path):
    from murakkab.catalog.load import build_catalog
    from murakkab.profiles.user import read_model_profiles
    [prof] = read_model_profiles(path / "model_profiles.csv", build_catalog(str(path)))
    return {p.max_num_seqs: p for p in prof.points}


def test_measured_timing_matches_the_script_at_1_and_64_streams(tmp_path):
    with Scripted(free_port(), TTFT, TPOT) as s:
        r = profile(tmp_path, s.base_url, "1,64")
    assert r.returncode == 0, r.stderr
    pts = rows(tmp_path / "cat")
    # a request = TTFT + (n - 1) x TPOT, closed loop: c streams make c x n tokens per cycle
    cycle = TTFT + (OUT_TOKENS - 1) * TPOT
    for c in (1, 64):
        p = pts[c]
        assert p.tpot_median_s == pytest.approx(TPOT, rel=0.03)       # stated tolerance: 3 %
        assert TTFT <= p.ttft_s <= TTFT * 1.25 + 0.03                  # client-side TTFT is never early
        assert p.avg_batch == pytest.approx(c, rel=0.03)
        assert p.mean_output_tokens == OUT_TOKENS                       # the usage the server reported
        assert p.throughput_tok_s == pytest.approx(c * OUT_TOKENS / cycle, rel=0.12)
        assert p.power_w is None and p.energy_per_token_j is None      # no --gpu-index: unknown, not guessed
        assert p.source.basis == "measured" and "scripted" in p.source.note and "command: murakkab" in p.source.note


def test_unreachable_endpoint_is_named_and_nothing_written(tmp_path):
    r = profile(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    assert r.returncode == 2
    assert "cannot reach the endpoint" in r.stderr and "fix:" in r.stderr
    assert not (tmp_path / "cat" / "model_profiles.csv").exists()


@pytest.mark.parametrize("mode, message", [("ignore-max-tokens", "ignores max_tokens"),
                                           ("ignore-eos", "ignores ignore_eos and min_tokens")])
def test_a_server_that_does_not_keep_the_output_length_is_refused(tmp_path, mode, message):
    with Scripted(free_port(), 0.01, 0.01, mode) as s:
        r = profile(tmp_path, s.base_url)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "cat" / "model_profiles.csv").exists()


def test_a_failure_mid_run_keeps_the_finished_points_and_a_rerun_resumes(tmp_path):
    port = free_port()
    with Scripted(port, 0.05, 0.02) as s:
        first = profile(tmp_path, s.base_url, "1")
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "cat" / "model_profiles.csv").read_text()
    # the same endpoint now answers the probe, then fails every request: point 2 cannot be measured
    with Scripted(port, 0.05, 0.02, "fail-after=1") as s:
        failed = profile(tmp_path, s.base_url, "1,2")
    assert failed.returncode == 2 and "requests failed at concurrency 2" in failed.stderr, failed.stderr
    assert (tmp_path / "cat" / "model_profiles.csv").read_text() == before     # point 1 kept, nothing half-written
    assert list(rows(tmp_path / "cat")) == [1]
    with Scripted(port, 0.05, 0.02) as s:
        resumed = profile(tmp_path, s.base_url, "1,2")
    assert resumed.returncode == 0, resumed.stderr
    assert "concurrency 1: kept from an earlier run" in resumed.stdout
    assert list(rows(tmp_path / "cat")) == [1, 2]


def test_bad_options_change_nothing(tmp_path):
    r = profile(tmp_path, "http://127.0.0.1:1/v1", "1", "--hardware", "NOPE-GPU")
    assert r.returncode == 2 and "unknown hardware 'NOPE-GPU'" in r.stderr
    r = profile(tmp_path, "http://127.0.0.1:1/v1", "1,x")
    assert r.returncode == 2 and "--concurrency '1,x'" in r.stderr
    assert not (tmp_path / "cat").exists()
