"""``GET /api/v1/export/{layer}``: bulk export of a public layer for GIS analysts.

GeoPackage, GeoParquet and zipped Shapefile are written to a temporary file (read from
PostGIS in chunks in a worker thread), then sent and deleted; GeoJSON and CSV stream out as
they are read. Public columns only, for every caller (geo/export/layers.py), so no sign-in
is needed and nothing is audited (the audit log records reads of personal data).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import BBoxDep, SettingsDep, WithinDep
from geo.db.connect import connect
from geo.export import (
    FORMATS,
    LAYERS,
    ExportRequest,
    Survey,
    export_layer,
    filename,
    make_request,
    prepare,
    stream_layer,
)
from geo.settings import Settings

router = APIRouter(tags=["export"])

LayerParam = Annotated[str, PathParam(description=" | ".join(LAYERS))]
FormatParam = Annotated[str, Query(description=" | ".join(FORMATS))]
CrsParam = Annotated[str, Query(description="wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n (e.g. "
                                "EPSG:4545); GeoJSON is always wgs84 (RFC 7946)")]
ThemeParam = Annotated[str | None, Query(max_length=40, description="grids only: unified, "
                                         "综治, 城管, 应急 …")]
GenerationParam = Annotated[int | None, Query(description="grids only: an older generation "
                                              "(active or archived) instead of the active one")]
EncodingParam = Annotated[str | None, Query(description="shp only: utf-8 (default) or gbk, "
                                            "declared in the .cpg")]


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _open(settings: Settings, req: ExportRequest) -> tuple[psycopg.Connection, Survey]:
    conn = connect(settings)
    try:
        return conn, prepare(conn, req)
    except BaseException:
        conn.close()
        raise


def _stream(conn: psycopg.Connection, req: ExportRequest) -> Iterator[bytes]:
    try:
        yield from stream_layer(conn, req)
    finally:
        conn.close()


def _write(conn: psycopg.Connection, req: ExportRequest, found: Survey, path: Path) -> None:
    with conn:
        export_layer(conn, req, path, found=found)


@router.get("/export/{layer}", summary="Download a whole public layer (GeoPackage, GeoParquet, "
            "GeoJSON, zipped Shapefile or CSV)",
            response_class=Response,
            responses={200: {"content": {f.media_type: {} for f in FORMATS.values()}}})
async def export(settings: SettingsDep, within: WithinDep, bbox: BBoxDep, layer: LayerParam,
                 format: FormatParam = "gpkg", crs: CrsParam = "wgs84",
                 theme: ThemeParam = None, generation: GenerationParam = None,
                 encoding: EncodingParam = None) -> Response:
    req = make_request(layer, format, crs, within, bbox, theme, generation, encoding)
    conn, found = await run_in_threadpool(_open, settings, req)
    name = filename(req)
    headers = {"Content-Disposition": content_disposition(name),
               "X-Feature-Count": str(found.count)}
    if req.format.streams:
        return StreamingResponse(_stream(conn, req), media_type=req.format.media_type,
                                 headers=headers)
    folder = Path(tempfile.mkdtemp(prefix="gridgov-export-"))
    try:
        await run_in_threadpool(_write, conn, req, found, folder / name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(folder / name, media_type=req.format.media_type, headers=headers,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
