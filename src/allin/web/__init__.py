"""The browser UI: static files served by the app itself, no build step and no CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def mount_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/protocol", include_in_schema=False)
    async def protocol() -> FileResponse:
        """The chat WebSocket's frames and close codes, which OpenAPI cannot describe."""
        return FileResponse(STATIC_DIR / "protocol.html")
