"""Public map features: grids of a layer, buildings and facilities (no personal data)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from geo.db.queries.geojson import feature_collection, rows

BBox = tuple[float, float, float, float]


def _envelope(bbox: BBox | None, column: str, params: dict[str, Any]) -> sql.Composable:
    if bbox is None:
        return sql.SQL("TRUE")
    params.update(minx=bbox[0], miny=bbox[1], maxx=bbox[2], maxy=bbox[3])
    return sql.SQL("{} && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)").format(
        sql.Identifier(*column.split(".")))


def _within(code: str | None, column: str, params: dict[str, Any]) -> sql.Composable:
    if not code:
        return sql.SQL("TRUE")
    params["within"] = code + "%"
    return sql.SQL("{} LIKE %(within)s").format(sql.Identifier(*column.split(".")))


async def grids_geojson(conn: AsyncConnection, theme: str, within: str | None,
                        bbox: BBox | None, limit: int, generation: int | None = None) -> str:
    """The grids of the active generation of ``theme`` (or of an earlier ``generation``)."""
    params: dict[str, Any] = {"theme": theme, "generation": generation}
    q = sql.SQL(
        "SELECT g.code AS id, g.code, g.name, g.kind, g.dedicated_type, g.community_code, "
        "g.households, g.residents, l.theme, l.generation, g.lineage, g.valid_from, "
        "g.valid_to, g.geom "
        "FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
        "WHERE l.theme = %(theme)s AND CASE WHEN %(generation)s::int IS NULL "
        "THEN l.status = 'active' ELSE l.generation = %(generation)s::int END AND {w} AND {b} "
        "ORDER BY g.code"
    ).format(w=_within(within, "g.community_code", params) if theme == "unified"
             else _intersects_area(within, "g.geom", params), b=_envelope(bbox, "g.geom", params))
    return await feature_collection(conn, q, params, limit=limit)


def _intersects_area(within: str | None, column: str, params: dict[str, Any]) -> sql.Composable:
    """For things that do not carry an area code (departmental grids, the walk network):
    those that meet the area's polygon."""
    if not within:
        return sql.SQL("TRUE")
    params["area"] = within
    return sql.SQL("ST_Intersects({}, (SELECT geom FROM areas WHERE code = %(area)s))").format(
        sql.Identifier(*column.split(".")))


async def walk_edges_geojson(conn: AsyncConnection, within: str | None, bbox: BBox | None,
                             limit: int) -> str:
    params: dict[str, Any] = {}
    where = _intersects_area(within, "e.geom", params)
    q = sql.SQL(
        "SELECT e.id, e.highway, e.name, round(e.length_m::numeric, 1)::float AS length_m, e.geom "
        "FROM walk_edges e WHERE {w} AND {b} ORDER BY e.id"
    ).format(w=where, b=_envelope(bbox, "e.geom", params))
    return await feature_collection(conn, q, params, precision=6, limit=limit)


async def categories(conn: AsyncConnection) -> list[dict[str, Any]]:
    return await rows(conn, sql.SQL(
        "SELECT code, name_zh, service_group, walk_minutes FROM facility_categories ORDER BY code"))


async def layer_themes(conn: AsyncConnection) -> list[dict[str, Any]]:
    return await rows(conn, sql.SQL(
        "SELECT l.theme, l.name, l.scope_code, l.generation, l.status, count(g.id) AS grids "
        "FROM grid_layers l LEFT JOIN grids g ON g.layer_id = l.id "
        "GROUP BY l.id ORDER BY l.scope_code, l.theme, l.generation"))
