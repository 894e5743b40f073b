"""Error answers: every 4xx names what was wrong (``detail`` and, for bad fields, ``problems``
with the field path); a 5xx says only "internal error" and logs no stack trace or secret."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.node_link import NodeUnavailable

__all__ = ["ProblemError", "install_error_handlers"]

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

    @app.exception_handler(NodeUnavailable)
    async def _node(_: Request, exc: NodeUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "problems": []}, status_code=503)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # The type and the route only: a message or a trace could carry a secret.
        log.error(
            "internal error %s on %s %s", type(exc).__name__, request.method, request.url.path
        )
        return JSONResponse({"detail": "internal error", "problems": []}, status_code=500)
