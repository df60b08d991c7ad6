"""What people read about issues, shaped for them.

- The reporter's status page (by receipt code, no sign-in): their own report, where it stands,
  its deadline, the steps taken (when and by which role, never by whom), the public answer.
- The board of a community (公示, no sign-in): resolved issues with their published answers,
  anonymised: no report text, no place finer than the grid, no code, no person.
- Supervision (staff, within scope): per grid, community or street, counts by status, overdue,
  the share resolved within the limit, the median time to resolve, satisfaction.
- The queue (staff, within scope): open issues sorted by deadline, with the actions the user
  may take.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from geo.access import narrowed
from geo.auth import User
from geo.db.queries import issue_views as q
from geo.errors import InvalidInput, NotFound
from geo.issues.limits import KIND_NAMES, OPEN, Calendar, overdue
from geo.issues.workflow import STATUS_NAMES, available

LEVEL_WIDTH = {"grid": 15, "community": 12, "street": 9, "district": 6}


async def receipt(conn: AsyncConnection, code: str, now: datetime | None = None
                  ) -> dict[str, Any]:
    row = await q.receipt(conn, code)
    if row is None:
        raise NotFound(f"receipt code {code!r}: no such issue (check the code on your receipt)")
    now = now or datetime.now(UTC)
    issue_id = row.pop("id")
    steps = await q.events(conn, issue_id, staff=False)
    return {**row, "status_name": STATUS_NAMES.get(row["status"], row["status"]),
            "kind_name": KIND_NAMES.get(row["kind"], row["kind"]),
            "overdue": overdue(row["status"], row["due_at"], row["resolved_at"], now),
            "steps": steps}


async def board(conn: AsyncConnection, calendar: Calendar, community: str, days: int,
                limit: int, now: datetime | None = None) -> dict[str, Any]:
    if not (community.isdigit() and len(community) == 12):
        raise InvalidInput(f"community: {community!r} is not a 12-digit community code")
    now = now or datetime.now(UTC)
    totals, rows = await q.board(conn, community, now - timedelta(days=days), limit)
    if not rows and not totals["received"] and not await q.names(conn, [community]):
        raise NotFound(f"community: no community {community}")
    for r in rows:
        r["reported_on"] = r.pop("reported_at").astimezone(calendar.zone).date()
        resolved = r.pop("resolved_at")
        r["resolved_on"] = resolved.astimezone(calendar.zone).date() if resolved else None
        r["kind_name"] = KIND_NAMES.get(r["kind"], r["kind"])
    share = totals["resolved"] / totals["received"] if totals["received"] else None
    return {"community": community, "days": days, **totals, "resolved_share": share,
            "items": rows}


async def stats(conn: AsyncConnection, user: User | None, within: str | None, by: str,
                since: datetime, until: datetime, now: datetime | None = None
                ) -> dict[str, Any]:
    if by not in LEVEL_WIDTH:
        raise InvalidInput(f"by: {by!r} is not one of {', '.join(LEVEL_WIDTH)}")
    if until <= since:
        raise InvalidInput("to: must come after from")
    prefix = narrowed(user, within)
    rows = await q.stats(conn, prefix, LEVEL_WIDTH[by], since, until, now or datetime.now(UTC))
    names = await q.names(conn, [r["key"] for r in rows])
    for r in rows:
        r["name"] = names.get(r["key"])
        r["counts"] = {s: r.pop(s) for s in q.STATUSES}
        r["resolved_in_time_share"] = (r["resolved_in_time"] / r["resolved_total"]
                                       if r["resolved_total"] else None)
        r["satisfied_share"] = r["satisfied"] / r["rated"] if r["rated"] else None
    return {"within": prefix or None, "by": by, "from": since, "to": until, "items": rows}


async def queue(conn: AsyncConnection, user: User, within: str | None, statuses: list[str],
                limit: int, now: datetime | None = None) -> dict[str, Any]:
    unknown = sorted(set(statuses) - set(STATUS_NAMES))
    if unknown:
        raise InvalidInput(f"status: {', '.join(unknown)} not one of {', '.join(STATUS_NAMES)}")
    now = now or datetime.now(UTC)
    rows = await q.queue(conn, narrowed(user, within), statuses or list(OPEN), now, limit)
    features = []
    for r in rows:
        geometry = r.pop("geometry")
        r["actions"] = available(user, r["status"], r["level"])
        r["needs_routing"] = r["route_candidates"] is not None
        features.append({"type": "Feature", "id": r.pop("id"), "geometry": geometry,
                         "properties": r})
    return {"type": "FeatureCollection", "features": features}
