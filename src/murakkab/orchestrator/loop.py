"""Ask, check, and ask again with the error: the bounded regenerate loop both the sentence resolver
and the request decomposer use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import ValidationError

from murakkab.errors import MurakkabError
from murakkab.orchestrator.backend import ChatBackend, OrchestratorError

T = TypeVar("T")
MAX_TRIES = 10


@dataclass(frozen=True)
class Accepted(Generic[T]):
    value: T
    tries: int                      # answers asked for, the accepted one included
    rejected: tuple[str, ...]       # why each earlier answer was sent back, in order


class Rejected(OrchestratorError):
    """No answer passed the checks within the bound."""

    def __init__(self, message: str, rejected: tuple[str, ...]):
        super().__init__(message)
        self.rejected = rejected


def check_tries(tries: int) -> int:
    if not 1 <= tries <= MAX_TRIES:
        raise OrchestratorError(f"tries must be 1..{MAX_TRIES}, got {tries} (fix: e.g. --tries 3)")
    return tries


def validation_text(exc: ValidationError) -> str:
    """A pydantic error as one line a model (and a person) can act on."""
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(p) for p in e["loc"]) or "the answer"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def ask_until_valid(backend: ChatBackend, messages: list[dict], name: str, description: str, schema: dict,
                    check: Callable[[object], T], tries: int) -> Accepted[T]:
    """Ask for a structured answer and pass it to `check`, which returns the accepted value or raises
    MurakkabError / ValidationError naming what is wrong. A rejected answer goes back to the model with
    the error, up to `tries` answers in all; then `Rejected` carries every error."""
    check_tries(tries)
    convo = list(messages)
    rejected: list[str] = []
    for attempt in range(1, tries + 1):
        reply = backend.ask(convo, name, description, schema)
        problem = reply.problem
        if problem is None:
            try:
                return Accepted(check(reply.data), attempt, tuple(rejected))
            except ValidationError as exc:
                problem = f"the answer does not have the required shape: {validation_text(exc)}"
            except MurakkabError as exc:
                problem = str(exc)
        rejected.append(problem)
        convo += [{"role": "assistant", "content": reply.raw or "(no answer)"},
                  {"role": "user", "content": f"That answer was rejected: {problem}\n"
                                              "Send the whole corrected answer, in the same form."}]
    raise Rejected(f"no answer passed the checks in {tries} tries; the last was rejected because: {rejected[-1]}",
                   tuple(rejected))
