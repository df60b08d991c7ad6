"""What the overlay of grid layers reads, in bulk: the active grids of the chosen themes that
meet an area, the area's communities and its buildings (points, households)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

THEMES = "SELECT DISTINCT theme FROM grid_layers WHERE status = 'active' ORDER BY theme"
# a layer is an active theme, or a draft named "draft:<id>" (a merge's result, say)
GRIDS = """
SELECT CASE WHEN l.status = 'draft' THEN 'draft:' || l.id ELSE l.theme END, g.code,
       ST_AsBinary(g.geom)
FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE ((l.status = 'active' AND l.theme = ANY(%(themes)s))
       OR (l.status = 'draft' AND 'draft:' || l.id = ANY(%(themes)s)))
  AND (%(within)s = '' OR EXISTS (
      SELECT 1 FROM areas a WHERE a.code = %(within)s AND g.geom && a.geom
        -- interiors meet (not a neighbour); most grids lie inside, which the area's outline,
        -- prepared once, answers far faster than a full relate of every grid
        AND (ST_Covers(a.geom, g.geom) OR ST_Relate(g.geom, a.geom, 'T********'))))
ORDER BY l.theme, g.code
"""
# every community of the district (a grid reaching into a neighbouring one is not outside),
# and which are the area's own (its gaps are counted there)
COMMUNITIES = """
SELECT code, ST_AsBinary(geom), code LIKE %(prefix)s FROM areas
WHERE level = 'community' AND code LIKE %(district)s ORDER BY code
"""
BUILDINGS = """
SELECT id, ST_AsBinary(geom), households FROM buildings
WHERE community_code LIKE %(prefix)s ORDER BY id
"""


async def themes(conn: AsyncConnection) -> list[str]:
    cur = await conn.execute(THEMES)
    return [str(r[0]) for r in await cur.fetchall()]


def _params(within: str, chosen: list[str]) -> dict[str, Any]:
    return {"themes": chosen, "within": within, "prefix": within + "%",
            "district": within[:6] + "%"}


async def grids(conn: AsyncConnection, within: str, chosen: list[str]
                ) -> list[tuple[Any, ...]]:
    """(layer, code, WKB) of the grids of the layers ``chosen`` that meet the area."""
    cur = await conn.execute(GRIDS, _params(within, chosen))
    return await cur.fetchall()


async def read(conn: AsyncConnection, within: str, chosen: list[str]
               ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The grids, the district's communities and the area's buildings."""
    out = []
    for sql in (COMMUNITIES, BUILDINGS):
        cur = await conn.execute(sql, _params(within, chosen))
        out.append(await cur.fetchall())
    return await grids(conn, within, chosen), out[0], out[1]


# with whether the grid lies inside the area (but for a sliver): a departmental grid that
# reaches over the edge belongs to a neighbour's scope too, and its people's names are not
# shown to someone who sees only this area
ROLES = """
SELECT r.person_id, p.name, r.role, l.theme AS layer, g.code AS grid,
       ST_Area(ST_Difference(g.geom, a.geom)::geography) < %(sliver)s AS inside
FROM role_assignments r JOIN people p ON p.id = r.person_id
JOIN grids g ON g.id = r.grid_id JOIN grid_layers l ON l.id = g.layer_id
JOIN areas a ON a.code = %(scope)s AND g.geom && a.geom
WHERE l.status = 'active'
  AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to >= current_date)
  AND (ST_Covers(a.geom, g.geom) OR ST_Relate(g.geom, a.geom, 'T********'))
ORDER BY r.person_id, r.role, g.code
"""


async def roles(conn: AsyncConnection, scope: str, sliver_m2: float) -> list[dict[str, Any]]:
    """The current roles held on active grids of any layer that meet the area ``scope``."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(ROLES, {"scope": scope, "sliver": sliver_m2})
        return await cur.fetchall()

