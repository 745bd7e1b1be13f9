"""Datasets with ground truth for the workflow profiler, and how an answer is scored against them.

- gsm8k: the packaged GSM8K test set; the reference is the number after '####'; an answer is right
  when its final number (a \\boxed{} one, else after 'Answer:', else the last number in the text)
  equals it numerically.
- math500: the packaged MATH-500; the reference is its `answer` (LaTeX); an answer is right when its
  last \\boxed{} (else 'Answer:' text, else last line) equals it after normalisation (spacing,
  \\left/\\right, \\dfrac, \\text{}, degree and dollar signs), or numerically when both are numbers.
- FILE.jsonl: objects with a `question` (or `problem` / `prompt`) and an `answer`; scored numerically
  when the reference is a number, else as math500.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from murakkab.errors import MurakkabError

PACKAGED = {"gsm8k": "gsm8k", "math500": "math500"}
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_ANSWER = re.compile(r"answer\s*(?:is)?\s*[:=]?\s*(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    question: str
    reference: str
    numeric: bool            # score numerically


@dataclass(frozen=True)
class Dataset:
    name: str
    items: tuple[Item, ...]
    source: str              # where it came from, for provenance


def _gsm8k_reference(answer: str) -> str:
    return answer.rsplit("####", 1)[-1].strip().replace(",", "")


def load_dataset(spec: str, limit: int | None = None) -> Dataset:
    """gsm8k, math500 or a JSONL file, first `limit` items (the sets' own order)."""
    if limit is not None and limit < 1:
        raise MurakkabError(f"--limit must be at least 1 (got {limit})")
    if spec in PACKAGED:
        text = resources.files("murakkab.profiling").joinpath("data", "eval", PACKAGED[spec], "test.jsonl") \
            .read_text("utf-8")
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        if spec == "gsm8k":
            items = [Item(r["question"], _gsm8k_reference(r["answer"]), True) for r in rows]
            source = "GSM8K test (openai/grade-school-math, MIT), packaged"
        else:
            items = [Item(r["problem"], r["answer"], False) for r in rows]
            source = "MATH-500 (MATH, MIT; openai/prm800k subset), packaged"
        name = spec
    else:
        path = Path(spec)
        if not path.is_file():
            raise MurakkabError(f"dataset not found: {spec} (fix: gsm8k, math500, or a JSONL file with question and "
                                "answer fields)")
        items = []
        for i, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                q = next(r[k] for k in ("question", "problem", "prompt") if k in r)
                a = r["answer"]
            except (json.JSONDecodeError, StopIteration, KeyError, TypeError):
                raise MurakkabError(f"{path} row {i}: expected a JSON object with 'question' (or 'problem' or "
                                    "'prompt') and 'answer'") from None
            ref = str(a).strip()
            items.append(Item(str(q), ref, _as_number(ref) is not None))
        if not items:
            raise MurakkabError(f"{path}: no items")
        name, source = path.stem, f"{path} (user file)"
    return Dataset(name=name, items=tuple(items[:limit] if limit else items), source=source)


def _as_number(text: str) -> float | None:
    t = text.strip().replace(",", "").replace("$", "").rstrip(".")
    try:
        return float(t)
    except ValueError:
        return None


def last_boxed(text: str) -> str | None:
    """The content of the last \\boxed{...} (nested braces matched), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j]
    return None


def final_answer(text: str) -> str:
    """The answer a reply ends with: its last \\boxed{}, else what follows the last 'answer:', else its last line."""
    text = text or ""
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    found = _ANSWER.findall(text)
    if found:
        return found[-1].strip()
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def normalise_latex(text: str) -> str:
    t = text.strip().strip("$").strip()
    t = re.sub(r"\\text\{([^}]*)\}", r"\1", t)
    for a, b in (("\\left", ""), ("\\right", ""), ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("^\\circ", ""),
                 ("^{\\circ}", ""), ("\\%", ""), ("\\!", ""), ("\\,", ""), ("\\ ", ""), (" ", "")):
        t = t.replace(a, b)
    return t.rstrip(".").lower()


def is_correct(item: Item, reply: str) -> bool:
    """Score a workflow's reply (its answer text) against the item's reference."""
    answer = final_answer(reply)
    if item.numeric:
        nums = _NUMBER.findall(answer.replace("$", ""))
        if not nums:
            return False
        got = _as_number(nums[-1])
        want = _as_number(item.reference)
        return got is not None and want is not None and abs(got - want) <= 1e-6 * max(1.0, abs(want))
    a, b = normalise_latex(answer), normalise_latex(item.reference)
    if a == b:
        return True
    x, y = _as_number(a), _as_number(b)
    return x is not None and y is not None and abs(x - y) <= 1e-6 * max(1.0, abs(y))
