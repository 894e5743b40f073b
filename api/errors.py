"""Error answers: every 4xx names what was wrong (``detail`` and, for bad fields, ``problems``
with the field path); a 5xx says only "internal error" and logs no stack trace or secret."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.node_link import NodeRefused
from api.node_link import NodeUnavailable

__all__ = ["CatchAll", "ProblemError", "install_error_handlers"]

log = logging.getLogger("jarvis.api")


class ProblemError(Exception):
    """A refusal with a status, a summary and per-field problems."""

    def __init__(self, status: int, detail: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = problems


def _field(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "invalid request", "problems": problems}, status_code=422)

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        problems = [{"field": f, "message": m} for f, m in exc.problems]
        return JSONResponse({"detail": exc.detail, "problems": problems}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc.detail), "problems": []},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refuses some values SQLite takes (a NUL character in a text id, a number
        # out of range): the caller's input, so a 422, never the driver's message.
        detail = (
            "a value in the request cannot be stored or looked up "
            "(a NUL character, or a number out of range)"
        )
        return JSONResponse({"detail": detail, "problems": []}, status_code=422)

    @app.exception_handler(NodeRefused)
    async def _refused(_: Request, exc: NodeRefused) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "problems": []}, status_code=409)

    @app.exception_handler(NodeUnavailable)
    async def _node(_: Request, exc: NodeUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "problems": []}, status_code=503)


class CatchAll:
    """ASGI middleware: an unexpected exception becomes a bare 500 here and goes no further.

    Starlette's own last-resort handler answers 500 but then re-raises, and the server logs the
    traceback with the exception's message -- which could carry a secret. We log only the type
    and the route.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error(
                "internal error %s on %s %s", type(exc).__name__, scope["method"], scope["path"]
            )
            if started:
                return
            body = json.dumps({"detail": "internal error", "problems": []}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
