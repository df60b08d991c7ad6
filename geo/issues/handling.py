"""限期办理 → 公示反馈 → 跟踪监督: an action on an issue, and the reporter's rating.

Each action is checked against the status flow and the role rules (geo.issues.workflow),
then the issue's columns and one event (who, role, when, note) are written in the caller's
transaction; the issue row is locked first, so two people acting at once take turns and the
second sees the first's result (and gets 409 when its action no longer applies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection

from geo.access import in_scope
from geo.auth import User
from geo.db.queries import issues as q
from geo.errors import Conflict, InvalidInput, NotFound
from geo.issues.limits import DONE, Calendar
from geo.issues.photos import Photo
from geo.issues.workflow import check

DEPARTMENTS_MAX = 10


@dataclass
class Step:
    action: str
    note: str | None = None
    grid: str | None = None  # assign / reassign: the grid's code
    to: str | None = None  # escalate: community / street
    departments: list[str] = field(default_factory=list)  # escalate: 协同处置 with whom
    feedback: str | None = None  # publish: the public answer


async def act(conn: AsyncConnection, user: User, calendar: Calendar, issue_id: int, step: Step,
              now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    issue = await q.locked(conn, issue_id=issue_id)
    if issue is None or not in_scope(user, issue["scope"]):
        raise NotFound(f"issue {issue_id}: no such issue in your scope")
    action = check(user, step.action, issue["status"], issue["level"], step.note, step.to)
    values: dict[str, Any] = {"status": action.target}
    detail: dict[str, Any] = {}
    if action.name in ("assign", "reassign"):
        values.update(await _assignment(conn, user, step.grid, now, calendar))
        detail = {"grid": step.grid, "assignee_id": values["assignee_id"]}
    elif action.name == "start":
        values["started_at"] = now
    elif action.name == "escalate":
        values.update(level=step.to, departments=_departments(step.departments))
        detail = {"to": step.to, "departments": values["departments"]}
    elif action.name == "resolve":
        values["resolved_at"] = now
    elif action.name == "publish":
        text = (step.feedback or "").strip()
        if not text or len(text) > 1000:
            raise InvalidInput("feedback: the public answer (1–1000 characters) is required")
        values.update(feedback=text, feedback_at=now)
    elif action.name == "close":
        values["closed_at"] = now
    elif action.name == "reopen":
        # a fresh limit of its kind from now, and the old rating no longer stands
        values.update(resolved_at=None, closed_at=None, reopened=issue["reopened"] + 1,
                      due_at=calendar.due(now, issue["kind"]), satisfaction=None,
                      rated_at=None, rating_comment=None)
    await q.update(conn, issue_id, values)
    await q.event(conn, issue_id, now, user.username, user.role, action.name, issue["status"],
                  action.target, (step.note or "").strip() or None, detail)
    return {"id": issue_id, "status": action.target, "action": action.name, "at": now}


def _departments(names: list[str]) -> list[str]:
    out = [n.strip() for n in names if n and n.strip()]
    if len(out) > DEPARTMENTS_MAX or any(len(n) > 40 for n in out):
        raise InvalidInput(f"departments: at most {DEPARTMENTS_MAX} names of 40 characters")
    return out


async def _assignment(conn: AsyncConnection, user: User, code: str | None, now: datetime,
                      calendar: Calendar) -> dict[str, Any]:
    if not code:
        raise InvalidInput("grid: name the grid (its 15-digit code) that takes the issue")
    found = await q.active_grid(conn, code)
    if found is None:
        raise InvalidInput(f"grid: {code!r} is no grid of the active unified layer")
    if not in_scope(user, code):
        raise NotFound(f"grid: {code} is outside your scope")
    grid_id, community = found
    return {"grid_id": grid_id, "community_code": community, "level": "grid",
            "assignee_id": await q.worker(conn, grid_id, calendar.today()),
            "assigned_at": now,
            "route_candidates": None}


async def rate(conn: AsyncConnection, receipt: str, satisfaction: int, comment: str | None,
               actor: str, role: str | None, now: datetime | None = None) -> dict[str, Any]:
    """The reporter's rating (满意度), by receipt code, once the issue is resolved."""
    now = now or datetime.now(UTC)
    if not 1 <= satisfaction <= 5:
        raise InvalidInput("satisfaction: a whole number from 1 (very unhappy) to 5 (very happy)")
    if comment is not None and len(comment) > 500:
        raise InvalidInput("comment: at most 500 characters")
    issue = await q.locked(conn, receipt=receipt)
    if issue is None:
        raise NotFound(f"receipt code {receipt!r}: no such issue")
    if issue["status"] not in DONE:
        raise Conflict(f"satisfaction: the issue is {issue['status']}; rate it once it is "
                       "resolved")
    await q.update(conn, issue["id"], {"satisfaction": satisfaction, "rated_at": now,
                                       "rating_comment": (comment or "").strip() or None})
    await q.event(conn, issue["id"], now, actor, role, "rate", issue["status"], issue["status"],
                  None, {"satisfaction": satisfaction})
    return {"receipt_code": receipt, "satisfaction": satisfaction, "rated_at": now}


async def add_photos(conn: AsyncConnection, user: User, issue_id: int, photos: list[Photo],
                     most: int, now: datetime | None = None) -> int:
    """Photos added to an issue by staff (the row locked, so two uploads cannot pass the
    limit together); an event records it. The number of photos it now has."""
    now = now or datetime.now(UTC)
    issue = await q.locked(conn, issue_id=issue_id)
    if issue is None or not in_scope(user, issue["scope"]):
        raise NotFound(f"issue {issue_id}: no such issue in your scope")
    have = await q.photo_count(conn, issue_id)
    if have + len(photos) > most:
        raise InvalidInput(f"photos: the issue has {have}; at most {most} per issue")
    await q.add_photos(conn, issue_id, photos)
    await q.event(conn, issue_id, now, user.username, user.role, "photos", issue["status"],
                  issue["status"], None, {"added": len(photos)})
    return have + len(photos)
