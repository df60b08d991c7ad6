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



# -- the accepted people plan ---------------------------------------------------------------

async def decided(conn: AsyncConnection, draft_id: int) -> dict[tuple[str, str, str], str | None]:
    """The plan a planner accepted for a merged draft: (layer, grid, role) → new grid."""
    cur = await conn.execute("SELECT layer, grid, role, to_code FROM merge_posts "
                             "WHERE draft_id = %s", (draft_id,))
    return {(r[0], r[1], r[2]): r[3] for r in await cur.fetchall()}


async def store_posts(conn: AsyncConnection, draft_id: int,
                      plan: list[tuple[str, str, str, str | None, bool]], actor: str) -> None:
    """Replace the accepted plan of a draft."""
    await conn.execute("DELETE FROM merge_posts WHERE draft_id = %s", (draft_id,))
    if plan:
        await conn.execute(
            "INSERT INTO merge_posts (draft_id, layer, grid, role, to_code, edited, decided_by) "
            "SELECT %s, p.layer, p.grid, p.role, p.to_code, p.edited, %s FROM unnest("
            "%s::text[], %s::text[], %s::text[], %s::text[], %s::bool[]) "
            "AS p(layer, grid, role, to_code, edited)",
            (draft_id, actor, *[list(c) for c in zip(*plan, strict=True)]))


CURRENT = "(r.valid_to IS NULL OR r.valid_to >= current_date) AND r.valid_from <= current_date"
# the old posts of an accepted plan: the holders' current roles on the active grids it names
HELD = f"""
FROM merge_posts p
JOIN grid_layers l ON l.theme = p.layer AND l.status = 'active'
JOIN grids o ON o.layer_id = l.id AND o.code = p.grid
JOIN role_assignments r ON r.grid_id = o.id AND r.role = p.role AND {CURRENT}
LEFT JOIN grids n ON n.layer_id = p.draft_id AND n.code = p.to_code
WHERE p.draft_id = %(draft)s
"""


async def apply_posts(conn: AsyncConnection, draft_id: int) -> dict[str, int]:
    """At activation, before the old unified grids' references move to their successors:
    a unified post goes to the grid the plan names (or ends today); a departmental post is
    taken up on that grid by the same people from today (its department's post stays)."""
    moved = await conn.execute(f"""
        UPDATE role_assignments t SET grid_id = n.id {HELD}
          AND p.layer = 'unified' AND n.id IS NOT NULL AND t.id = r.id""", {"draft": draft_id})
    ended = await conn.execute(f"""
        UPDATE role_assignments t SET valid_to = greatest(r.valid_from, current_date - 1)
        {HELD} AND p.layer = 'unified' AND p.to_code IS NULL AND t.id = r.id""",
        {"draft": draft_id})
    added = await conn.execute(f"""
        INSERT INTO role_assignments (person_id, role, grid_id, valid_from, published, work_phone)
        SELECT DISTINCT ON (r.person_id, r.role, n.id) r.person_id, r.role, n.id, current_date,
               r.published, r.work_phone {HELD} AND p.layer <> 'unified' AND n.id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM role_assignments e WHERE e.person_id = r.person_id
                          AND e.role = r.role AND e.grid_id = n.id)""", {"draft": draft_id})
    return {"posts_moved": moved.rowcount, "posts_ended": ended.rowcount,
            "posts_taken_up": added.rowcount}


async def has_posts(conn: AsyncConnection, draft_id: int) -> bool:
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM merge_posts WHERE draft_id = %s)",
                             (draft_id,))
    row = await cur.fetchone()
    return bool(row and row[0])


async def stale_posts(conn: AsyncConnection, draft_id: int) -> list[str]:
    """Grids an accepted plan names that the draft no longer has (edited since)."""
    cur = await conn.execute(
        "SELECT DISTINCT p.to_code FROM merge_posts p WHERE p.draft_id = %s AND p.to_code IS "
        "NOT NULL AND NOT EXISTS (SELECT 1 FROM grids n WHERE n.layer_id = p.draft_id AND "
        "n.code = p.to_code) ORDER BY 1", (draft_id,))
    return [str(r[0]) for r in await cur.fetchall()]
