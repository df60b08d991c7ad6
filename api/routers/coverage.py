"""``/api/v1/coverage``: coverage indicators per grid, community or street, with targets and
pass/short flags, as GeoJSON and as vector tiles for choropleths (signed-in roles, within
their scope; counts of people suppressed by role)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from psycopg import AsyncConnection
from pydantic_core import to_json

from api.auth import UserDep, caller
from api.deps import ConnDep, SettingsDep, WithinDep
from api.routers.tiles import MVT, base_url, bounds_of, tile_response
from geo import coverage
from geo.access import narrowed, require, role_of
from geo.coverage_geojson import coverage_collection
from geo.db.fresh import FreshCache
from tiles import coverage as coverage_tiles
from tiles.cache import TileCache
from tiles.documents import thematic_url, tilejson_of
from tiles.service import Statement, address, encoded

router = APIRouter(tags=["coverage"])
GEOJSON = "application/geo+json"
Level = Annotated[Literal["grid", "community", "street"], Query()]


@router.get("/coverage", summary="Coverage indicators per grid, community or street, with "
            "targets and pass/short flags (GeoJSON)")
async def get_coverage(
    conn: ConnDep, settings: SettingsDep, user: UserDep, within: WithinDep, level: Level = "grid",
    indicator: Annotated[str | None, Query(max_length=400, description="Comma-separated "
                                           "indicator keys (default: all)")] = None,
) -> Response:
    require(user, "coverage", "read")
    body = await coverage_collection(conn, user, settings, level, within,
                                     coverage.chosen(indicator))
    return Response(to_json(body), media_type=GEOJSON)


@router.get("/coverage/tiles.json", summary="TileJSON of the coverage tiles (every indicator's "
            "value and flag per grid, community or street)")
async def coverage_tilejson(request: Request, conn: ConnDep, user: UserDep, within: WithinDep,
                            level: Level = "grid") -> JSONResponse:
    require(user, "coverage", "read")
    where = narrowed(user, within)
    cache: TileCache = request.app.state.tile_cache
    version = cache.version(coverage_tiles.TOPICS)
    query = {"level": level, "within": where or None, "v": version}
    url = thematic_url(base_url(request), "/api/v1/coverage/tiles", query)
    body = tilejson_of(coverage_tiles.LAYER, f"网格化治理指标 ({level})", url, version,
                       await bounds_of(conn, where),
                       coverage_tiles.fields(list(coverage.INDICATORS.values())))
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


@router.get("/coverage/tiles/{z}/{x}/{y}.mvt", summary="Coverage indicators as a vector tile",
            response_class=Response, responses={200: {"content": {MVT: {}}}})
async def coverage_tile(request: Request, within: WithinDep, z: Annotated[int, Path(ge=0)],
                        x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)],
                        level: Level = "grid", v: str | None = None) -> Response:
    user = await caller(request)
    require(user, "coverage", "read")
    tile, where, role, day = address(z, x, y), narrowed(user, within), role_of(user), date.today()
    settings = request.app.state.settings
    fresh: FreshCache = request.app.state.fresh
    cache: TileCache = request.app.state.tile_cache

    async def load(conn: AsyncConnection) -> dict[str, Any]:
        return await coverage_collection(conn, user, settings, level, where,
                                         list(coverage.INDICATORS.values()), geometry=False)

    async def make() -> Statement:
        values = await fresh.get(("coverage", level, where, role, day), coverage_tiles.TOPICS,
                                 load)
        return coverage_tiles.sql(level), coverage_tiles.params(values, level, tile)

    key = ("coverage", level, where, role, day, z, x, y)
    found = await encoded(request.app.state.pool, cache, coverage_tiles.TOPICS, key, make)
    versioned = v == cache.version(coverage_tiles.TOPICS) and cache.changes.listening
    return tile_response(request, found, versioned, shared=False)
