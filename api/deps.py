"""Dependencies: settings, a pooled async connection, and validated query types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geo.errors import InvalidInput
from geo.importers.values import AREA_CODE
from geo.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection]:
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ConnDep = Annotated[AsyncConnection, Depends(get_conn)]
BBox = tuple[float, float, float, float]


def parse_bbox(
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)",
                                      examples=["109.15,27.70,109.25,27.76"])] = None,
) -> BBox | None:
    if bbox is None or bbox == "":
        return None
    parts = bbox.split(",")
    if len(parts) != 4:
        raise InvalidInput(f"bbox: expected 4 comma-separated numbers, got {len(parts)}")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox: {bbox!r} is not four numbers") from None
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidInput("bbox: longitudes must lie within -180..180")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput("bbox: latitudes must lie within -90..90 (lon,lat order)")
    if minx >= maxx or miny >= maxy:
        raise InvalidInput("bbox: min must be smaller than max (minlon,minlat,maxlon,maxlat)")
    return (minx, miny, maxx, maxy)


def area_code(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not AREA_CODE.fullmatch(value):
        raise InvalidInput(f"{name}: {value!r} is not an area code (6, 9 or 12 digits)")
    return value


def parse_within(
    within: Annotated[str | None, Query(description="Area code prefix (6, 9 or 12 digits)")] = None,
) -> str | None:
    return area_code(within, "within")


BBoxDep = Annotated[BBox | None, Depends(parse_bbox)]
WithinDep = Annotated[str | None, Depends(parse_within)]
