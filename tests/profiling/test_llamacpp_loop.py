"""The whole loop on this machine against a real llama.cpp server (the runtime tests' tiny random-weight
model): profile the model at three operating points into a user catalogue, profile the reasoning
workflow on GSM8K with it, plan reasoning onto the CPU host, and serve a request from that plan."""

import json
import os
import subprocess
import sys

import httpx
import pytest

pytest.importorskip("gguf", reason="LOUD SKIP: gguf is not installed; it is in the test extra (pip install gguf)")
pytest.importorskip("llama_cpp.server", reason="LOUD SKIP: llama-cpp-python[server] is not installed; it is in "
                                               "the test extra and builds from source in ~7 min")

from murakkab.catalog.user import ENV  # noqa: E402
from tests.runtime.tiny_gguf import tiny_llama_server  # noqa: E402
from tests.server.live import free_port, start_server  # noqa: E402

HARDWARE = """name,kind,memory_gb,tdp_w,idle_w,price_usd_per_hour,units_per_node,node_max_kw,node_idle_kw,provenance
CPU-HOST,cpu,24,65,,0.10,1,0.065,0.02,"test host: node max 65 W, idle 20 W and price are estimates"
"""
MODELS = """models:
  tiny:
    name: tiny random-weight llama
    hf_id: local/tiny.gguf
    total_params_b: 0.0002
    active_params_b: 0.0002
    modality: [text]
    precision: float32
    profiled_as: tiny
    profile_basis: measured
    source: "tests/runtime/tiny_gguf.py"
    executors: [self_consistency]
"""


def murakkab(*args, check=True):
    env = {**os.environ, "COLUMNS": "250"}      # wide tables: the source column is not cut
    r = subprocess.run([sys.executable, "-m", "murakkab.cli", *args], capture_output=True, text=True, timeout=300,
                       env=env)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    # concurrent streams must queue: llama-cpp-python's server otherwise cuts the running one off
    with tiny_llama_server(tmp_path_factory.mktemp("llama"), extra=("--interrupt_requests", "False")) as base:
        yield base


def test_profile_plan_serve_on_a_cpu_host(llama, tmp_path, monkeypatch):
    cat = tmp_path / "catalog"
    cat.mkdir()
    (cat / "hardware.csv").write_text(HARDWARE)
    (cat / "models.yaml").write_text(MODELS)
    out = murakkab("profile", "model", "--endpoint", llama, "--model", "tiny", "--hardware", "CPU-HOST",
                   "--precision", "float32", "--concurrency", "1,2,3", "--out", str(cat), "--max-input-tokens", "32",
                   "--max-output-tokens", "16", "--window", "1", "--time-cap", "4").stdout
    assert "profile rows written" in out

    # the rows load through the catalogue's validator, one profile with three operating points
    from murakkab.catalog.load import build_catalog
    from murakkab.profiles.user import read_model_profiles
    [prof] = read_model_profiles(cat / "model_profiles.csv", build_catalog(str(cat)))
    assert [p.max_num_seqs for p in prof.points] == [1, 2, 3]
    for p in prof.points:
        assert p.source.basis == "measured" and "llama.cpp Python API" in p.source.note  # the engine it reported
        assert p.power_w is None and p.energy_per_token_j is None      # no energy counter here: unknown
        assert p.tpot_median_s > 0 and p.ttft_s > 0 and p.throughput_tok_s > 0
        assert abs(p.avg_batch - p.max_num_seqs) < 0.2                  # closed loop keeps c streams in flight
    listing = murakkab("--catalog", str(cat), "profiles", "tiny").stdout
    assert "tiny@1xCPU-HOST" in listing and "model_profiles.csv" in listing

    backends = tmp_path / "backends.yaml"
    backends.write_text(f"models:\n  tiny:\n    - {{base_url: '{llama}', served_model: tiny}}\n")
    out = murakkab("profile", "workflow", "reasoning", "--dataset", "gsm8k", "--limit", "4", "--backends", str(backends),
                   "--config", "samples=1", "--config", "model=tiny", "--out", str(cat), "--max-tokens", "8").stdout
    assert "accuracy" in out
    [row] = [json.loads(x) for x in (cat / "workflow_profiles.jsonl").read_text().splitlines()]
    assert row["models"] == {"solve": "tiny"} and row["benchmark"] == "gsm8k"
    assert row["accuracy_source"]["basis"] == "measured" and "/4 right" in row["accuracy_source"]["note"]
    assert 1 <= row["tokens"]["solve"]["output_p50"] <= 8 * 1.25 + 2      # capped by --max-tokens (chunk count)

    plan = tmp_path / "plan.json"
    out = murakkab("--catalog", str(cat), "plan", "--rate", "reasoning:accuracy:good=0.1", "--hardware", "CPU-HOST",
                   "--out", str(plan)).stdout
    body = json.loads(plan.read_text())
    [pool] = body["pools"]
    assert pool["model"] == "tiny" and pool["hardware"] == "CPU-HOST" and pool["profile_basis"].endswith("power-estimate")
    assert pool["power_busy_w"] == 65.0                                  # the row's node maximum, as the basis says
    assert any("user catalogue profile" in n and "model_profiles.csv" in n for n in body["notes"])
    assert any("user catalogue workflow profile" in n for n in body["notes"])

    port = free_port()
    monkeypatch.setenv(ENV, str(cat))          # the environment variable selects the catalogue for `serve`
    log = open(tmp_path / "serve.log", "w")
    proc = start_server(["--plan", str(plan), "--backends", str(backends), "--no-auth", "--db",
                         str(tmp_path / "j.db")], port, log)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=60,
                       json={"model": "reasoning:accuracy:good", "max_tokens": 6, "temperature": 0,
                             "messages": [{"role": "user", "content": "what is two plus two?"}]})
        assert r.status_code == 200, r.text
        rid = r.json()["murakkab"]["request_id"]
        job = httpx.get(f"http://127.0.0.1:{port}/v1/jobs/{rid}", timeout=10).json()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    [step] = job["result"]["steps"]
    assert step["pools"] == [pool["id"]] and not step["simulated"] and step["tokens_out"] >= 1
