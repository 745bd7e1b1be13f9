"""Word-level text helpers for lexical matching: content words, a light suffix stemmer, and a
match rule that tolerates derivations (transcribe ~ transcript, detect ~ detection)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
# Function words carry no meaning for matching a sentence to an executor.
STOPWORDS = frozenset("""a an the of in on for to from with and or its it each every this that these those by
as at be is are was were into one per their them then than given using use any all some its our your my
""".split())
# Longest first: the first suffix that leaves a stem of at least 4 letters is removed.
_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ers", "er", "ies", "es", "ed", "s", "e")
_SHARED_PREFIX = 6     # words sharing this many leading letters are taken as one word (transcri-be/-pt)


def stem(word: str) -> str:
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            return word[: -len(suf)]
    return word


def content_words(text: str) -> list[str]:
    """Stemmed content words of `text` in order, duplicates kept (snake_case splits into words)."""
    words = _WORD.findall(text.lower().replace("_", " ").replace("'s", ""))
    return [stem(w) for w in words if w not in STOPWORDS and len(w) > 1]


def same_word(a: str, b: str) -> bool:
    """Stems match exactly, or share a long prefix (derivations the stemmer leaves apart)."""
    if a == b:
        return True
    n = min(len(a), len(b), _SHARED_PREFIX)
    return n >= _SHARED_PREFIX and a[:n] == b[:n]


def matches(word: str, vocabulary: set[str]) -> bool:
    return word in vocabulary or any(same_word(word, v) for v in vocabulary)
