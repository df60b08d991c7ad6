"""People counted per grid of an area: the aggregate street leaders and the public see."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from geo.db.queries.geojson import rows

COUNTED = ("party_members", "volunteers", "building_heads", "grid_workers")

_PER_GRID = sql.SQL("""
SELECT g.code, g.name, g.households, g.residents,
  (SELECT count(DISTINCT p.id) FROM people p JOIN buildings b ON b.id = p.home_building_id
    WHERE b.grid_id = g.id AND p.party_status IS NOT NULL) AS party_members,
  (SELECT count(DISTINCT r.person_id) FROM role_assignments r JOIN buildings b ON b.id = r.building_id
    WHERE b.grid_id = g.id AND r.role = 'volunteer') AS volunteers,
  (SELECT count(DISTINCT r.person_id) FROM role_assignments r JOIN buildings b ON b.id = r.building_id
    WHERE b.grid_id = g.id AND r.role = 'building_head') AS building_heads,
  (SELECT count(DISTINCT r.person_id) FROM role_assignments r
    WHERE r.grid_id = g.id AND r.role IN ('grid_worker_full', 'grid_worker_part')) AS grid_workers
FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE l.theme = 'unified' AND l.status = 'active' AND g.community_code LIKE %(prefix)s
ORDER BY g.code
""")


async def per_grid(conn: AsyncConnection, code: str) -> list[dict[str, Any]]:
    return await rows(conn, _PER_GRID, {"prefix": code + "%"})
