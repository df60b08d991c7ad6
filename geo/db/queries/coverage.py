"""The counts behind the coverage indicators, per grid of the active unified layer.

One query: every count is a correlated aggregate keyed by the grid (people through the
building they live in, roles through their grid or building, issues through their grid), so
a grid with nothing of a kind gets 0, not a missing row. Roles count when they are current
on the day asked about. Nothing personal leaves: only counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

WORKER_ROLES = ("grid_worker_full", "grid_worker_part")
DONE = ("resolved", "feedback_published", "closed")

_CURRENT = "r.valid_from <= %(day)s AND (r.valid_to IS NULL OR r.valid_to >= %(day)s)"
GRID_COUNTS = f"""
SELECT g.id, g.code, g.name, g.kind, g.community_code,
       ST_AsGeoJSON(g.geom, 7)::text AS geometry,
       (SELECT count(*) FROM buildings b WHERE b.grid_id = g.id) AS buildings,
       (SELECT coalesce(sum(b.households), 0) FROM buildings b WHERE b.grid_id = g.id)
           AS households,
       (SELECT coalesce(sum(b.residents), 0) FROM buildings b WHERE b.grid_id = g.id)
           AS residents,
       (SELECT count(*) FROM buildings b WHERE b.grid_id = g.id AND EXISTS (
            SELECT 1 FROM role_assignments r WHERE r.building_id = b.id
            AND r.role = 'building_head' AND {_CURRENT})) AS buildings_with_head,
       (SELECT count(DISTINCT r.person_id) FROM role_assignments r
        WHERE r.grid_id = g.id AND r.role = ANY(%(workers)s) AND {_CURRENT}) AS grid_workers,
       (SELECT count(*) FROM party_orgs po WHERE po.grid_id = g.id
        AND po.kind IN ('grid_branch', 'grid_group')) AS party_orgs,
       (SELECT count(DISTINCT r.person_id) FROM role_assignments r
        LEFT JOIN buildings rb ON rb.id = r.building_id
        WHERE r.role = 'volunteer' AND {_CURRENT}
        AND coalesce(r.grid_id, rb.grid_id) = g.id) AS volunteers,
       (SELECT count(*) FROM people p JOIN buildings b ON b.id = p.home_building_id
        WHERE b.grid_id = g.id AND p.party_status IS NOT NULL) AS party_members,
       (SELECT count(*) FROM people p JOIN buildings b ON b.id = p.home_building_id
        WHERE b.grid_id = g.id AND p.party_status = 'in_service') AS in_service,
       (SELECT count(*) FROM resident_issues i WHERE i.grid_id = g.id
        AND i.status <> ALL(%(done)s)) AS issues_open,
       (SELECT count(*) FROM resident_issues i WHERE i.grid_id = g.id
        AND i.resolved_at IS NOT NULL AND i.due_at IS NOT NULL) AS issues_due_resolved,
       (SELECT count(*) FROM resident_issues i WHERE i.grid_id = g.id
        AND i.resolved_at IS NOT NULL AND i.due_at IS NOT NULL AND i.resolved_at <= i.due_at)
           AS issues_in_time,
       (SELECT count(i.satisfaction) FROM resident_issues i WHERE i.grid_id = g.id)
           AS rated,
       (SELECT count(*) FROM resident_issues i WHERE i.grid_id = g.id AND i.satisfaction >= 4)
           AS satisfied
FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE l.theme = 'unified' AND l.status = 'active' AND g.code LIKE %(within)s
ORDER BY g.code
"""
AREAS = """
SELECT code, name, level, ST_AsGeoJSON(geom, 7)::text AS geometry
FROM areas WHERE level = %(level)s AND code LIKE %(within)s ORDER BY code
"""


async def grid_counts(conn: AsyncConnection, within: str, day: date) -> list[dict[str, Any]]:
    """The counts of every active unified grid whose code starts with ``within`` (grid codes
    begin with their community's)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GRID_COUNTS, {"within": within + "%", "day": day,
                                        "workers": list(WORKER_ROLES), "done": list(DONE)})
        return await cur.fetchall()


async def areas(conn: AsyncConnection, level: str, within: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(AREAS, {"level": level, "within": within + "%"})
        return await cur.fetchall()
