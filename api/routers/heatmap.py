"""``/api/v1/heatmap``: counts of residents, party members, volunteers or resident issues per
H3 hexagon, as GeoJSON and as vector tiles, within the caller's scope; small counts left out
for roles that need it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from psycopg import AsyncConnection
from pydantic_core import to_json

from api.auth import UserDep, caller
from api.deps import ConnDep, SettingsDep, WithinDep
from api.routers.tiles import MVT, base_url, bounds_of, tile_response
from geo.access import narrowed, require, role_of
from geo.db.fresh import FreshCache
from geo.db.queries import heatmap as q
from geo.heatmap import LAYER_ZH, HeatQuery, collection
from geo.issue_cells import IssueCellCache
from geo.privacy import suppression_floor
from tiles import heat as heat_tiles
from tiles.cache import TileCache
from tiles.documents import thematic_url, tilejson_of
from tiles.service import Statement, address, encoded

router = APIRouter(tags=["coverage"])
Res = Annotated[int | None, Query(description="H3 resolution, 7 (≈5 km²) to 10 (≈0.015 km²); "
                                  "GeoJSON: 9 by default; tiles: by zoom")]


@dataclass(frozen=True)
class HeatArgs:
    """The heat map asked for, as given (validated by ``HeatQuery.parse``)."""
    layer: str
    res: int | None
    category: str | None
    status: str | None
    since: str | None
    until: str | None

    def query(self, default_res: int) -> HeatQuery:
        return HeatQuery.parse(self.layer, self.res or default_res, self.category, self.status,
                               self.since, self.until)


def heat_args(
    layer: Annotated[str, Query(description="residents, party_members, volunteers or issues")],
    res: Res = None,
    category: Annotated[str | None, Query(max_length=400, description="issues: "
                                          "comma-separated categories")] = None,
    status: Annotated[str | None, Query(max_length=200, description="issues: "
                                        "comma-separated statuses")] = None,
    since: Annotated[str | None, Query(alias="from", max_length=40, description="issues: "
                                       "reported on or after (YYYY-MM-DD or date-time)")] = None,
    until: Annotated[str | None, Query(alias="to", max_length=40, description="issues: "
                                       "reported up to (a date: that whole day)")] = None,
) -> HeatArgs:
    return HeatArgs(layer, res, category, status, since, until)


HeatArgsDep = Annotated[HeatArgs, Depends(heat_args)]


async def _rows(request: Request, query: HeatQuery, where: str, floor: int
                ) -> list[tuple[int, int]]:
    """(cell, count) rows: issues from memory, people by SQL, kept until buildings or people
    change (tiles ask for the same rows again and again)."""
    issues: IssueCellCache = request.app.state.issue_cells
    if query.layer == "issues":
        return (await issues.get()).counts(query.res, where, floor, query.categories,
                                           query.statuses, query.since, query.until)
    await issues.buildings_filled()
    fresh: FreshCache = request.app.state.fresh
    day = date.today()

    async def load(conn: AsyncConnection) -> list[tuple[int, int]]:
        return await q.cell_counts(conn, query.layer, query.res, where, floor, day)

    rows: list[tuple[int, int]] = await fresh.get(
        ("heat", query.layer, query.res, where, floor, day), ("buildings", "people"), load)
    return rows


@router.get("/heatmap", summary="Counts per H3 hexagon (resolution 7–10) of residents, party "
            "members, volunteers or resident issues (GeoJSON)")
async def get_heatmap(request: Request, settings: SettingsDep, user: UserDep,
                      within: WithinDep, args: HeatArgsDep) -> Response:
    require(user, "heatmap", "read")
    query = args.query(9)
    where = narrowed(user, within)
    floor = suppression_floor(role_of(user), settings.k_anonymity)
    rows = await _rows(request, query, where, floor)
    return Response(to_json(collection(rows, query, where, floor)),
                    media_type="application/geo+json")


@router.get("/heatmap/tiles.json", summary="TileJSON of a heat map's vector tiles")
async def heat_tilejson(request: Request, conn: ConnDep, user: UserDep, within: WithinDep,
                        args: HeatArgsDep) -> JSONResponse:
    require(user, "heatmap", "read")
    query = args.query(9)  # validates the arguments; tiles pick the resolution by zoom
    where = narrowed(user, within)
    cache: TileCache = request.app.state.tile_cache
    version = cache.version(heat_tiles.topics(query))
    asked = {"layer": args.layer, "res": args.res, "category": args.category,
             "status": args.status, "from": args.since, "to": args.until,
             "within": where or None, "v": version}
    url = thematic_url(base_url(request), "/api/v1/heatmap/tiles", asked)
    body = tilejson_of(heat_tiles.LAYER, f"热力图：{LAYER_ZH[query.layer]}", url, version,
                       await bounds_of(conn, where), heat_tiles.FIELDS)
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


@router.get("/heatmap/tiles/{z}/{x}/{y}.mvt", summary="A heat map as a vector tile (hexagons "
            "with their counts; the resolution follows the zoom unless res is given)",
            response_class=Response, responses={200: {"content": {MVT: {}}}})
async def heat_tile(request: Request, within: WithinDep, args: HeatArgsDep,
                    z: Annotated[int, Path(ge=0)], x: Annotated[int, Path(ge=0)],
                    y: Annotated[int, Path(ge=0)], v: str | None = None) -> Response:
    user = await caller(request)
    require(user, "heatmap", "read")
    tile, query = address(z, x, y), args.query(heat_tiles.zoom_res(z))
    where = narrowed(user, within)
    floor = suppression_floor(role_of(user), request.app.state.settings.k_anonymity)
    cache: TileCache = request.app.state.tile_cache
    topics = heat_tiles.topics(query)

    async def make() -> Statement:
        rows = heat_tiles.in_tile(await _rows(request, query, where, floor), tile)
        return heat_tiles.SQL, heat_tiles.params(rows, query.res, tile)

    key = ("heat", query.layer, query.res, tuple(query.categories or ()),
           tuple(query.statuses or ()), query.since, query.until, where, floor,
           date.today(), z, x, y)  # people count on the day's roles
    found = await encoded(request.app.state.pool, cache, topics, key, make)
    versioned = v == cache.version(topics) and cache.changes.listening
    return tile_response(request, found, versioned, shared=False)
