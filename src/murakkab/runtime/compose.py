"""Pure helpers for compositions and prompts: answer extraction, majority vote, debate prompts,
and the chat messages a step sends (built from its inputs; specs never carry code or templates)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

_ANSWER = re.compile(r"(?:final answer|answer)\s*[:=]\s*(.+)", re.IGNORECASE)


def extract_answer(text: str) -> str:
    """The answer a chain ends with: the last 'Answer: X' if any, else the last non-empty line;
    normalised (trimmed, lower case, trailing full stop removed) so equal answers vote together."""
    text = text or ""
    found = _ANSWER.findall(text)
    if found:
        ans = found[-1]
    else:
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        ans = lines[-1] if lines else ""
    return ans.strip().rstrip(".").strip().lower()


def majority_vote(answers: list[str]) -> tuple[str, dict[str, int]]:
    """(winner, votes). Ties go to the answer seen first, so a vote is deterministic."""
    if not answers:
        raise ValueError("majority vote over no answers")
    votes = Counter(answers)
    best = max(votes.values())
    winner = next(a for a in answers if votes[a] == best)
    return winner, dict(votes)


def render_inputs(inputs: dict[str, Any], limit: int = 4000) -> str:
    """Inputs as text for a prompt: strings as they are, anything else as compact JSON (truncated)."""
    parts = []
    for name, value in inputs.items():
        if value is None:
            continue
        s = value if isinstance(value, str) else json.dumps(value, default=str)[:limit]
        parts.append(f"## {name}\n{s}")
    return "\n\n".join(parts)


def messages_for(description: str, inputs: dict[str, Any], extra: str | None = None) -> list[dict]:
    user = render_inputs(inputs)
    if extra:
        user = f"{user}\n\n{extra}"
    return [{"role": "system", "content": description}, {"role": "user", "content": user}]


def debate_note(round_no: int, previous: list[str]) -> str | None:
    """What a debater sees from round 2 on: every agent's previous answer."""
    if round_no == 0 or not previous:
        return None
    others = "\n\n".join(f"Agent {i + 1}:\n{p}" for i, p in enumerate(previous))
    return f"Round {round_no + 1}. The agents' answers from the previous round:\n{others}\nRevise yours."
