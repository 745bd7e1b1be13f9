"""Request shapes (prompt and output token counts) the model profiler sends.

`azure-conv` / `azure-code`: the packaged Azure LLM inference traces 2023 (ContextTokens,
GeneratedTokens per request, CC-BY-4.0), sampled in a seeded order. A JSONL file: one object per
line with integer `input_tokens` and `output_tokens`. Shapes are clipped to the caps the user gives
(a small server's context), and the clipping is reported with the profile.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from murakkab.errors import MurakkabError

TRACES = {"azure-conv": "conv.csv", "azure-code": "code.csv"}


@dataclass(frozen=True)
class Shape:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Workload:
    name: str                  # "azure-conv", "azure-code" or the file's stem
    shapes: tuple[Shape, ...]  # in the order they are sent (cycled)
    clipped: int               # shapes changed by the caps

    def shape(self, i: int) -> Shape:
        return self.shapes[i % len(self.shapes)]


def _trace_rows(name: str) -> list[tuple[int, int]]:
    path = resources.files("murakkab.sim").joinpath("data", "azure_llm_trace_2023", TRACES[name])
    with path.open(encoding="utf-8") as fh:
        return [(int(r["ContextTokens"]), int(r["GeneratedTokens"])) for r in csv.DictReader(fh)]


def _file_rows(path: Path) -> list[tuple[int, int]]:
    if not path.is_file():
        raise MurakkabError(f"workload file not found: {path} (fix: azure-conv, azure-code, or a JSONL file with "
                            "input_tokens and output_tokens per line)")
    rows = []
    for i, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            a, b = obj["input_tokens"], obj["output_tokens"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise MurakkabError(f"{path} row {i}: expected a JSON object with integer input_tokens and "
                                "output_tokens") from None
        if not (isinstance(a, int) and isinstance(b, int) and a > 0 and b > 0):
            raise MurakkabError(f"{path} row {i}: input_tokens and output_tokens must be positive integers "
                                f"(got {a!r}, {b!r})")
        rows.append((a, b))
    if not rows:
        raise MurakkabError(f"{path}: no requests in the file")
    return rows


def load_workload(spec: str, *, max_input_tokens: int, max_output_tokens: int, seed: int = 0) -> Workload:
    """The workload's request shapes, shuffled with `seed`, clipped to the caps."""
    if max_input_tokens < 1 or max_output_tokens < 2:
        raise MurakkabError("token caps must be at least 1 input and 2 output tokens")
    if spec in TRACES:
        rows, name = _trace_rows(spec), spec
    else:
        rows, name = _file_rows(Path(spec)), Path(spec).stem
    rng = random.Random(seed)
    rows = list(rows)
    rng.shuffle(rows)
    shapes, clipped = [], 0
    for a, b in rows:
        # at least 2 output tokens: one inter-token gap per request
        s = Shape(min(max(a, 1), max_input_tokens), min(max(b, 2), max_output_tokens))
        clipped += (s.input_tokens, s.output_tokens) != (a, b)
        shapes.append(s)
    return Workload(name=name, shapes=tuple(shapes), clipped=clipped)


WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


def prompt_text(tokens: int, salt: int) -> str:
    """A prompt of about `tokens` tokens (one short common word each, the usual tokenisers' case); `salt`
    leads, so a server's prefix cache does not make later requests artificially fast."""
    return f"{salt}: " + " ".join(WORDS[(salt + i * 7) % len(WORDS)] for i in range(max(tokens - 8, 1)))
