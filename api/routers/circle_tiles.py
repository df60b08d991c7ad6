"""``/api/v1/service-circle/tiles``: every building with its walking minutes per category as
vector tiles (signed-in staff, within their scope), for choropleths in QGIS and on the pages.
The district's circle is read inside the tile's making, after the tile cache took its stamp,
so a change during a reload leaves the tile stale rather than served as current."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.auth import UserDep, caller
from api.deps import WithinDep
from api.routers.circle import Profile, answer, circle_of, scoped
from api.routers.tiles import MVT, base_url, bounds_of, tile_response
from geo.circle.cache import TOPICS
from tiles import circle as circle_tiles
from tiles.cache import TileCache
from tiles.documents import thematic_url, tilejson_of
from tiles.service import EMPTY, Statement, address, encoded

router = APIRouter(prefix="/service-circle", tags=["service-circle"])


@router.get("/tiles.json", summary="TileJSON of the service-circle tiles (buildings with "
            "their minutes to every category)")
async def circle_tilejson(request: Request, user: UserDep, within: WithinDep = None,
                          profile: Profile = None) -> Response:
    request.app.state.settings.speed(profile)
    district, where = await scoped(request, user, within)
    circle = await circle_of(request, district)
    cache: TileCache = request.app.state.tile_cache
    version = cache.version(TOPICS)
    url = thematic_url(base_url(request), "/api/v1/service-circle/tiles",
                       {"within": where or None, "profile": profile, "v": version})
    async with request.app.state.pool.connection() as conn:
        bounds = await bounds_of(conn, where[:12])
    return answer(tilejson_of(circle_tiles.LAYER, "一刻钟便民服务圈：各楼栋步行分钟", url,
                             version, bounds, circle_tiles.fields(circle), circle_tiles.MINZOOM))


@router.get("/tiles/{z}/{x}/{y}.mvt", summary="Buildings with their walking minutes as a "
            f"vector tile (from zoom {circle_tiles.MINZOOM})", response_class=Response,
            responses={200: {"content": {MVT: {}}}})
async def circle_tile(request: Request, z: Annotated[int, Path(ge=0)],
                      x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)],
                      within: WithinDep = None, profile: Profile = None,
                      v: str | None = None) -> Response:
    kmh = request.app.state.settings.speed(profile)
    tile = address(z, x, y)
    district, where = await scoped(request, await caller(request), within)
    if z < circle_tiles.MINZOOM:
        return tile_response(request, EMPTY, False, shared=False)
    cache: TileCache = request.app.state.tile_cache

    async def make() -> Statement:
        circle = await circle_of(request, district)
        values = await asyncio.to_thread(circle_tiles.params, circle, kmh, where, tile)
        return circle_tiles.SQL, values

    key = ("circle", where, kmh, z, x, y)
    found = await encoded(request.app.state.pool, cache, TOPICS, key, make)
    versioned = v == cache.version(TOPICS) and cache.changes.listening
    return tile_response(request, found, versioned, shared=False)
