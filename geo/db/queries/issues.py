"""SQL of the 民情 workflow: routing candidates, the issue row and its history, photos."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo.issues.photos import Photo
from geo.issues.routing import Candidate

WORKER_ROLES = ["grid_worker_full", "grid_worker_part", "grid_leader"]
_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
# Grid parts within reach of the point; the box (0.02° ≥ 1 km everywhere in China) lets the
# index find them before the distance is measured on the spheroid.
CANDIDATES = f"""
SELECT g.id, g.code, g.name, g.community_code,
       min(ST_Distance(a.geom::geography, {_POINT}::geography)) AS distance,
       bool_or(ST_Covers(a.geom, {_POINT})) AS inside
FROM active_grid_parts a JOIN grids g ON g.id = a.grid_id
WHERE a.geom && ST_Expand({_POINT}, %(deg)s)
  AND ST_DWithin(a.geom::geography, {_POINT}::geography, %(m)s)
GROUP BY g.id, g.code, g.name, g.community_code
ORDER BY inside DESC, distance, g.code
"""
COMMUNITY = f"""
SELECT code FROM areas WHERE level = 'community' AND ST_Covers(geom, {_POINT})
ORDER BY code LIMIT 1
"""
BUILDING = """
SELECT ST_X(p), ST_Y(p), b.grid_id, b.community_code
FROM buildings b, LATERAL ST_PointOnSurface(b.footprint) p WHERE b.id = %s
"""
GRID = """
SELECT g.id, g.community_code FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE g.code = %s AND l.theme = 'unified' AND l.status = 'active'
"""
WORKER = """
SELECT r.person_id FROM role_assignments r
WHERE r.grid_id = %s AND r.role = ANY(%s)
  AND r.valid_from <= %s AND (r.valid_to IS NULL OR r.valid_to >= %s)
ORDER BY array_position(%s, r.role), r.id LIMIT 1
"""
INSERT = f"""
INSERT INTO resident_issues (receipt_code, category, kind, channel, status, description, geom,
    building_id, grid_id, community_code, reported_at, assigned_at, due_at, reporter_name,
    reporter_phone, assignee_id, route_candidates)
VALUES (%(code)s, %(category)s, %(kind)s, %(channel)s, %(status)s, %(description)s, {_POINT},
    %(building_id)s, %(grid_id)s, %(community)s, %(reported)s, %(assigned)s, %(due)s,
    %(name)s, %(phone)s, %(assignee)s, %(candidates)s)
RETURNING id
"""
# One issue for a transition; the lock makes concurrent actions on it take turns.
ISSUE = """
SELECT i.id, i.receipt_code, i.status, i.level, i.kind, i.grid_id, i.community_code,
       i.due_at, i.resolved_at, i.reported_at, i.reopened, coalesce(g.code, i.community_code) AS scope
FROM resident_issues i LEFT JOIN grids g ON g.id = i.grid_id
WHERE {where} FOR UPDATE OF i
"""
EVENT = """
INSERT INTO issue_events (issue_id, at, actor, actor_role, action, from_status, to_status, note,
                          detail)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
PHOTO = """
INSERT INTO issue_photos (issue_id, media_type, width, height, data, sha256)
VALUES (%s, %s, %s, %s, %s, %s)
"""


async def candidates(conn: AsyncConnection, lon: float, lat: float, near_m: float
                     ) -> list[Candidate]:
    cur = await conn.execute(CANDIDATES, {"lon": lon, "lat": lat, "m": near_m,
                                          "deg": max(0.02, near_m / 50_000)})
    return [Candidate(r[0], r[1], r[2], r[3], float(r[4]), bool(r[5]))
            for r in await cur.fetchall()]


async def community_at(conn: AsyncConnection, lon: float, lat: float) -> str | None:
    cur = await conn.execute(COMMUNITY, {"lon": lon, "lat": lat})
    row = await cur.fetchone()
    return row[0] if row else None


async def building(conn: AsyncConnection, building_id: int
                   ) -> tuple[float, float, int | None, str | None] | None:
    cur = await conn.execute(BUILDING, (building_id,))
    return await cur.fetchone()


async def active_grid(conn: AsyncConnection, code: str) -> tuple[int, str] | None:
    cur = await conn.execute(GRID, (code,))
    return await cur.fetchone()


async def worker(conn: AsyncConnection, grid_id: int | None, today: date) -> int | None:
    """The grid's full-time worker, else its first part-time one, else its leader, on the
    day ``today`` (local)."""
    if grid_id is None:
        return None
    cur = await conn.execute(WORKER, (grid_id, WORKER_ROLES, today, today, WORKER_ROLES))
    row = await cur.fetchone()
    return row[0] if row else None


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> int:
    cur = await conn.execute(INSERT, {**values, "candidates": (
        None if values["candidates"] is None else Jsonb(values["candidates"]))})
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def locked(conn: AsyncConnection, *, issue_id: int | None = None,
                 receipt: str | None = None) -> dict[str, Any] | None:
    where, arg = ("i.id = %s", issue_id) if issue_id is not None else ("i.receipt_code = %s",
                                                                        receipt)
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(ISSUE.format(where=where), (arg,))
    return await cur.fetchone()


async def event(conn: AsyncConnection, issue_id: int, at: datetime, actor: str,
                role: str | None, action: str, before: str | None, after: str,
                note: str | None = None, detail: dict[str, Any] | None = None) -> None:
    await conn.execute(EVENT, (issue_id, at, actor, role, action, before, after, note,
                               Jsonb(detail or {})))


async def update(conn: AsyncConnection, issue_id: int, values: dict[str, Any]) -> None:
    """``values``: column → value, the columns from our own code, never from a request
    (``departments`` a list: a text array)."""
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    await conn.execute(f"UPDATE resident_issues SET {sets} WHERE id = %(_id)s",
                       {**values, "_id": issue_id})


async def add_photos(conn: AsyncConnection, issue_id: int, photos: list[Photo]) -> None:
    for p in photos:
        await conn.execute(PHOTO, (issue_id, p.media_type, p.width, p.height, p.data, p.sha256))


async def photo_count(conn: AsyncConnection, issue_id: int) -> int:
    cur = await conn.execute("SELECT count(*) FROM issue_photos WHERE issue_id = %s",
                             (issue_id,))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def photo(conn: AsyncConnection, issue_id: int, n: int) -> tuple[str, bytes] | None:
    cur = await conn.execute(
        "SELECT media_type, data FROM issue_photos WHERE issue_id = %s ORDER BY id "
        "OFFSET %s LIMIT 1", (issue_id, n - 1))
    return await cur.fetchone()


async def scope_of(conn: AsyncConnection, issue_id: int) -> str | None:
    """The scope key of an issue (its grid's code, else its community's), None if none."""
    cur = await conn.execute(
        "SELECT coalesce(g.code, i.community_code, '') FROM resident_issues i "
        "LEFT JOIN grids g ON g.id = i.grid_id WHERE i.id = %s", (issue_id,))
    row = await cur.fetchone()
    return row[0] if row else None
