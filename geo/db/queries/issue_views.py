"""SQL of what people read about issues: the reporter's status page, the public board of a
community, the supervision figures, the worker's queue. Identifiers come from our code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.issues.limits import DONE, OPEN

STATUSES = OPEN + DONE
_SCOPE = "coalesce(g.code, i.community_code, '')"
_FROM = "FROM resident_issues i LEFT JOIN grids g ON g.id = i.grid_id"

RECEIPT = f"""
SELECT i.id, i.receipt_code, i.category, i.kind, i.channel, i.status, i.level, i.departments,
       i.description, i.reported_at, i.due_at, i.resolved_at, i.closed_at, i.feedback,
       i.feedback_at, i.satisfaction, i.rated_at, i.route_candidates IS NOT NULL AS awaiting_route,
       g.code AS grid_code, g.name AS grid_name, i.community_code, c.name AS community_name,
       (SELECT count(*) FROM issue_photos p WHERE p.issue_id = i.id) AS photos
{_FROM} LEFT JOIN areas c ON c.code = i.community_code
WHERE i.receipt_code = %s
"""
EVENTS = """
SELECT at, action, from_status, to_status, actor_role{extra}
FROM issue_events WHERE issue_id = %s ORDER BY at, id
"""
# 公示: what was asked about (category, grid), when, how fast and the published answer; no
# text of the report, no place finer than the grid, no receipt code, no person.
BOARD = f"""
SELECT i.category, i.kind, g.name AS grid_name, i.reported_at, i.resolved_at,
       i.resolved_at <= i.due_at AS in_time,
       i.feedback, i.satisfaction
{_FROM}
WHERE i.community_code = %(community)s AND i.status IN ('feedback_published', 'closed')
  AND i.feedback IS NOT NULL AND i.reported_at >= %(since)s
ORDER BY i.feedback_at DESC NULLS LAST, i.id DESC LIMIT %(limit)s
"""
BOARD_TOTALS = """
SELECT count(*) AS received, count(*) FILTER (WHERE resolved_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE resolved_at <= due_at) AS in_time
FROM resident_issues WHERE community_code = %(community)s AND reported_at >= %(since)s
"""
_COUNTS = ", ".join(f"count(*) FILTER (WHERE i.status = '{s}') AS {s}" for s in STATUSES)
STATS = f"""
SELECT left({_SCOPE}, %(width)s) AS key, count(*) AS total, {_COUNTS},
       count(*) FILTER (WHERE i.status = ANY(%(open)s) AND i.due_at < %(now)s) AS overdue,
       count(*) FILTER (WHERE i.resolved_at IS NOT NULL) AS resolved_total,
       count(*) FILTER (WHERE i.resolved_at IS NOT NULL AND i.resolved_at <= i.due_at)
           AS resolved_in_time,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM i.resolved_at - i.reported_at) / 3600)
           FILTER (WHERE i.resolved_at IS NOT NULL) AS median_hours_to_resolve,
       count(i.satisfaction) AS rated, avg(i.satisfaction)::float AS mean_satisfaction,
       count(*) FILTER (WHERE i.satisfaction >= 4) AS satisfied
{_FROM}
WHERE {_SCOPE} LIKE %(prefix)s AND i.reported_at >= %(since)s AND i.reported_at < %(until)s
GROUP BY 1 ORDER BY 1
"""
NAMES = """
SELECT code, name FROM areas WHERE code = ANY(%(keys)s)
UNION ALL
SELECT g.code, g.name FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE g.code = ANY(%(keys)s) AND l.theme = 'unified' AND l.status = 'active'
"""
QUEUE = f"""
SELECT i.id, i.receipt_code, i.category, i.kind, i.status, i.level, i.departments,
       i.description, i.reported_at, i.due_at, i.due_at < %(now)s AS overdue,
       g.code AS grid_code, g.name AS grid_name, i.community_code,
       i.route_candidates, ST_AsGeoJSON(i.geom, 6)::json AS geometry
{_FROM}
WHERE {_SCOPE} LIKE %(prefix)s AND i.status = ANY(%(statuses)s)
ORDER BY i.due_at NULLS LAST, i.id LIMIT %(limit)s
"""


async def _dicts(conn: AsyncConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(sql, params)
    return await cur.fetchall()


async def receipt(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    rows = await _dicts(conn, RECEIPT, (code,))
    return rows[0] if rows else None


async def events(conn: AsyncConnection, issue_id: int, staff: bool) -> list[dict[str, Any]]:
    extra = ", actor, note, detail" if staff else ""
    return await _dicts(conn, EVENTS.format(extra=extra), (issue_id,))


async def board(conn: AsyncConnection, community: str, since: datetime, limit: int
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    params = {"community": community, "since": since, "limit": limit}
    totals = (await _dicts(conn, BOARD_TOTALS, params))[0]
    return totals, await _dicts(conn, BOARD, params)


async def stats(conn: AsyncConnection, prefix: str, width: int, since: datetime,
                until: datetime, now: datetime) -> list[dict[str, Any]]:
    return await _dicts(conn, STATS, {"prefix": prefix + "%", "width": width, "since": since,
                                      "until": until, "now": now, "open": list(OPEN)})


async def names(conn: AsyncConnection, keys: list[str]) -> dict[str, str]:
    cur = await conn.execute(NAMES, {"keys": keys})
    return {code: name for code, name in await cur.fetchall()}


async def queue(conn: AsyncConnection, prefix: str, statuses: list[str], now: datetime,
                limit: int) -> list[dict[str, Any]]:
    return await _dicts(conn, QUEUE, {"prefix": prefix + "%", "statuses": statuses,
                                      "now": now, "limit": limit})
