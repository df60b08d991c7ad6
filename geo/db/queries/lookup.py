"""The geographic half of the public lookup, in ONE statement (one round trip).

- The grid: ``ST_Covers`` (not contains) on the subdivided polygons of the active unified
  generation (``active_grid_parts``), so a point on a shared edge is covered by both grids;
  the smaller code wins, the same way every time.
- Neighbours within ``near_m`` metres (geography; the degree box only feeds the index).
- Published, currently valid contacts of the grid and of the neighbours, the building whose
  footprint covers the point and its head, the grid's party organisation.
- The point's snap to the nearest walk edge of its district (for the in-memory network).

Only public fields leave: names and phones of published contacts (the caller masks personal
phones), never party status, home units or anyone unpublished. The text is constant, so
psycopg prepares it on the server after a few executions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from geo.db.queries.network import SNAP_CANDIDATES

GRID_ROLES = ("grid_worker_full", "grid_worker_part", "grid_leader", "grid_assistant")
HEAD_ROLE = "building_head"

_P = "ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326)"
_CURRENT = ("r.published AND r.valid_from <= current_date "
            "AND (r.valid_to IS NULL OR r.valid_to >= current_date)")
_ROLES = "ARRAY[" + ", ".join(f"'{r}'" for r in GRID_ROLES) + "]"

LOOKUP = f"""
WITH hit AS MATERIALIZED (
    SELECT g.id, g.code, g.name, g.kind, g.households, g.community_code
    FROM active_grid_parts p JOIN grids g ON g.id = p.grid_id
    WHERE ST_Covers(p.geom, {_P})
    ORDER BY g.code LIMIT 1
), near AS MATERIALIZED (
    SELECT g.id, g.code, g.name, g.kind, g.households,
           min(ST_Distance(p.geom::geography, {_P}::geography)) AS d
    FROM active_grid_parts p JOIN grids g ON g.id = p.grid_id
    WHERE p.geom && ST_Expand({_P}, %(dlon)s::float8, %(dlat)s::float8)
      AND p.grid_id <> (SELECT id FROM hit)
      AND ST_DWithin(p.geom::geography, {_P}::geography, %(near_m)s::float8)
    GROUP BY g.id
), contacts AS (
    SELECT r.grid_id, json_agg(json_build_array(r.role, pe.name, pe.phone, r.work_phone)
                               ORDER BY array_position({_ROLES}, r.role), r.id) AS list
    FROM role_assignments r JOIN people pe ON pe.id = r.person_id
    WHERE r.grid_id IN (SELECT id FROM hit UNION ALL SELECT id FROM near)
      AND r.role = ANY({_ROLES}) AND {_CURRENT}
    GROUP BY r.grid_id
), bld AS MATERIALIZED (
    SELECT b.id, b.address, c.name AS compound, b.households
    FROM buildings b LEFT JOIN compounds c ON c.id = b.compound_id
    WHERE ST_Covers(b.footprint, {_P})
    ORDER BY b.id LIMIT 1
), place AS MATERIALIZED (
    SELECT coalesce((SELECT community_code FROM hit),
                    (SELECT a.code FROM areas a
                     WHERE NOT EXISTS (SELECT 1 FROM hit) AND a.level = 'community'
                       AND ST_Covers(a.geom, {_P}) ORDER BY a.code LIMIT 1)) AS code
), snap AS (
    SELECT c.id, ST_LineLocatePoint(c.geom, {_P}) AS t,
           ST_Distance(c.geom::geography, {_P}::geography) AS d
    FROM (SELECT e.id, e.geom FROM walk_edges e
          WHERE e.district_code = left((SELECT code FROM place), 6)
          ORDER BY e.geom <-> {_P} LIMIT {SNAP_CANDIDATES}) c
    ORDER BY d, c.id LIMIT 1
)
SELECT json_build_array(
    (SELECT code FROM place),
    (SELECT name FROM areas WHERE code = (SELECT code FROM place)),
    (SELECT json_build_array(a.code, a.name) FROM areas a
     WHERE a.code = left((SELECT code FROM place), 9)),
    (SELECT json_build_array(h.code, h.name, h.kind, h.households, c.list)
     FROM hit h LEFT JOIN contacts c ON c.grid_id = h.id),
    (SELECT json_agg(json_build_array(n.code, n.name, n.kind, n.households, c.list, n.d)
                     ORDER BY n.d, n.code)
     FROM near n LEFT JOIN contacts c ON c.grid_id = n.id),
    (SELECT json_build_array(b.address, b.compound, b.households,
                             (SELECT json_build_array(pe.name, pe.phone, r.work_phone)
                              FROM role_assignments r JOIN people pe ON pe.id = r.person_id
                              WHERE r.building_id = b.id AND r.role = '{HEAD_ROLE}'
                                AND {_CURRENT} ORDER BY r.id LIMIT 1))
     FROM bld b),
    (SELECT json_build_array(po.name, po.kind) FROM party_orgs po
     WHERE po.grid_id = (SELECT id FROM hit)
     ORDER BY CASE po.kind WHEN 'grid_branch' THEN 0 WHEN 'grid_group' THEN 1 ELSE 2 END, po.id
     LIMIT 1),
    (SELECT json_build_array(id, t, d) FROM snap))
"""


@dataclass(frozen=True)
class Found:
    """One row of the lookup, still with raw phones (the caller masks them)."""

    community_code: str | None
    community_name: str | None
    street: list[Any] | None  # [code, name]
    grid: list[Any] | None  # [code, name, kind, households, contacts]
    neighbours: list[list[Any]]  # [code, name, kind, households, contacts, distance_m]
    building: list[Any] | None  # [address, compound, households, head [name, phone, work]]
    party_org: list[Any] | None  # [name, kind]
    snap: list[Any] | None  # [edge id, fraction, offset_m]


async def find(conn: AsyncConnection, lon: float, lat: float, near_m: float, dlon: float,
               dlat: float) -> Found:
    params = {"lon": lon, "lat": lat, "near_m": near_m, "dlon": dlon, "dlat": dlat}
    cur = await conn.execute(LOOKUP, params)
    one = await cur.fetchone()
    assert one is not None
    row = one[0]  # one JSON array: one value to parse instead of eight
    return Found(row[0], row[1], row[2], row[3], row[4] or [], row[5], row[6], row[7])
