"""``/api/v1/service-circle/…``: the 一刻钟便民服务圈 (signed-in staff, within their scope).

Every answer comes from the district's circle held in memory (``geo.circle.cache``), worked
out again after any change of its network, facilities or buildings. Walking speed follows
``?profile=`` (default, or one of ``GRIDGOV_WALK_PROFILES`` such as elderly).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic_core import to_json

from api.auth import UserDep
from api.deps import SettingsDep, WithinDep
from geo.access import narrowed, require, role_of
from geo.auth import User
from geo.circle import answers
from geo.circle.cache import CircleCache
from geo.circle.district import DistrictCircle
from geo.circle.siting import propose
from geo.db.queries import coverage as coverage_q
from geo.db.queries.circle import district_of_async
from geo.errors import InvalidInput, NotFound
from geo.h3cells import RESOLUTIONS

router = APIRouter(prefix="/service-circle", tags=["service-circle"])
GEOJSON = "application/geo+json"
NEAR_NETWORK_M = 500  # an isochrone starts no farther than this from a street
SITING = asyncio.Semaphore(1)
Profile = Annotated[str | None, Query(max_length=40, description="walking speed profile: "
                                      "default (4.0 km/h) or elderly (3.0 km/h) …")]

def answer(body: Any, media_type: str = "application/json") -> Response:
    return Response(to_json(body), media_type=media_type)


async def scoped(request: Request, user: User | None, within: str | None) -> tuple[str, str]:
    """The district a request is about and the area code prefix the caller may see."""
    require(user, "circle", "read")
    where = narrowed(user, within)
    async with request.app.state.pool.connection() as conn:
        return await district_of_async(conn, where), where


async def circle_of(request: Request, district: str) -> DistrictCircle:
    cache: CircleCache = request.app.state.circle
    return await cache.get(district)


async def _circle(request: Request, user: User | None, within: str | None
                  ) -> tuple[DistrictCircle, str]:
    """The district's circle and the area code prefix the caller may see."""
    district, where = await scoped(request, user, within)
    return await circle_of(request, district), where


@router.get("/categories", summary="The categories of the circle with their thresholds, and "
            "the walking profiles")
async def categories(request: Request, user: UserDep, settings: SettingsDep,
                     within: WithinDep = None) -> Response:
    circle, _ = await _circle(request, user, within)
    return answer({"categories": [{"code": c.code, "name_zh": c.name_zh, "group": c.group,
                                  "minutes": c.minutes} for c in circle.categories.values()],
                  "profiles": {"default": settings.walk_speed_kmh, **settings.walk_profiles}})


@router.get("/network", summary="The district's walk network: size and the pieces that do "
            "not join the rest")
async def network(request: Request, user: UserDep, within: WithinDep = None) -> Response:
    circle, where = await _circle(request, user, within)
    return answer(answers.network(circle, where[:6], where))


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
        circle.category(outside)
    body = await asyncio.to_thread(answers.buildings, circle, kmh, where, outside)
    return answer(body, GEOJSON)


@router.get("/coverage", summary="Households within each category's threshold, on foot and "
            "in a straight line, per grid, community or street (GeoJSON)")
async def coverage(request: Request, user: UserDep, settings: SettingsDep,
                   within: WithinDep = None, profile: Profile = None,
                   level: Literal["grid", "community", "street"] = "community") -> Response:
    kmh = settings.speed(profile)
    circle, where = await _circle(request, user, within)
    async with request.app.state.pool.connection() as conn:
        areas = (await coverage_q.grids(conn, where) if level == "grid"
                 else await coverage_q.areas(conn, level, where))
    body = answers.coverage(circle, kmh, level, where, areas, role_of(user),
                            settings.k_anonymity)
    return answer(body, GEOJSON)


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
    circle, where = await _circle(request, user, within)
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
                                       settings.isochrone_buffer_m, where)
    return answer({"type": "FeatureCollection", "origin": [lon, lat], "facility": facility,
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
    return answer(answers.gaps(circle, circle.category(category).code, kmh, where, res), GEOJSON)


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
    category = circle.category(body.category).code
    spots = None if body.candidates is None else np.array(body.candidates, dtype=np.float64)
    async with SITING:  # one at a time: each may keep a core busy for seconds
        found, uncovered, exact = await asyncio.to_thread(propose, circle, category, body.k,
                                                          kmh, where, spots)
    before = int(circle.buildings.extra["households"][uncovered].sum())
    got = answers.proposals(found, before, category, body.k)
    got.update(within=where or None, speed_kmh=kmh,
               candidates="supplied" if spots is not None else "junctions", exact=exact)
    return answer(got, GEOJSON)
