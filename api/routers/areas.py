"""``/api/v1/areas``: districts, streets and communities."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.auth import UserDep
from api.deps import ConnDep, SettingsDep, WithinDep, area_code
from geo import access
from geo.db.queries import areas as q
from geo.db.queries import stats
from geo.privacy import needs_suppression, suppress

router = APIRouter(tags=["areas"])
GEOJSON = "application/geo+json"
Level = Literal["district", "street", "community"]
Fmt = Annotated[Literal["json", "geojson"], Query(description="json: list; geojson: features")]


@router.get("/areas", summary="List areas by level and parent")
async def list_areas(
    conn: ConnDep,
    within: WithinDep,
    level: Level | None = None,
    parent: Annotated[str | None, Query(description="Parent area code")] = None,
    f: Fmt = "json",
    simplify: Annotated[float, Query(ge=0, le=1000, description="Display tolerance, metres")] = 0,
) -> Any:
    parent = area_code(parent, "parent")
    if f == "geojson":
        body = await q.areas_geojson(conn, level, parent, simplify, within)
        return Response(body, media_type=GEOJSON)
    return await q.list_areas(conn, level, parent, within)


@router.get("/areas/{code}", summary="One area as a GeoJSON feature")
async def get_area(
    conn: ConnDep,
    code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$",
                              description="6-digit district, 9-digit street or 12-digit community")],
) -> Response:
    return Response(await q.area_feature(conn, code), media_type=GEOJSON)


@router.get("/areas/{code}/summary", summary="Counts of what lies in an area, and its box")
async def area_summary(
    conn: ConnDep,
    code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$")],
) -> dict[str, Any]:
    return await q.summary(conn, code)


@router.get("/areas/{code}/children", summary="The areas directly below one area")
async def children(
    conn: ConnDep,
    code: Annotated[str, Path(pattern=r"^\d{6}(\d{3})?$")],
    f: Fmt = "json",
) -> Any:
    await q.require_area(conn, code)
    if f == "geojson":
        return Response(await q.areas_geojson(conn, None, code), media_type=GEOJSON)
    return await q.list_areas(conn, None, code)


@router.get("/areas/{code}/people-counts", summary="People counted per grid of an area "
            "(small counts suppressed below community workers)")
async def people_counts(
    conn: ConnDep, settings: SettingsDep, user: UserDep,
    code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$")],
) -> dict[str, Any]:
    await q.require_area(conn, code)
    counts = await stats.per_grid(conn, code)
    role = access.role_of(user)
    return {"area": code, "k": settings.k_anonymity,
            "suppressed": needs_suppression(role),
            "grids": suppress(counts, stats.COUNTED, role, settings.k_anonymity)}
