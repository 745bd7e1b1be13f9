"""Every error is JSON: {"error": {"type", "message"}} with a fitting status code."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from murakkab.errors import MurakkabError, SpecError
from murakkab.runtime.service import Conflict, NotFound, TooBusy, Unavailable


def error_response(status: int, kind: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


def status_of(exc: MurakkabError) -> int:
    from murakkab.optimizer.explain import InfeasiblePlan
    from murakkab.orchestrator.backend import OrchestratorError, OrchestratorUnavailable
    for cls, code in ((NotFound, 404), (Conflict, 409), (TooBusy, 429), (Unavailable, 503), (InfeasiblePlan, 422),
                      (OrchestratorUnavailable, 503), (OrchestratorError, 422)):
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
        return error_response(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def _any(_: Request, exc: Exception):
        return error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")
