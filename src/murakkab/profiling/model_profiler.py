"""The model profiler: drive an OpenAI-compatible endpoint at each operating point and measure it.

An operating point is a number of streams kept in flight (closed loop: each of `c` workers sends
its next request when the last one ends). Per point: a warm-up (every worker finishes one request;
discarded), then back-to-back windows of `window_s`; the point ends when at least `min_windows`
windows give an output throughput whose 95 % confidence interval is within ±`target_ci`, or at the
time cap (then the row says so). Over the steady windows: output throughput (tokens whose chunks
arrived in the windows / their length), TPOT (= inter-token time) median and p90 from every chunk
gap inside the windows, TTFT p50/p90 of the requests started in them, achieved concurrency (mean
requests in flight), errors, and GPU energy from NVML's counters where `gpu_index` is given and
readable (`measured`); otherwise power and energy stay unknown.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict

from murakkab.errors import MurakkabError
from murakkab.profiling.client import Sample, chat_body, stream_chat
from murakkab.profiling.stats import ci_half_width_rel, overlap_seconds, percentile, tokens_in_window
from murakkab.profiling.workload import Workload, prompt_text


class ProfilingError(MurakkabError):
    """The endpoint cannot be profiled as asked (unreachable, ignores the output length, fails)."""


@dataclass(frozen=True)
class PointSettings:
    endpoint: str               # base URL of the OpenAI-compatible API, e.g. http://host:8000/v1
    model: str                  # `model` sent to the server
    window_s: float = 5.0
    min_windows: int = 3
    target_ci: float = 0.05     # relative half-width of the throughput's 95 % CI
    max_point_s: float = 120.0  # time cap of the steady phase of one point
    warmup_cap_s: float = 120.0
    read_timeout_s: float = 300.0
    length_control: bool = True  # send ignore_eos and min_tokens with max_tokens
    api_key: str | None = None
    gpu_index: tuple[int, ...] = ()


class PointResult(BaseModel):
    """One measured operating point (what a profile row is made of), kept as JSON for resuming."""
    model_config = ConfigDict(frozen=True)
    concurrency: int
    windows: int
    steady_s: float
    throughput_tok_s: float
    throughput_ci_rel: float
    capped: bool                        # the time cap ended the point before the CI target
    tpot_median_s: float
    tpot_p90_s: float
    ttft_p50_s: float | None
    ttft_p90_s: float | None
    e2e_p50_s: float | None
    achieved_concurrency: float
    requests: int                       # completed in the steady phase
    errors: int                         # failed, of those started in the steady phase
    mean_output_tokens: float
    energy_j: float | None = None       # NVML, all GPUs named, over the steady phase
    power_w: float | None = None
    energy_per_token_j: float | None = None
    finished_utc: str


def _headers(settings: PointSettings) -> dict:
    return {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}


def check_lengths(samples: list[Sample], length_control: bool) -> None:
    """Refuse numbers from a server that does not produce the asked output length."""
    done = [s for s in samples if s.error is None and s.end is not None]
    # +1: some servers count a final token; without usage, chunks (see Sample.tokens_out)
    over = [s for s in done if (s.usage_out is not None and s.usage_out > s.max_tokens + 1)
            or (s.usage_out is None and s.chunks_exceed_limit)]
    if over:
        s = over[0]
        raise ProfilingError(f"the server returned {s.tokens_out} tokens for max_tokens={s.max_tokens} "
                             f"({len(over)} of {len(done)} requests): it ignores max_tokens, so the output lengths "
                             "and every per-token figure would be wrong; nothing recorded for this point "
                             "(fix: serve the model with a server that honours max_tokens)")
    cut = [s for s in done if s.finish_reason is None]
    if cut:
        raise ProfilingError(f"{len(cut)} of {len(done)} streams ended without a finish_reason: the server cut them "
                             "off (llama-cpp-python's server interrupts a stream when another request arrives); "
                             "nothing recorded for this point (fix: let the server queue or batch concurrent "
                             "requests, e.g. llama_cpp.server --interrupt_requests False)")
    short = [s for s in done if s.tokens_out < s.max_tokens - 1 and s.finish_reason != "length"]
    if done and len(short) > 0.1 * len(done):
        asked = sum(s.max_tokens for s in short)
        got = sum(s.tokens_out for s in short)
        hint = ("the server ignores ignore_eos and min_tokens" if length_control else
                "length control is off (--no-length-control)")
        raise ProfilingError(f"{len(short)} of {len(done)} requests stopped early ({got} of {asked} asked tokens): "
                             f"{hint}, so outputs would not follow the workload; nothing recorded for this point "
                             "(fix: a server that honours ignore_eos or min_tokens, e.g. vLLM or llama.cpp)")


async def measure_point(settings: PointSettings, workload: Workload, concurrency: int, *,
                        read_energy: Callable[[], dict | None] | None = None,
                        on_window: Callable[[int, float], None] | None = None) -> PointResult:
    """Measure one operating point (see the module docstring). `on_window(n, ci)` reports progress."""
    url = settings.endpoint.rstrip("/") + "/chat/completions"
    samples: list[Sample] = []
    counter = itertools.count()
    stop = asyncio.Event()
    timeout = httpx.Timeout(connect=5.0, read=settings.read_timeout_s, write=30.0, pool=30.0)
    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        async def worker() -> None:
            while not stop.is_set():
                i = next(counter)
                shape = workload.shape(i)
                s = Sample(start=time.perf_counter(), input_tokens_sent=shape.input_tokens,
                           max_tokens=shape.output_tokens)
                samples.append(s)
                body = chat_body(settings.model, prompt_text(shape.input_tokens, i), shape.output_tokens,
                                 settings.length_control)
                await stream_chat(client, url, body, s, _headers(settings))
                if s.error is not None:
                    await asyncio.sleep(0.05)   # a failing server is not hammered in a tight loop

        def fatal() -> None:
            failed = [s for s in samples if s.error is not None]
            ok = [s for s in samples if s.error is None and s.end is not None]
            if len(failed) >= max(concurrency, 3) and len(failed) > 4 * len(ok):
                raise ProfilingError(f"{len(failed)} of {len(failed) + len(ok)} requests failed at concurrency "
                                     f"{concurrency}, e.g. {failed[0].error}; nothing recorded for this point "
                                     "(fix: check the server's log; lower the concurrency or the token caps)")
            check_lengths(samples, settings.length_control)

        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        try:
            deadline = time.perf_counter() + settings.warmup_cap_s
            while sum(1 for s in samples if s.end is not None and s.error is None) < concurrency:
                fatal()
                if time.perf_counter() > deadline:
                    raise ProfilingError(f"warm-up at concurrency {concurrency} did not finish {concurrency} requests "
                                         f"in {settings.warmup_cap_s:g} s (fix: lower --max-output-tokens or the "
                                         "concurrency, or raise --warmup-cap)")
                await asyncio.sleep(0.02)
            t0 = time.perf_counter()
            e0 = read_energy() if read_energy else None
            edges, rates, capped = [t0], [], False
            while True:
                await asyncio.sleep(settings.window_s)
                fatal()
                now = time.perf_counter()
                arrivals, weights = [], []
                for s in samples:
                    k = s.tokens_per_chunk if s.end is not None else 1.0
                    arrivals.extend(s.chunk_times)
                    weights.extend([k] * len(s.chunk_times))
                rates.append(tokens_in_window(arrivals, weights, edges[-1], now) / (now - edges[-1]))
                edges.append(now)
                ci = ci_half_width_rel(rates)
                if on_window:
                    on_window(len(rates), ci)
                if len(rates) >= settings.min_windows and ci <= settings.target_ci:
                    break
                if now - t0 >= settings.max_point_s:
                    capped = True
                    break
            t1 = edges[-1]
            e1 = read_energy() if read_energy else None
        finally:
            stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    check_lengths(samples, settings.length_control)
    return summarise(samples, concurrency, t0, t1, rates, capped, e0, e1)


def summarise(samples: list[Sample], concurrency: int, t0: float, t1: float, rates: list[float], capped: bool,
              e0: dict | None, e1: dict | None) -> PointResult:
    """A PointResult from the samples of a point and its steady phase [t0, t1)."""
    from murakkab.profiling.gpu_energy import energy_between_j
    gaps = []
    for s in samples:
        k = s.tokens_per_chunk or 1.0
        gaps.extend((b - a) / k for a, b in zip(s.chunk_times, s.chunk_times[1:]) if a >= t0 and b < t1)
    if len(gaps) < 2:
        raise ProfilingError(f"at concurrency {concurrency} fewer than two tokens arrived in the steady phase "
                             "(fix: raise --window or the output length)")
    started = [s for s in samples if t0 <= s.start < t1]
    ttfts = [s.ttft for s in started if s.ttft is not None]
    done = [s for s in samples if s.error is None and s.end is not None and t0 <= s.end < t1]
    spans = [(s.start, s.end if s.end is not None else t1) for s in samples]
    steady = t1 - t0
    arrivals, weights = [], []
    for s in samples:
        arrivals.extend(s.chunk_times)
        weights.extend([s.tokens_per_chunk] * len(s.chunk_times))
    tokens = tokens_in_window(arrivals, weights, t0, t1)
    energy = energy_between_j(e0, e1)
    finished = [s for s in samples if s.error is None and s.end is not None]
    return PointResult(
        concurrency=concurrency, windows=len(rates), steady_s=steady, throughput_tok_s=statistics.fmean(rates),
        throughput_ci_rel=ci_half_width_rel(rates), capped=capped, tpot_median_s=percentile(gaps, 50),
        tpot_p90_s=percentile(gaps, 90), ttft_p50_s=percentile(ttfts, 50) if ttfts else None,
        ttft_p90_s=percentile(ttfts, 90) if ttfts else None,
        e2e_p50_s=percentile([s.end - s.start for s in done], 50) if done else None,
        achieved_concurrency=overlap_seconds(spans, t0, t1) / steady, requests=len(done),
        errors=sum(1 for s in started if s.error is not None),
        mean_output_tokens=statistics.fmean(s.tokens_out for s in finished),
        energy_j=energy, power_w=None if energy is None else energy / steady,
        energy_per_token_j=None if energy is None or tokens <= 0 else energy / tokens,
        finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
