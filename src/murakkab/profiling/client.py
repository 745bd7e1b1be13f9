"""One streaming chat completion against an OpenAI-compatible endpoint, timed on the client.

Times are `time.perf_counter()` seconds: the request's start, every content chunk's arrival and the
end. Output length is pinned with `max_tokens` plus `ignore_eos` and `min_tokens` (vLLM and
llama.cpp-derived servers read them; others ignore them, which the profiler detects from the
token counts). Tokens come from the stream's `usage` when the server reports it, else one per chunk.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Sample:
    """What one request measured. `error` is set (and the timings are partial) when it failed."""
    start: float
    input_tokens_sent: int                  # what the workload asked for
    max_tokens: int
    chunk_times: list[float] = field(default_factory=list)
    end: float | None = None
    usage_out: int | None = None            # completion_tokens from `usage`, when reported
    usage_in: int | None = None
    finish_reason: str | None = None
    error: str | None = None

    @property
    def tokens_out(self) -> int:
        """`usage` when reported; else max_tokens when the server says it stopped at that limit (llama.cpp's
        stream sometimes splits a token's bytes over several chunks, so chunks over-count); else chunks."""
        if self.usage_out is not None:
            return self.usage_out
        if self.finish_reason == "length" and not self.chunks_exceed_limit:
            return self.max_tokens
        return len(self.chunk_times)

    @property
    def chunks_exceed_limit(self) -> bool:
        """More content chunks than max_tokens allows, beyond what split tokens explain (25 % + 2)."""
        return len(self.chunk_times) > 1.25 * self.max_tokens + 2

    @property
    def ttft(self) -> float | None:
        return self.chunk_times[0] - self.start if self.chunk_times else None

    @property
    def tokens_per_chunk(self) -> float:
        """Tokens a chunk carries on average (1 when the stream sends one token per chunk)."""
        n = len(self.chunk_times)
        return self.tokens_out / n if n else 0.0

    def inter_token_times(self) -> list[float]:
        """Gaps between successive chunks, per token (a chunk of k tokens spreads its gap over k)."""
        k = self.tokens_per_chunk or 1.0
        return [(b - a) / k for a, b in zip(self.chunk_times, self.chunk_times[1:])]


class EndpointError(Exception):
    """The endpoint could not be reached or answered with an error status."""


def chat_body(model: str, prompt: str, max_tokens: int, length_control: bool) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "stream": True, "stream_options": {"include_usage": True}, "temperature": 0.0}
    if length_control:
        body.update(ignore_eos=True, min_tokens=max_tokens)
    return body


async def stream_chat(client: httpx.AsyncClient, url: str, body: dict, sample: Sample, headers: dict) -> Sample:
    """Send one streaming chat completion and fill `sample` as chunks arrive (also when cancelled)."""
    try:
        async with client.stream("POST", url, json=body, headers=headers) as resp:
            if resp.status_code != 200:
                text = (await resp.aread()).decode("utf-8", "replace")[:300]
                sample.error = f"HTTP {resp.status_code}: {text}"
                sample.end = time.perf_counter()
                return sample
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                now = time.perf_counter()
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    sample.error = f"malformed stream chunk: {data[:80]!r}"
                    break
                usage = chunk.get("usage")
                if usage:
                    sample.usage_out = usage.get("completion_tokens", sample.usage_out)
                    sample.usage_in = usage.get("prompt_tokens", sample.usage_in)
                for choice in chunk.get("choices") or []:
                    # a token chunk carries a content key, empty when its bytes do not end a UTF-8
                    # character yet (llama.cpp); the role-only first chunk and the final one carry none
                    if "content" in (choice.get("delta") or {}) and (choice["delta"]["content"] is not None):
                        sample.chunk_times.append(now)
                    if choice.get("finish_reason"):
                        sample.finish_reason = choice["finish_reason"]
    except httpx.HTTPError as exc:
        sample.error = f"{type(exc).__name__}: {exc}"
    sample.end = time.perf_counter()
    return sample
