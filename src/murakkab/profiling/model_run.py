"""`murakkab profile model`: probe the endpoint, measure each operating point, write profile rows.

Output, in the user catalogue directory `out`:
- `model_profiles.csv`: one row per operating point (profiles/user.py's columns) with provenance;
  rows of other profile keys already there are kept, rows of this key and concurrency replaced.
- `runs/<key>/point-<c>.json`: each finished point, written as soon as it finishes. A rerun with the
  same settings keeps them and measures only the missing points (resuming after Ctrl-C or a failure).
Every write is atomic (temporary file, then rename), and the rows are read back through the same
validator as the packaged data before the CSV is replaced.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from murakkab.catalog.user import MODEL_PROFILES_FILE
from murakkab.errors import MurakkabError
from murakkab.profiles.schema import ProfileKey
from murakkab.profiles.user import MODEL_COLUMNS
from murakkab.profiling.client import Sample, chat_body, stream_chat
from murakkab.profiling.model_profiler import PointResult, PointSettings, ProfilingError, check_lengths, measure_point
from murakkab.profiling.workload import Workload, prompt_text


@dataclass(frozen=True)
class ServerInfo:
    models: tuple[str, ...]          # ids the server lists at /models
    engine: str                      # what the server says it is, or "not reported"


@dataclass(frozen=True)
class ModelRun:
    settings: PointSettings
    key: ProfileKey
    workload: Workload
    workload_spec: str
    concurrency: tuple[int, ...]
    out: Path
    command: str
    caps: tuple[int, int]            # (max input, max output) tokens


def _root(endpoint: str) -> str:
    return re.sub(r"/v1/?$", "", endpoint.rstrip("/"))


def server_info(settings: PointSettings) -> ServerInfo:
    """What the server reports: its models (/models) and engine (/version, or its OpenAPI title)."""
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    base = settings.endpoint.rstrip("/")
    try:
        r = httpx.get(f"{base}/models", headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise ProfilingError(f"cannot reach the endpoint {base} ({type(exc).__name__}: {exc}) (fix: start the "
                             "server, or pass its OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1)") from None
    if r.status_code != 200:
        raise ProfilingError(f"{base}/models answered HTTP {r.status_code}; is this an OpenAI-compatible API? "
                             "(fix: pass the base URL ending in /v1, and --api-key-env if it needs a key)")
    try:
        models = tuple(m["id"] for m in r.json().get("data", []))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ProfilingError(f"{base}/models did not answer an OpenAI model list (fix: pass the base URL of an "
                             "OpenAI-compatible API)") from None
    engine = "not reported"
    root = _root(base)
    for path, pick in (("/version", lambda d: f"version {d['version']}"),
                       ("/openapi.json", lambda d: f"{d['info']['title']} {d['info']['version']}")):
        try:
            rr = httpx.get(root + path, timeout=5)
            if rr.status_code == 200:
                engine = pick(rr.json())
                break
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            continue
    return ServerInfo(models=models, engine=engine)


async def _probe(settings: PointSettings) -> Sample:
    """One short request: the endpoint answers, streams, and keeps to max_tokens."""
    url = settings.endpoint.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    s = Sample(start=time.perf_counter(), input_tokens_sent=16, max_tokens=8)
    async with httpx.AsyncClient(timeout=httpx.Timeout(connect=5.0, read=settings.read_timeout_s, write=30, pool=30)) \
            as client:
        await stream_chat(client, url, chat_body(settings.model, prompt_text(16, 0), 8, settings.length_control), s,
                          headers)
    return s


def probe(settings: PointSettings) -> ServerInfo:
    info = server_info(settings)
    if info.models and settings.model not in info.models:
        raise ProfilingError(f"the server does not serve model '{settings.model}'; it lists {', '.join(info.models)} "
                             "(fix: pass one of them as --model)")
    s = asyncio.run(_probe(settings))
    if s.error:
        raise ProfilingError(f"a test request failed: {s.error} (fix: check the endpoint, the model name and the "
                             "server's log)")
    if not s.chunk_times:
        raise ProfilingError("the server streamed no content chunks for a test request (fix: a server that streams "
                             "chat completions as server-sent events)")
    check_lengths([s], settings.length_control)
    return info


def _slug(key: ProfileKey) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key.label())


def _fingerprint(run: ModelRun) -> str:
    """What a finished point must share with this run to be kept: endpoint, model, key, workload, caps, method."""
    s = run.settings
    text = json.dumps([s.endpoint, s.model, run.key.label(), run.workload_spec, list(run.caps), s.window_s,
                       s.min_windows, s.target_ci, s.max_point_s, s.length_control, list(s.gpu_index)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _provenance(run: ModelRun, info: ServerInfo, p: PointResult) -> str:
    ci = f"{p.throughput_ci_rel * 100:.1f}%" if p.throughput_ci_rel != float("inf") else "unknown"
    energy = (f"GPU energy measured by NVML on GPUs {list(run.settings.gpu_index)}" if p.energy_j is not None else
              "power and energy unknown (no GPU energy counter read)")
    return (f"murakkab profile model {p.finished_utc}; endpoint {run.settings.endpoint}; served model "
            f"{run.settings.model} (server lists: {', '.join(info.models) or 'nothing'}); engine {info.engine}; "
            f"workload {run.workload.name} ({run.workload.clipped} of {len(run.workload.shapes)} requests clipped to "
            f"{run.caps[0]} input / {run.caps[1]} output tokens); {p.windows} windows of {run.settings.window_s:g} s, "
            f"throughput 95% CI +-{ci}" + (" (time cap reached before +-" + f"{run.settings.target_ci * 100:g}%)"
                                          if p.capped else "")
            + f"; achieved concurrency {p.achieved_concurrency:.2f}; {p.requests} requests, {p.errors} errors; "
            f"{energy}; command: {run.command}")


def _row(run: ModelRun, info: ServerInfo, p: PointResult) -> dict[str, str]:
    k = run.key

    def num(v: float | None) -> str:
        return "" if v is None else repr(float(v))
    return {"model": k.model, "hardware": k.hardware, "gpus": str(k.gpus), "tp": str(k.tp), "ep": str(k.ep),
            "dp": str(k.dp), "precision": k.precision, "workload": k.workload, "max_num_seqs": str(p.concurrency),
            "avg_batch": num(p.achieved_concurrency), "tpot_median_s": num(p.tpot_median_s),
            "tpot_p90_s": num(p.tpot_p90_s), "ttft_p50_s": num(p.ttft_p50_s), "ttft_p90_s": num(p.ttft_p90_s),
            "throughput_tok_s": num(p.throughput_tok_s), "power_w": num(p.power_w),
            "energy_per_token_j": num(p.energy_per_token_j), "mean_output_tokens": num(p.mean_output_tokens),
            "requests": str(p.requests), "errors": str(p.errors), "basis": "measured",
            "provenance": _provenance(run, info, p)}


def write_rows(out: Path, rows: list[dict[str, str]], key: ProfileKey) -> Path:
    """Merge this key's rows into out/model_profiles.csv (other keys kept), validated before it replaces the file."""
    from murakkab.catalog.load import build_catalog
    from murakkab.profiles.user import read_model_profiles
    path = out / MODEL_PROFILES_FILE
    kept = []
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                same = (r.get("model"), r.get("hardware"), r.get("gpus"), r.get("tp"), r.get("ep"), r.get("dp"),
                        r.get("precision"), r.get("workload")) == (
                    key.model, key.hardware, str(key.gpus), str(key.tp), str(key.ep), str(key.dp), key.precision,
                    key.workload)
                if not same:
                    kept.append(r)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MODEL_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in kept + sorted(rows, key=lambda r: int(r["max_num_seqs"])):
        w.writerow(r)
    tmp = out / (MODEL_PROFILES_FILE + ".check")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    try:
        read_model_profiles(tmp, build_catalog(str(out)))   # the checks the catalogue applies when it loads
    except MurakkabError:
        tmp.unlink()
        raise
    tmp.replace(path)
    return path


def profile_model(run: ModelRun, progress=None) -> tuple[list[PointResult], Path, list[int]]:
    """Measure every missing point of `run`; (points, CSV path, concurrencies kept from an earlier run).

    Each point is saved as soon as it finishes, and the CSV rewritten, so an interruption keeps them."""
    from murakkab.profiling.gpu_energy import read_energy_mj
    info = probe(run.settings)
    run_dir = run.out / "runs" / _slug(run.key)
    fp = _fingerprint(run)
    read_energy = (lambda: read_energy_mj(run.settings.gpu_index)) if run.settings.gpu_index else None
    if read_energy is not None and read_energy() is None:
        raise ProfilingError(f"cannot read NVML energy counters of GPUs {list(run.settings.gpu_index)} (fix: install "
                             "nvidia-ml-py on a host with NVIDIA GPUs and a driver, or leave out --gpu-index: power "
                             "and energy are then recorded as unknown)")
    done: dict[int, PointResult] = {}
    kept = []
    for c in run.concurrency:
        f = run_dir / f"point-{c}.json"
        if f.is_file():
            try:
                saved = json.loads(f.read_text("utf-8"))
                if saved.get("fingerprint") == fp:
                    done[c] = PointResult.model_validate(saved["point"])
                    kept.append(c)
            except (ValueError, KeyError):
                pass    # an unreadable record is measured again
    rows = {c: _row(run, info, p) for c, p in done.items()}
    path = run.out / MODEL_PROFILES_FILE
    for c in run.concurrency:
        if c in done:
            continue
        task = progress(c) if progress else None
        point = asyncio.run(measure_point(run.settings, run.workload, c, read_energy=read_energy,
                                          on_window=task))
        done[c] = point
        _atomic_write(run_dir / f"point-{c}.json", json.dumps({"fingerprint": fp, "point": point.model_dump()}))
        rows[c] = _row(run, info, point)
        path = write_rows(run.out, list(rows.values()), run.key)
    if not path.is_file() or kept and len(kept) == len(run.concurrency):
        path = write_rows(run.out, list(rows.values()), run.key)
    return [done[c] for c in run.concurrency], path, kept


def with_settings(run: ModelRun, **changes) -> ModelRun:
    return replace(run, settings=replace(run.settings, **changes))
