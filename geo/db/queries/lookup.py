"""What the public lookup keeps in memory, read in bulk: one query per part and district.

Only public fields leave: names and phones of *published* contacts (the lookup masks personal
phones before they are kept), the grid's party organisation by name, building addresses; never
party status, home units or anyone unpublished. Validity dates come along so that a role that
starts or ends today is judged on the day of the request, not of the load.

A district's grids, buildings and heads are those inside the box of its communities (so a grid
of the next district that reaches over the border is found too); its walk network is its own
(``geo.db.queries.network``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import AsyncConnection

GRID_ROLES = ("grid_worker_full", "grid_worker_part", "grid_leader", "grid_assistant")
HEAD_ROLE = "building_head"
ORG_ORDER = "CASE po.kind WHEN 'grid_branch' THEN 0 WHEN 'grid_group' THEN 1 ELSE 2 END"
Box = tuple[float, float, float, float]

AREAS = "SELECT code, name, level FROM areas ORDER BY code"
# Communities cut into pieces of at most 64 vertices: point-in-polygon stays cheap.
COMMUNITY_PARTS = """
SELECT code, ST_AsBinary(ST_Subdivide(geom, 64)) FROM areas WHERE level = 'community'
ORDER BY code
"""
_BOX = "ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)"
GRID_PARTS = f"""
SELECT g.id, g.code, g.name, g.kind, g.households, g.community_code, ST_AsBinary(p.geom)
FROM active_grid_parts p JOIN grids g ON g.id = p.grid_id
WHERE p.geom && {_BOX}
ORDER BY g.code, g.id
"""
GRID_BOUNDARIES = f"""
SELECT g.id, ST_AsBinary(ST_Boundary(g.geom))
FROM grids g
WHERE g.id IN (SELECT p.grid_id FROM active_grid_parts p WHERE p.geom && {_BOX})
"""
CONTACTS = f"""
SELECT r.grid_id, r.building_id, r.role, pe.name, pe.phone, r.work_phone, r.valid_from,
       r.valid_to
FROM role_assignments r JOIN people pe ON pe.id = r.person_id
WHERE r.published AND (
    (r.role = ANY(%(grid_roles)s) AND r.grid_id IN (
        SELECT p.grid_id FROM active_grid_parts p WHERE p.geom && {_BOX}))
    OR (r.role = %(head)s AND r.building_id IN (
        SELECT b.id FROM buildings b WHERE b.footprint && {_BOX})))
ORDER BY array_position(%(grid_roles)s, r.role), r.id
"""
PARTY_ORGS = f"""
SELECT DISTINCT ON (po.grid_id) po.grid_id, po.name, po.kind
FROM party_orgs po
WHERE po.grid_id IN (SELECT p.grid_id FROM active_grid_parts p WHERE p.geom && {_BOX})
ORDER BY po.grid_id, {ORG_ORDER}, po.id
"""
BUILDINGS = f"""
SELECT b.id, b.address, c.name, b.households, ST_AsBinary(b.footprint)
FROM buildings b LEFT JOIN compounds c ON c.id = b.compound_id
WHERE b.footprint && {_BOX}
ORDER BY b.id
"""


def _box(box: Box) -> dict[str, Any]:
    return dict(zip("wsen", box, strict=True))


async def _rows(conn: AsyncConnection, sql: str, params: dict[str, Any] | None = None
                ) -> list[tuple[Any, ...]]:
    cur = await conn.execute(sql, params)
    return await cur.fetchall()


async def areas(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """(code, name, level) of every area."""
    return await _rows(conn, AREAS)


async def community_parts(conn: AsyncConnection) -> list[tuple[str, bytes]]:
    """(community code, WKB of one subdivided piece)."""
    return await _rows(conn, COMMUNITY_PARTS)


async def grid_parts(conn: AsyncConnection, box: Box) -> list[tuple[Any, ...]]:
    """(id, code, name, kind, households, community code, WKB of one piece) of the active
    unified grids, by code."""
    return await _rows(conn, GRID_PARTS, _box(box))


async def grid_boundaries(conn: AsyncConnection, box: Box) -> list[tuple[int, bytes]]:
    """(id, WKB of the whole outline) of the same grids as ``grid_parts``."""
    return await _rows(conn, GRID_BOUNDARIES, _box(box))


async def contacts(conn: AsyncConnection, box: Box
                   ) -> list[tuple[int | None, int | None, str, str, str | None, str | None,
                                   date, date | None]]:
    """Published grid contacts and building heads: (grid id, building id, role, name, phone,
    work phone, valid from, valid to), grid roles in their order of rank."""
    params = {**_box(box), "grid_roles": list(GRID_ROLES), "head": HEAD_ROLE}
    return await _rows(conn, CONTACTS, params)


async def party_orgs(conn: AsyncConnection, box: Box) -> list[tuple[int, str, str]]:
    """(grid id, name, kind): the grid's branch, else its group, else any."""
    return await _rows(conn, PARTY_ORGS, _box(box))


async def buildings(conn: AsyncConnection, box: Box) -> list[tuple[Any, ...]]:
    """(id, address, compound name, households, WKB footprint) of buildings with a footprint."""
    return await _rows(conn, BUILDINGS, _box(box))
