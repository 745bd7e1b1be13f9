"""The runtime's errors, each with the HTTP status the server answers it with (see server/errors.py)."""

from __future__ import annotations

from murakkab.errors import MurakkabError


class NotFound(MurakkabError):
    """A workflow, job, plan or route the caller cannot see (HTTP 404)."""


class Conflict(MurakkabError):
    """The request clashes with the server's state, e.g. no deployed plan (HTTP 409)."""


class TooBusy(MurakkabError):
    """A tenant's concurrency limit is reached (HTTP 429)."""


class Unavailable(MurakkabError):
    """No backend instance can serve the request (HTTP 503)."""


class NoProfile(Conflict):
    """An uploaded workflow whose DAG has no workflow profile: it cannot be tiered, planned or run (HTTP 409)."""


class KeyReused(MurakkabError):
    """An Idempotency-Key sent again with a different request (HTTP 422)."""
