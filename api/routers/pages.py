"""The web pages and their assets, all served by us (no CDN, works offline)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from geo.settings import Settings

VENDOR = ("maplibre-gl", "terra-draw", "terra-draw-maplibre-gl-adapter")
PAGES = {"/": "index.html", "/find": "find.html", "/plan": "plan.html",
         "/dashboard": "dashboard.html", "/merge": "merge.html", "/report": "report.html"}


def mount(app: FastAPI, settings: Settings) -> None:
    web = Path(settings.web_dir)
    app.mount("/static", StaticFiles(directory=web / "static"), name="static")
    # npm packages (web/package-lock.json), each package's dist folder under /vendor/NAME.
    for package in VENDOR:
        app.mount(f"/vendor/{package}",
                  StaticFiles(directory=web / "node_modules" / package / "dist",
                              check_dir=False), name=package)

    for route, file in PAGES.items():
        app.add_api_route(route, _page(web / "static" / file), include_in_schema=False)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(web / "static" / "favicon.svg", media_type="image/svg+xml")


def _page(path: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def page() -> FileResponse:
        return FileResponse(path, media_type="text/html")
    return page
