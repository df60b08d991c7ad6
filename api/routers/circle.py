"""``/api/v1/service-circle/…``: the 一刻钟便民服务圈 (signed-in staff, within their scope).

Every answer comes from the district's circle held in memory (``geo.circle.cache``), worked
out again after any change of its network, facilities or buildings. Walking speed follows
``?profile=`` (default, or one of ``GRIDGOV_WALK_PROFILES`` such as elderly).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic_core import to_json

from api.auth import UserDep, caller
from api.deps import SettingsDep, WithinDep
from api.routers.tiles import MVT, base_url, bounds_of, tile_response
from geo.access import narrowed, require
from geo.auth import User
from geo.circle import answers
from geo.circle.cache import TOPICS as CIRCLE_TOPICS
from geo.circle.cache import CircleCache
from geo.circle.district import DistrictCircle
from geo.circle.siting import propose
from geo.db.queries import coverage as coverage_q
from geo.db.queries.circle import district_of_async
from geo.errors import InvalidInput, NotFound
from geo.h3cells import RESOLUTIONS
from tiles import circle as circle_tiles
from tiles.cache import TileCache
from tiles.documents import thematic_url, tilejson_of
from tiles.service import EMPTY, Statement, address, encoded

router = APIRouter(prefix="/service-circle", tags=["service-circle"])
GEOJSON = "application/geo+json"
NEAR_NETWORK_M = 500  # an isochrone starts no farther than this from a street
Profile = Annotated[str | None, Query(max_length=40, description="walking speed profile: "
                                      "default (4.0 km/h) or elderly (3.0 km/h) …")]

GRIDS = """
SELECT g.code, g.name, ST_AsGeoJSON(g.geom, 7)::text AS geometry
FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE l.theme = 'unified' AND l.status = 'active' AND g.code LIKE %s ORDER BY g.code
"""


def _json(body: Any, media_type: str = "application/json") -> Response:
    return Response(to_json(body), media_type=media_type)


async def _circle(request: Request, user: User | None, within: str | None
                  ) -> tuple[DistrictCircle, str]:
    """The district's circle and the area code prefix the caller may see."""
    require(user, "circle", "read")
    where = narrowed(user, within)
    async with request.app.state.pool.connection() as conn:
        district = await district_of_async(conn, where)
    cache: CircleCache = request.app.state.circle
    return await cache.get(district), where


@router.get("/tiles.json", summary="TileJSON of the service-circle tiles (buildings with "
            "their minutes to every category)")
async def circle_tilejson(request: Request, user: UserDep, within: WithinDep = None,
                          profile: Profile = None) -> Response:
    request.app.state.settings.speed(profile)
    circle, where = await _circle(request, user, within)
    cache: TileCache = request.app.state.tile_cache
    version = cache.version(CIRCLE_TOPICS)
    url = thematic_url(base_url(request), "/api/v1/service-circle/tiles",
                       {"within": where or None, "profile": profile, "v": version})
    async with request.app.state.pool.connection() as conn:
        bounds = await bounds_of(conn, where)
    body = tilejson_of(circle_tiles.LAYER, "一刻钟便民服务圈：各楼栋步行分钟", url, version,
                       bounds, circle_tiles.fields(circle), circle_tiles.MINZOOM)
    return _json(body)


@router.get("/tiles/{z}/{x}/{y}.mvt", summary="Buildings with their walking minutes as a "
            "vector tile (from zoom 12)", response_class=Response,
            responses={200: {"content": {MVT: {}}}})
async def circle_tile(request: Request, z: Annotated[int, Path(ge=0)],
                      x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)],
                      within: WithinDep = None, profile: Profile = None,
                      v: str | None = None) -> Response:
    kmh = request.app.state.settings.speed(profile)
    tile = address(z, x, y)
    cache: TileCache = request.app.state.tile_cache
    user = await caller(request)
    if z < circle_tiles.MINZOOM:
        require(user, "circle", "read")
        return tile_response(request, EMPTY, False, shared=False)
    circle, where = await _circle(request, user, within)

    async def make() -> Statement:
        return circle_tiles.SQL, circle_tiles.params(circle, kmh, where, tile)

    key = ("circle", where, kmh, z, x, y)
    found = await encoded(request.app.state.pool, cache, CIRCLE_TOPICS, key, make)
    versioned = v == cache.version(CIRCLE_TOPICS) and cache.changes.listening
    return tile_response(request, found, versioned, shared=False)


def _category(circle: DistrictCircle, code: str) -> str:
    found = circle.categories.get(code)
    if found is None or found.minutes is None:
        known = ", ".join(c.code for c in circle.circle())
        raise InvalidInput(f"category: {code!r} is not a category of the circle ({known})")
    return code


@router.get("/categories", summary="The categories of the circle with their thresholds, and "
            "the walking profiles")
async def categories(request: Request, user: UserDep, settings: SettingsDep,
                     within: WithinDep = None) -> Response:
    circle, _ = await _circle(request, user, within)
    return _json({"categories": [{"code": c.code, "name_zh": c.name_zh, "group": c.group,
                                  "minutes": c.minutes} for c in circle.categories.values()],
                  "profiles": {"default": settings.walk_speed_kmh, **settings.walk_profiles}})


@router.get("/network", summary="The district's walk network: size and the pieces that do "
            "not join the rest")
async def network(request: Request, user: UserDep, within: WithinDep = None) -> Response:
    circle, where = await _circle(request, user, within)
    graph = circle.graph
    pieces = graph.components()
    snapped = circle.building_snaps.row
    piece = np.where(snapped >= 0, graph.component[graph.u[np.maximum(snapped, 0)]], -1)
    xy = graph.node_lonlat
    index = {int(n): i for i, n in enumerate(graph.node_ids.tolist())}
    return _json({"district": where[:6] or None, "junctions": graph.n,
                  "edges": len(graph.length), "pieces": len(pieces),
                  "buildings_off_network": int((snapped < 0).sum()),
                  "buildings_on_minor_pieces": int((piece > 0).sum()),
                  "minor_pieces": [{"junctions": p.nodes, "edges": p.edges, "node_id": p.node_id,
                                    "lon": round(float(xy[index[p.node_id], 0]), 7),
                                    "lat": round(float(xy[index[p.node_id], 1]), 7)}
                                   for p in pieces[1:]]})


@router.get("/buildings", summary="Buildings with their walking minutes to every category of "
            "the circle (GeoJSON points)")
async def buildings(request: Request, user: UserDep, settings: SettingsDep,
                    within: WithinDep = None, profile: Profile = None,
                    outside: Annotated[str | None, Query(max_length=40, description="only the "
                                       "buildings outside this category's circle")] = None,
                    ) -> Response:
    kmh = settings.speed(profile)
    circle, where = await _circle(request, user, within)
    if outside is not None:
        _category(circle, outside)
    return _json(answers.buildings(circle, kmh, where, outside), GEOJSON)


@router.get("/coverage", summary="Households within each category's threshold, on foot and "
            "in a straight line, per grid, community or street (GeoJSON)")
async def coverage(request: Request, user: UserDep, settings: SettingsDep,
                   within: WithinDep = None, profile: Profile = None,
                   level: Literal["grid", "community", "street"] = "community") -> Response:
    kmh = settings.speed(profile)
    circle, where = await _circle(request, user, within)
    async with request.app.state.pool.connection() as conn:
        if level == "grid":
            cur = await conn.execute(GRIDS, [where + "%"])
            areas = [dict(zip(("code", "name", "geometry"), r, strict=True))
                     for r in await cur.fetchall()]
        else:
            areas = await coverage_q.areas(conn, level, where)
    areas = [a for a in areas if a["code"].startswith(where)]
    return _json(answers.coverage(circle, kmh, level, where, areas), GEOJSON)


@router.get("/isochrone", summary="Areas reachable on foot within 5, 10 and 15 minutes (or "
            "the minutes asked) from a place or a facility (GeoJSON)")
async def isochrone(request: Request, user: UserDep, settings: SettingsDep,
                    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
                    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
                    facility: Annotated[int | None, Query(ge=1)] = None,
                    minutes: Annotated[str, Query(max_length=40)] = "5,10,15",
                    profile: Profile = None, within: WithinDep = None) -> Response:
    kmh = settings.speed(profile)
    spans = _spans(minutes)
    circle, _ = await _circle(request, user, within)
    if facility is not None:
        known = circle.facilities.ids.tolist()
        if facility not in known:
            raise NotFound(f"facility: {facility} is not in this district (or within "
                           f"{1.5:.1f} km of it)")
        i = known.index(facility)
        lon, lat = float(circle.facilities.lon[i]), float(circle.facilities.lat[i])
    elif lon is None or lat is None:
        raise InvalidInput("lon, lat: give a place (lon and lat) or a facility id")
    origin = circle.snap(np.array([[lon, lat]]))
    if origin.row[0] < 0 or origin.offset[0] > NEAR_NETWORK_M:
        away = f" ({origin.offset[0]:,.0f} m away)" if origin.row[0] >= 0 else ""
        raise InvalidInput(f"lon, lat: ({lon}, {lat}) is not within {NEAR_NETWORK_M} m of the "
                           f"district's walk network{away}")
    features = await asyncio.to_thread(answers.isochrones, circle, origin, spans, kmh,
                                       settings.isochrone_buffer_m)
    return _json({"type": "FeatureCollection", "origin": [lon, lat], "facility": facility,
                  "speed_kmh": kmh, "offset_m": round(float(origin.offset[0]), 1),
                  "features": features}, GEOJSON)


def _spans(text: str) -> list[int]:
    try:
        spans = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InvalidInput(f"minutes: {text!r} is not a list of whole minutes") from None
    if not spans or not all(1 <= s <= 60 for s in spans) or len(spans) > 6:
        raise InvalidInput(f"minutes: {text!r}: one to six spans of 1–60 minutes")
    return spans


@router.get("/gaps", summary="H3 cells with buildings outside a category's circle, and their "
            "households (GeoJSON)")
async def gaps(request: Request, user: UserDep, settings: SettingsDep,
               category: Annotated[str, Query(max_length=40)], within: WithinDep = None,
               profile: Profile = None,
               res: Annotated[int, Query(description="H3 resolution, 7–10")] = 9) -> Response:
    kmh = settings.speed(profile)
    if res not in RESOLUTIONS:
        raise InvalidInput(f"res: {res} is not one of {', '.join(map(str, RESOLUTIONS))}")
    circle, where = await _circle(request, user, within)
    return _json(answers.gaps(circle, _category(circle, category), kmh, where, res), GEOJSON)


class SitingRequest(BaseModel):
    category: str = Field(max_length=40, description="a category of the circle")
    k: int = Field(default=5, ge=1, le=20, description="how many new sites")
    within: str | None = Field(default=None, pattern=r"^\d{6}(\d{3}(\d{3})?)?$",
                               description="area code (default: your scope)")
    profile: str | None = Field(default=None, max_length=40)
    candidates: list[tuple[float, float]] | None = Field(
        default=None, max_length=2000, description="[lon, lat] places to choose from "
        "(default: every junction of the walk network)")


@router.post("/siting", summary="Propose k new sites for a category that bring the most "
             "households outside its circle within it (exact maximal covering)")
async def siting(request: Request, user: UserDep, settings: SettingsDep,
                 body: SitingRequest) -> Response:
    kmh = settings.speed(body.profile)
    circle, where = await _circle(request, user, body.within)
    category = _category(circle, body.category)
    spots = None if body.candidates is None else np.array(body.candidates, dtype=np.float64)
    found, uncovered = await asyncio.to_thread(propose, circle, category, body.k, kmh, where,
                                               spots)
    before = int(circle.buildings.extra["households"][uncovered].sum())
    answer = answers.proposals(found, before, category, body.k)
    answer.update(within=where or None, speed_kmh=kmh,
                  candidates="supplied" if spots is not None else "junctions")
    return _json(answer, GEOJSON)
