"""``GET /``: the live status page, static HTML, JS and CSS from ``api/static`` (no build step).

The page itself holds no data and needs no token to load; it asks for one, keeps it in the
tab's sessionStorage and reads ``/status/stream`` with it. A strict Content-Security-Policy
allows only this origin's script, style and connections (the page never renders data as HTML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "install"]

STATIC_DIR: Final[Path] = Path(__file__).resolve().parent.parent / "static"
CSP: Final[str] = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(tags=["page"])


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    """The status page."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


def install(app: FastAPI) -> None:
    """Add the page and its static files to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
