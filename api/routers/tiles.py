"""``/tiles/``: Mapbox vector tiles, TileJSON and a MapLibre style (public, no personal data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api.auth import caller
from api.deps import ConnDep
from geo.access import role_of
from geo.privacy import suppression_floor
from geo.settings import Settings
from tiles.cache import Tile, TileCache
from tiles.documents import Bounds, style, tilejson
from tiles.registry import TileLayer
from tiles.service import address, layer_named, tile_of

router = APIRouter(prefix="/tiles", tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
Theme = Annotated[str | None, Query(max_length=40, description="grids: layer theme "
                                    "(unified by default)")]
Generation = Annotated[int | None, Query(ge=1, description="grids: a generation instead of "
                                         "the active one")]

BOUNDS = """
SELECT coalesce(ST_Extent(geom), 'BOX(73.4 18.1, 135.1 53.6)'::box2d)::geometry FROM areas
WHERE level = 'community' AND code LIKE %s
"""


async def bounds_of(conn: Any, within: str = "") -> Bounds:
    """The box of the communities in ``within`` (a code prefix; "" for all of them)."""
    cur = await conn.execute(f"SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) "
                             f"FROM ({BOUNDS}) x(b)", [within + "%"])
    row = await cur.fetchone()
    return (round(row[0], 6), round(row[1], 6), round(row[2], 6), round(row[3], 6))


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/style.json", summary="MapLibre style over every tile layer (QGIS loads it too)")
async def style_json(request: Request, conn: ConnDep) -> JSONResponse:
    cache: TileCache = request.app.state.tile_cache
    return JSONResponse(style(base_url(request), cache, await bounds_of(conn)),
                        headers={"Cache-Control": "no-cache"})


@router.get("/{layer}.json", summary="TileJSON 3.0.0 of a layer")
async def layer_json(request: Request, conn: ConnDep, layer: str, theme: Theme = None,
                     generation: Generation = None) -> JSONResponse:
    found = layer_named(layer)
    cache: TileCache = request.app.state.tile_cache
    body = tilejson(base_url(request), found, cache, await bounds_of(conn), theme, generation)
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


async def _floor(request: Request, layer: TileLayer) -> int:
    """The smallest count the caller may see in an aggregate layer. Only aggregates depend
    on the caller, and the user is found before the tile takes its own connection (a request
    never holds two of the pool's connections at once)."""
    if not layer.aggregate:
        return 1
    settings: Settings = request.app.state.settings
    return suppression_floor(role_of(await caller(request)), settings.k_anonymity)


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="One vector tile",
            response_class=Response, responses={200: {"content": {MVT: {}}}})
async def tile(request: Request, layer: str,
               z: Annotated[int, Path(ge=0)], x: Annotated[int, Path(ge=0)],
               y: Annotated[int, Path(ge=0)], theme: Theme = None,
               generation: Generation = None, v: str | None = None) -> Response:
    found = layer_named(layer)
    cache: TileCache = request.app.state.tile_cache
    floor = await _floor(request, found)
    encoded = await tile_of(request.app.state.pool, cache, found, address(z, x, y),
                            theme or "unified", generation, floor)
    versioned = v == cache.version(found.topics) and cache.changes.listening
    return tile_response(request, encoded, versioned, shared=not found.aggregate)


def tile_response(request: Request, encoded: Tile, versioned: bool, shared: bool) -> Response:
    # A URL with the current version may be kept (an edit changes the URL); any other is
    # checked with the server each time (ETag → 304 when unchanged). Counts depend on who
    # asks (suppression): never kept in shared caches.
    keep = "max-age=86400" if versioned else "no-cache"
    headers = {"ETag": encoded.etag, "Vary": "Accept-Encoding, Authorization, X-API-Key",
               "Cache-Control": f"{'public' if shared else 'private'}, {keep}"}
    if request.headers.get("if-none-match") == encoded.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "") and encoded.body:
        return Response(encoded.gzipped, media_type=MVT,
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(encoded.body, media_type=MVT, headers=headers)
