"""``/api/v1/coverage``: coverage indicators per grid, community or street, with targets and
pass/short flags, as GeoJSON (signed-in roles, within their scope)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic_core import to_json

from api.auth import UserDep
from api.deps import ConnDep, SettingsDep, WithinDep
from geo import coverage
from geo.access import require
from geo.coverage_geojson import coverage_collection

router = APIRouter(tags=["coverage"])
GEOJSON = "application/geo+json"


@router.get("/coverage", summary="Coverage indicators per grid, community or street, with "
            "targets and pass/short flags (GeoJSON)")
async def get_coverage(
    conn: ConnDep, settings: SettingsDep, user: UserDep, within: WithinDep,
    level: Annotated[Literal["grid", "community", "street"], Query()] = "grid",
    indicator: Annotated[str | None, Query(max_length=400, description="Comma-separated "
                                           "indicator keys (default: all)")] = None,
) -> Response:
    require(user, "coverage", "read")
    body = await coverage_collection(conn, user, settings, level, within,
                                     coverage.chosen(indicator))
    return Response(to_json(body), media_type=GEOJSON)
