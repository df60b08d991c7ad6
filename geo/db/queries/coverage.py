"""The counts behind the coverage indicators, per grid of the active unified layer.

One query: each kind of count is aggregated once, grouped by grid (people through the
building they live in, roles through their grid or building, issues through their grid),
and joined to the grids, so a grid with nothing of a kind gets 0, not a missing row. Roles
count when they are current on the day asked about. Nothing personal leaves: only counts.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.issues.limits import DONE

WORKER_ROLES = ("grid_worker_full", "grid_worker_part")

_CURRENT = "r.valid_from <= %(day)s AND (r.valid_to IS NULL OR r.valid_to >= %(day)s)"
GRID_COUNTS = f"""
WITH g AS (
    SELECT g.id, g.code, g.name, g.kind, g.community_code, g.geom
    FROM grids g JOIN grid_layers l ON l.id = g.layer_id
    WHERE l.theme = 'unified' AND l.status = 'active' AND g.code LIKE %(within)s
), b AS (
    SELECT b.grid_id, count(*) AS buildings, sum(b.households) AS households,
           sum(b.residents) AS residents,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM role_assignments r WHERE r.building_id = b.id
               AND r.role = 'building_head' AND {_CURRENT})) AS buildings_with_head
    FROM buildings b WHERE b.grid_id IN (SELECT id FROM g) GROUP BY b.grid_id
), w AS (
    SELECT r.grid_id, count(DISTINCT r.person_id) AS grid_workers FROM role_assignments r
    WHERE r.grid_id IN (SELECT id FROM g) AND r.role = ANY(%(workers)s) AND {_CURRENT}
    GROUP BY r.grid_id
), o AS (
    SELECT po.grid_id, count(*) AS party_orgs FROM party_orgs po
    WHERE po.grid_id IN (SELECT id FROM g) AND po.kind IN ('grid_branch', 'grid_group')
    GROUP BY po.grid_id
), v AS (
    SELECT coalesce(r.grid_id, rb.grid_id) AS grid_id,
           count(DISTINCT r.person_id) AS volunteers
    FROM role_assignments r LEFT JOIN buildings rb ON rb.id = r.building_id
    WHERE r.role = 'volunteer' AND {_CURRENT} GROUP BY 1
), p AS (
    SELECT b.grid_id, count(*) AS party_members,
           count(*) FILTER (WHERE p.party_status = 'in_service') AS in_service
    FROM people p JOIN buildings b ON b.id = p.home_building_id
    WHERE p.party_status IS NOT NULL AND b.grid_id IN (SELECT id FROM g) GROUP BY b.grid_id
), i AS (
    SELECT i.grid_id,
           count(*) FILTER (WHERE i.status <> ALL(%(done)s)) AS issues_open,
           count(*) FILTER (WHERE i.status <> ALL(%(done)s) AND i.due_at < now())
               AS issues_overdue,
           count(*) FILTER (WHERE i.resolved_at IS NOT NULL AND i.due_at IS NOT NULL)
               AS issues_due_resolved,
           count(*) FILTER (WHERE i.resolved_at IS NOT NULL AND i.due_at IS NOT NULL
                            AND i.resolved_at <= i.due_at) AS issues_in_time,
           count(i.satisfaction) AS rated,
           count(*) FILTER (WHERE i.satisfaction >= 4) AS satisfied
    FROM resident_issues i WHERE i.grid_id IN (SELECT id FROM g) GROUP BY i.grid_id
)
SELECT g.id, g.code, g.name, g.kind, g.community_code,
       CASE WHEN %(geometry)s THEN ST_AsGeoJSON(g.geom, 7)::text END AS geometry,
       coalesce(b.buildings, 0) AS buildings, coalesce(b.households, 0) AS households,
       coalesce(b.residents, 0) AS residents,
       coalesce(b.buildings_with_head, 0) AS buildings_with_head,
       coalesce(w.grid_workers, 0) AS grid_workers, coalesce(o.party_orgs, 0) AS party_orgs,
       coalesce(v.volunteers, 0) AS volunteers,
       coalesce(p.party_members, 0) AS party_members, coalesce(p.in_service, 0) AS in_service,
       coalesce(i.issues_open, 0) AS issues_open,
       coalesce(i.issues_overdue, 0) AS issues_overdue,
       coalesce(i.issues_due_resolved, 0) AS issues_due_resolved,
       coalesce(i.issues_in_time, 0) AS issues_in_time, coalesce(i.rated, 0) AS rated,
       coalesce(i.satisfied, 0) AS satisfied
FROM g LEFT JOIN b ON b.grid_id = g.id LEFT JOIN w ON w.grid_id = g.id
LEFT JOIN o ON o.grid_id = g.id LEFT JOIN v ON v.grid_id = g.id
LEFT JOIN p ON p.grid_id = g.id LEFT JOIN i ON i.grid_id = g.id
ORDER BY g.code
"""
AREAS = """
SELECT code, name, level,
       CASE WHEN %(geometry)s THEN ST_AsGeoJSON(geom, 7)::text END AS geometry
FROM areas WHERE level = %(level)s AND code LIKE %(within)s ORDER BY code
"""


async def grid_counts(conn: AsyncConnection, within: str, day: date, geometry: bool = True
                      ) -> list[dict[str, Any]]:
    """The counts of every active unified grid whose code starts with ``within`` (grid codes
    begin with their community's), with its outline as GeoJSON text when ``geometry``."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GRID_COUNTS, {"within": within + "%", "day": day,
                                        "workers": list(WORKER_ROLES), "done": list(DONE),
                                        "geometry": geometry})
        return await cur.fetchall()


async def areas(conn: AsyncConnection, level: str, within: str, geometry: bool = True
                ) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(AREAS, {"level": level, "within": within + "%", "geometry": geometry})
        return await cur.fetchall()


GRIDS = """
SELECT g.code, g.name, CASE WHEN %(geometry)s THEN ST_AsGeoJSON(g.geom, 7)::text END AS geometry
FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE l.theme = 'unified' AND l.status = 'active' AND g.code LIKE %(within)s ORDER BY g.code
"""


async def grids(conn: AsyncConnection, within: str, geometry: bool = True
                ) -> list[dict[str, Any]]:
    """The active unified grids of an area (code prefix): code, name and outline."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GRIDS, {"within": within + "%", "geometry": geometry})
        return await cur.fetchall()


# 共建共治 facts per area code (communities; committee seats also at streets): registrations,
# posts offered and claimed, seats and their duty records of one quarter, the largest site.
CO_FACTS = """
WITH c AS (SELECT code FROM areas WHERE level = 'community' AND code LIKE %(within)s),
u AS (SELECT community_code AS code, count(*) AS n FROM unit_registrations GROUP BY 1),
m AS (SELECT r.area_code AS code, count(DISTINCT r.person_id) AS n
      FROM role_assignments r JOIN people p ON p.id = r.person_id
      WHERE r.role = 'party_member' AND r.unit_id IS NOT NULL AND p.party_status = 'in_service'
        AND r.valid_from <= %(day)s AND (r.valid_to IS NULL OR r.valid_to >= %(day)s)
      GROUP BY 1),
s AS (SELECT sp.community_code AS code, sum(sp.slots) AS offered,
             sum(least(sp.slots, (SELECT count(*) FROM claims k WHERE k.post_id = sp.id)))
                 AS claimed
      FROM service_posts sp GROUP BY 1),
f AS (SELECT community_code AS code, max(floor_area_m2) AS area,
             array_agg(opening_hours ORDER BY id) FILTER (WHERE opening_hours IS NOT NULL)
                 AS hours
      FROM facilities WHERE category = 'party_service_center' GROUP BY 1)
SELECT c.code, true AS community, coalesce(u.n, 0) AS unit_registrations,
       coalesce(m.n, 0) AS member_registrations, coalesce(s.offered, 0) AS posts_offered,
       coalesce(s.claimed, 0) AS posts_claimed, f.area AS site_area, f.hours AS site_hours
FROM c LEFT JOIN u ON u.code = c.code LEFT JOIN m ON m.code = c.code
LEFT JOIN s ON s.code = c.code LEFT JOIN f ON f.code = c.code
ORDER BY c.code
"""
SEATS = """
SELECT r.area_code AS code, r.id, d.meetings, d.projects_led, d.matters
FROM role_assignments r LEFT JOIN duty_records d ON d.seat_id = r.id AND d.quarter = %(quarter)s
WHERE r.role = 'committee_member' AND r.area_code LIKE %(within)s
  AND r.valid_from <= %(q_end)s AND (r.valid_to IS NULL OR r.valid_to >= %(q_start)s)
ORDER BY r.id
"""


async def co_facts(conn: AsyncConnection, within: str, day: date, quarter: str
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The communities' 共建共治 facts and the committee seats held during ``quarter`` (with
    its record)
    of an area (code prefix: a street's communities and its own seats)."""
    year, q = int(quarter[:4]), int(quarter[5])
    q_start = date(year, 3 * q - 2, 1)
    q_end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    params = {"within": within + "%", "day": day, "quarter": quarter, "q_start": q_start,
              "q_end": q_end}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(CO_FACTS, params)
        communities = await cur.fetchall()
        await cur.execute(SEATS, params)
        return communities, await cur.fetchall()
