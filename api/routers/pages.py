"""The web pages and their assets, all served by us (no CDN, works offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from geo.settings import Settings


def mount(app: FastAPI, settings: Settings) -> None:
    web = Path(settings.web_dir)
    maplibre = web / "node_modules" / "maplibre-gl" / "dist"
    app.mount("/static", StaticFiles(directory=web / "static"), name="static")
    app.mount("/vendor/maplibre-gl", StaticFiles(directory=maplibre, check_dir=False),
              name="maplibre")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(web / "static" / "index.html", media_type="text/html")

    @app.get("/find", include_in_schema=False)
    async def find() -> FileResponse:
        return FileResponse(web / "static" / "find.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(web / "static" / "favicon.svg", media_type="image/svg+xml")
