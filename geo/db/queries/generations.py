"""Generations of a grid layer: which grid of one generation succeeds which of another,
activation's re-pointing of everything that refers to a grid, diffs, and the grids of any
generation as GeoJSON.

Succession: an old grid's successor is the new grid that holds most of its households
(buildings covered by both), then the largest shared area (ellipsoidal m²), then the smaller
code. It decides where a grid worker's post, a party organisation and an open resident issue
go when their grid is redrawn; history (ended posts, closed issues) keeps the grid it had.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from geo.db.changes import CHANNEL
from geo.db.queries.drafts import fetch

SUCCESSORS = """
WITH ga AS (SELECT id, code, geom FROM grids WHERE id = ANY(%(old)s)),
     gb AS (SELECT id, code, geom FROM grids WHERE id = ANY(%(new)s)),
     hh AS (SELECT ga.id AS a_id, gb.id AS b_id, sum(b.households) AS households
            FROM buildings b
            JOIN ga ON ST_Covers(ga.geom, b.geom)
            JOIN gb ON ST_Covers(gb.geom, b.geom)
            GROUP BY 1, 2),
     ov AS (SELECT ga.id AS a_id, gb.id AS b_id, gb.code,
                   ST_Area(ST_Intersection(ga.geom, gb.geom)::geography) AS area
            FROM ga JOIN gb ON ST_Intersects(ga.geom, gb.geom))
SELECT DISTINCT ON (ov.a_id) ov.a_id, ov.b_id
FROM ov LEFT JOIN hh USING (a_id, b_id)
WHERE coalesce(hh.households, 0) > 0 OR ov.area > 1.0
ORDER BY ov.a_id, coalesce(hh.households, 0) DESC, ov.area DESC, ov.code
"""


async def successors(conn: AsyncConnection, old: list[int], new: list[int]) -> dict[int, int]:
    if not old or not new:
        return {}
    found = await fetch(conn, SUCCESSORS, {"old": old, "new": new})
    return {int(r["a_id"]): int(r["b_id"]) for r in found}


async def layer_grid_ids(conn: AsyncConnection, layer_id: int, scope: str | None = None,
                         inside: bool = True) -> list[int]:
    """The grids generation ``layer_id`` consists of (a draft: with the active grids outside
    its scope), optionally only those inside (or outside) ``scope``."""
    found = await fetch(conn, """
        SELECT g.id FROM layer_grids lg JOIN grids g ON g.id = lg.grid_id
        WHERE lg.of_layer = %(layer)s
          AND (%(scope)s::text IS NULL
               OR starts_with(coalesce(g.community_code, ''), %(scope)s) = %(inside)s)
        ORDER BY g.code""", {"layer": layer_id, "scope": scope, "inside": inside})
    return [int(r["id"]) for r in found]


# -- activation: re-point what refers to the old generation --------------------------------

async def repoint(conn: AsyncConnection, mapping: dict[int, int]) -> dict[str, int]:
    """Move current references from old grids to their successors; counts per table."""
    old, new = list(mapping), list(mapping.values())
    params = {"old": old, "new": new}
    pairs = "(SELECT unnest(%(old)s::int[]) AS old, unnest(%(new)s::int[]) AS new) m"
    counts = {}
    for table, extra in (
        ("buildings", ""),
        ("role_assignments", "AND (t.valid_to IS NULL OR t.valid_to >= current_date)"),
        ("party_orgs", ""),
        ("resident_issues", "AND t.status <> 'closed'"),
    ):
        cur = await conn.execute(
            f"UPDATE {table} t SET grid_id = m.new FROM {pairs} "
            f"WHERE t.grid_id = m.old {extra}", params)
        counts[table] = cur.rowcount
    return counts


async def place_in_scope(conn: AsyncConnection, layer_id: int, scope: str) -> dict[str, int]:
    """The unified layer's own references inside the draft's scope: buildings take the
    draft's assignment (or, added since, the grid covering them); open issues the grid
    covering their place."""
    cur = await conn.execute("""
        UPDATE buildings b SET grid_id = coalesce(d.grid_id, (
            SELECT g.id FROM grids g WHERE g.layer_id = %(layer)s AND ST_Covers(g.geom, b.geom)
            ORDER BY g.code LIMIT 1))
        FROM buildings b2 LEFT JOIN draft_buildings d
             ON d.layer_id = %(layer)s AND d.building_id = b2.id
        WHERE b.id = b2.id AND starts_with(coalesce(b.community_code, ''), %(scope)s)""",
        {"layer": layer_id, "scope": scope})
    buildings = cur.rowcount
    cur = await conn.execute("""
        UPDATE resident_issues i SET grid_id = (
            SELECT g.id FROM grids g WHERE g.layer_id = %(layer)s AND ST_Covers(g.geom, i.geom)
            ORDER BY g.code LIMIT 1)
        WHERE i.status <> 'closed' AND starts_with(coalesce(i.community_code, ''), %(scope)s)
          AND EXISTS (SELECT 1 FROM grids g WHERE g.layer_id = %(layer)s
                      AND ST_Covers(g.geom, i.geom))""", {"layer": layer_id, "scope": scope})
    return {"buildings_placed": buildings, "issues_placed": cur.rowcount}


async def recount_from_buildings(conn: AsyncConnection, grid_ids: list[int]) -> None:
    await conn.execute("""
        UPDATE grids g SET households = coalesce(s.households, 0),
                           residents = coalesce(s.residents, 0)
        FROM (SELECT g2.id, sum(b.households)::int AS households,
                     sum(b.residents)::int AS residents
              FROM grids g2 LEFT JOIN buildings b ON b.grid_id = g2.id
              WHERE g2.id = ANY(%(ids)s) GROUP BY g2.id) s
        WHERE g.id = s.id""", {"ids": grid_ids})


async def switch(conn: AsyncConnection, draft: dict[str, Any], active: dict[str, Any]) -> int:
    """Archive the active generation and publish the draft as the next one; its number."""
    (row,) = await fetch(conn, "SELECT coalesce(max(generation), 0) + 1 AS g FROM grid_layers "
                         "WHERE theme = %s AND scope_code = %s",
                         (draft["theme"], draft["scope_code"]))
    generation = int(row["g"])
    await conn.execute("UPDATE grid_layers SET status = 'archived', valid_to = now() "
                       "WHERE id = %s", (active["id"],))
    await conn.execute("UPDATE grids SET valid_to = now() WHERE layer_id = %s AND valid_to "
                       "IS NULL", (active["id"],))
    await conn.execute("UPDATE grid_layers SET status = 'active', generation = %s, "
                       "valid_from = now(), name = %s WHERE id = %s",
                       (generation, active["name"], draft["id"]))
    await conn.execute("UPDATE grids SET valid_from = now() WHERE layer_id = %s", (draft["id"],))
    await conn.execute("DELETE FROM draft_buildings WHERE layer_id = %s", (draft["id"],))
    return generation


async def refresh_lookup(conn: AsyncConnection) -> None:
    """The subdivided polygons of the public lookup follow the unified layer (a materialized
    view's refresh fires no trigger, so the services are told)."""
    await conn.execute("REFRESH MATERIALIZED VIEW active_grid_parts")
    await conn.execute("SELECT pg_notify(%s, 'grids')", (CHANNEL,))


async def later_activations(conn: AsyncConnection, draft: dict[str, Any],
                            base: dict[str, Any]) -> list[dict[str, Any]]:
    """Generations activated since the draft's base whose redrawn scope meets the draft's."""
    return await fetch(conn, """
        SELECT id, generation, coalesce(draft_scope, scope_code) AS scope FROM grid_layers
        WHERE theme = %(theme)s AND scope_code = %(layer_scope)s AND status <> 'draft'
          AND valid_from > %(since)s AND id <> %(base)s
          AND (starts_with(coalesce(draft_scope, scope_code), %(scope)s)
               OR starts_with(%(scope)s, coalesce(draft_scope, scope_code)))
        ORDER BY valid_from""",
        {"theme": draft["theme"], "layer_scope": draft["scope_code"],
         "since": base["valid_from"], "base": base["id"], "scope": draft["draft_scope"]})
