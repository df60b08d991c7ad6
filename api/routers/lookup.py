"""``/api/v1/lookup``: who is my grid worker, and where is the nearest 党群服务中心 (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic_core import to_json

from api.deps import ConnDep, SettingsDep
from geo.lookup import WalkNetworks, lookup, parse_point

router = APIRouter(tags=["lookup"])
JSON = "application/json"


def walk_networks(request: Request) -> WalkNetworks:
    """The app's in-memory walk networks, made on first use (one per app)."""
    networks: WalkNetworks | None = getattr(request.app.state, "walk_networks", None)
    if networks is None:
        networks = request.app.state.walk_networks = WalkNetworks()
    return networks


@router.get(
    "/lookup",
    summary="Street, community, grid, contacts and nearest 党群服务中心 of a point",
    description="Public. Phones are work numbers or masked (138****5678). A point within "
    "`near_boundary_m` of a neighbouring grid is flagged and the neighbour's contacts are "
    "offered. 404 outside every community; 422 names the bad parameter.",
)
async def lookup_point(
    request: Request, conn: ConnDep, settings: SettingsDep,
    lon: Annotated[str, Query(description="Longitude (or easting for a projected EPSG code)",
                              examples=["109.19"])],
    lat: Annotated[str, Query(description="Latitude (or northing)", examples=["27.73"])],
    crs: Annotated[str | None, Query(description="wgs84 (default), cgcs2000, gcj02, bd09 "
                                     "or EPSG:<code>")] = None,
) -> Response:
    x, y = parse_point(lon, lat, crs)
    body = await lookup(conn, walk_networks(request), settings, x, y)
    return Response(to_json(body), media_type=JSON)
