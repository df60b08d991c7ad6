"""Public map layers: grids of a layer, buildings, facilities (no personal data)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import BBoxDep, ConnDep, SettingsDep, WithinDep
from geo.db.queries import features as q

router = APIRouter(tags=["map layers"])
GEOJSON = "application/geo+json"
Limit = Annotated[int | None, Query(ge=1, description="Maximum features (capped by settings)")]


def _limit(limit: int | None, cap: int) -> int:
    return min(limit or cap, cap)


@router.get("/grids", summary="Grids of the active (or an earlier) generation of a layer, "
            "as GeoJSON")
async def grids(
    conn: ConnDep, settings: SettingsDep, within: WithinDep, bbox: BBoxDep,
    theme: Annotated[str, Query(max_length=40, description="unified, 综治, 城管, 应急 …")] = "unified",
    generation: Annotated[int | None, Query(ge=1, description="An earlier generation "
                                            "(default: the active one)")] = None,
    limit: Limit = None,
) -> Response:
    body = await q.grids_geojson(conn, theme, within, bbox, _limit(limit, settings.max_features),
                                 generation)
    return Response(body, media_type=GEOJSON)


@router.get("/grid-layers", summary="Grid layers, their generations and status")
async def grid_layers(conn: ConnDep) -> list[dict[str, Any]]:
    return await q.layer_themes(conn)


@router.get("/walk-network", summary="Edges of the walk network, as GeoJSON")
async def walk_network(conn: ConnDep, settings: SettingsDep, within: WithinDep, bbox: BBoxDep,
                       limit: Limit = None) -> Response:
    body = await q.walk_edges_geojson(conn, within, bbox, _limit(limit, settings.max_features))
    return Response(body, media_type=GEOJSON)


@router.get("/facility-categories", summary="Facility categories and walk thresholds")
async def facility_categories(conn: ConnDep) -> list[dict[str, Any]]:
    return await q.categories(conn)
