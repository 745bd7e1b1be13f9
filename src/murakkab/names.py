"""Helpers for naming things in error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """A ' (did you mean: a, b?)' suffix with the nearest known names, or a list of all if none is near."""
    known = sorted(known)
    near = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if near:
        return f"did you mean: {', '.join(near)}?"
    return f"known: {', '.join(known)}"
