"""ASGI middleware: a body size limit (413, declared or chunked) and a last-resort error catcher that
answers an unexpected exception with a JSON 500 and keeps the connection open.

Starlette's own catcher re-raises after its 500, and uvicorn then closes the connection: a client
that pipelines or reuses a keep-alive connection would see its next request fail. `CatchAll` sits
outside it and answers instead, logging the traceback for the operator.
"""

from __future__ import annotations

import json
import logging

from fastapi import HTTPException

log = logging.getLogger("murakkab.server")


def _json(status: int, kind: str, message: str) -> tuple[dict, dict]:
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised while the app reads a body past the limit (FastAPI passes HTTPExceptions on untouched)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body exceeds {limit} bytes (fix: send less)")


class BodyLimit:
    """Refuse bodies over `limit` bytes with a JSON 413: at once when Content-Length says so, else
    when the bytes read so far pass it (chunked bodies)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            start, body = _json(413, "body_too_large", f"request body exceeds {self.limit} bytes (fix: send less)")
            await send(start)
            return await send(body)
        seen = 0

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return msg

        await self.app(scope, counted, send)


class CatchAll:
    """Answer any exception that escapes the app with a JSON 500 (when no response has started) and
    never re-raise it, so the server keeps the connection."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: log it, answer, keep serving
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise           # half a response is out: only closing the connection can tell the client
            start, body = _json(500, "internal_error", f"internal error ({type(exc).__name__}); the operator's "
                                "log has the details")
            await send(start)
            await send(body)
