"""Every error is JSON: {"error": {"type", "message"}} with a fitting status code. No error body carries
a backend's address (backend errors name instances; the log has the URLs). Unexpected exceptions
are answered by `middleware.CatchAll`, which keeps the connection open."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from murakkab.errors import MurakkabError, SpecError
from murakkab.runtime.errors import Conflict, KeyReused, NotFound, TooBusy, Unavailable
from murakkab.server.middleware import BodyTooLarge


def error_response(status: int, kind: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


def status_of(exc: MurakkabError) -> int:
    from murakkab.optimizer.explain import InfeasiblePlan
    from murakkab.orchestrator.backend import OrchestratorError, OrchestratorUnavailable
    for cls, code in ((NotFound, 404), (Conflict, 409), (TooBusy, 429), (Unavailable, 503), (InfeasiblePlan, 422),
                      (OrchestratorUnavailable, 503), (OrchestratorError, 422), (KeyReused, 422)):
        if isinstance(exc, cls):
            return code
    return 422 if isinstance(exc, SpecError) else 400


def install(app: FastAPI) -> None:
    @app.exception_handler(MurakkabError)
    async def _murakkab(_: Request, exc: MurakkabError):
        extra = {}
        if isinstance(exc, SpecError):
            extra = {k: getattr(exc, k, None) for k in ("line", "task", "fix") if getattr(exc, k, None)}
        return error_response(status_of(exc), type(exc).__name__, str(exc), **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:8])
        return error_response(422, "invalid_request", msgs)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        kind = "body_too_large" if isinstance(exc, BodyTooLarge) else "http_error"
        return error_response(exc.status_code, kind, str(exc.detail))

    @app.exception_handler(RecursionError)
    async def _deep(_: Request, exc: RecursionError):
        return error_response(400, "too_deep", "the request is nested too deeply to read (fix: flatten it)")
