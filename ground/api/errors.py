"""Errors of the API: 4xx that name the field and the reason, and a 500 that leaks nothing.

- FastAPI's own 422 (``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``) covers malformed
  requests; ``invalid(loc, msg)`` raises the same shape for checks made in an endpoint (an
  inverted time window, too many buckets), so a client handles one format.
- ``not_found(what)`` → 404 naming the unknown thing.
- ``UnhandledErrors`` logs an exception with the request's method and path (never its headers)
  and answers ``500 {"detail": "internal error", "error_id": ...}``; the id finds the log line.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final, NoReturn

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ground.api.schemas import ErrorMessage
from ground.security import Role

log = logging.getLogger("lupex.ground.api")


def invalid(loc: tuple[str, ...], msg: str, value: Any = None) -> NoReturn:
    """Raise a 422 in FastAPI's format: ``loc`` e.g. ``("query", "start")``."""
    raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": msg, "input": value}])


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=what)


class UnhandledErrors:
    """ASGI middleware: an exception escaping an endpoint becomes a logged 500, nothing more.

    Starlette's own handler for ``Exception`` answers and then re-raises, so that the server logs
    it again and drops the connection; this one answers ``{"detail": "internal error",
    "error_id": ...}`` on the same connection and logs once, with the method and path (never the
    headers). A WebSocket that fails is closed with 1011 by the server as usual.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            error_id = uuid.uuid4().hex[:12]
            log.error(
                "unhandled error %s in %s %s",
                error_id,
                scope.get("method", "?"),
                scope.get("path", "?"),
                exc_info=(type(exc), exc, exc.__traceback__),
            )
            if started:  # too late for a 500: the server closes the connection
                raise
            response = JSONResponse(
                status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
                content={"detail": "internal error", "error_id": error_id},
            )
            await response(scope, receive, send)


AUTH_401: Final[dict[str, Any]] = {
    "model": ErrorMessage,
    "description": "No token, or an unknown one (the response has WWW-Authenticate: Bearer).",
    "content": {"application/json": {"example": {"detail": "missing bearer token"}}},
}


def responses(role: Role, *, not_found_what: str | None = None) -> dict[int | str, Any]:
    """OpenAPI responses of an endpoint that needs ``role`` (401, 403, and 404 if it can)."""
    out: dict[int | str, Any] = {401: AUTH_401}
    if role > Role.VIEWER:  # every valid token has at least the viewer role
        out[403] = {
            "model": ErrorMessage,
            "description": f"The token's role is below {role.label}.",
            "content": {
                "application/json": {
                    "example": {
                        "detail": f"this needs the {role.label} role (or higher); "
                        "the token presented has the viewer role"
                    }
                }
            },
        }
    if not_found_what is not None:
        out[404] = {
            "model": ErrorMessage,
            "description": f"Unknown {not_found_what}.",
            "content": {
                "application/json": {"example": {"detail": f"unknown {not_found_what} 'x'"}}
            },
        }
    return out
