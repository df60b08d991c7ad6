"""民情受理: a report becomes an issue with a receipt code, a grid, a worker and a deadline.

One transaction: the issue, its first events (received, and assigned when the route is
clear) and its photos commit together or not at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection

from geo.db.queries import issues as q
from geo.errors import InvalidInput
from geo.geometry_input import parse_geometry
from geo.issues.limits import KINDS, Calendar
from geo.issues.photos import Photo
from geo.issues.routing import Route, on_building, route
from geo.settings import Settings

CHANNELS = ("resident_page", "grid_worker", "hotline", "mailbox")
# Crockford's base32 without I, L, O, U: codes read aloud over the phone stay unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass
class Report:
    category: str
    description: str
    channel: str
    kind: str = "time_limited"
    geometry: dict[str, Any] | None = None
    crs: str | None = None
    building_id: int | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    photos: list[Photo] = field(default_factory=list)


def receipt_code(now: datetime) -> str:
    """MQ + the day + 8 random characters (10¹² codes a day: not guessable)."""
    return f"MQ{now:%Y%m%d}-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def checked(report: Report, settings: Settings) -> None:
    if report.category not in settings.issue_categories:
        raise InvalidInput(f"category: {report.category!r} is not one of "
                           f"{', '.join(settings.issue_categories)}")
    if report.kind not in KINDS:
        raise InvalidInput(f"kind: {report.kind!r} is not one of {', '.join(KINDS)}")
    if report.channel not in CHANNELS:
        raise InvalidInput(f"channel: {report.channel!r} is not one of {', '.join(CHANNELS)}")
    if not report.description.strip():
        raise InvalidInput("description: say what the problem is")
    if len(report.description) > 2000:
        raise InvalidInput("description: at most 2000 characters")
    if (report.geometry is None) == (report.building_id is None):
        raise InvalidInput("geometry: give the place as a GeoJSON point or a building_id "
                           "(one of the two)")
    if len(report.photos) > settings.issue_photos_max:
        raise InvalidInput(f"photos: at most {settings.issue_photos_max} per issue")
    phone = report.reporter_phone
    if phone and not (5 <= len(phone) <= 20 and all(c in "0123456789+- " for c in phone)):
        raise InvalidInput(f"reporter_phone: {phone!r} is not a phone number")


async def _place(conn: AsyncConnection, report: Report, near_m: float
                 ) -> tuple[float, float, Route]:
    if report.building_id is not None:
        found = await q.building(conn, report.building_id)
        if found is None:
            raise InvalidInput(f"building_id: no building {report.building_id}")
        lon, lat, grid_id, community = found
        return lon, lat, on_building(grid_id, community)
    point = parse_geometry(report.geometry, report.crs, ("Point",))
    lon, lat = point.x, point.y
    found_grids = await q.candidates(conn, lon, lat, near_m)
    community = None
    if not any(c.inside for c in found_grids):
        # in a gap or just outside the grids: its community, else the nearest grid's
        community = await q.community_at(conn, lon, lat) or (
            found_grids[0].community if found_grids else None)
    return lon, lat, route(found_grids, community)


async def take(conn: AsyncConnection, settings: Settings, report: Report, actor: str,
               role: str | None, now: datetime | None = None) -> dict[str, Any]:
    """Store ``report`` (inside the caller's transaction); the new issue's id, code and route."""
    checked(report, settings)
    now = now or datetime.now(UTC)
    lon, lat, where = await _place(conn, report, settings.near_boundary_m)
    if where.community is None and where.grid_id is None:
        raise InvalidInput("geometry: the place lies in no community of ours; pick a place "
                           "inside the city's communities")
    calendar = Calendar.of(settings)
    assignee = await q.worker(conn, where.grid_id, calendar.today()) if where.settled else None
    status = "assigned" if where.settled else "received"
    due = calendar.due(now, report.kind)
    code = receipt_code(now.astimezone(calendar.zone))
    issue_id = await q.insert(conn, {
        "code": code, "category": report.category, "kind": report.kind,
        "channel": report.channel, "status": status, "description": report.description.strip(),
        "lon": lon, "lat": lat, "building_id": report.building_id, "grid_id": where.grid_id,
        "community": where.community, "reported": now, "assigned": now if where.settled else None,
        "due": due, "name": report.reporter_name or None, "phone": report.reporter_phone or None,
        "assignee": assignee, "candidates": where.candidates_json()})
    await q.event(conn, issue_id, now, actor, role, "report", None, "received",
                  detail={"channel": report.channel})
    if where.settled:
        await q.event(conn, issue_id, now, "gridgov", None, "route", "received", "assigned",
                      detail={"grid_id": where.grid_id, "assignee_id": assignee})
    await q.add_photos(conn, issue_id, report.photos)
    return {"id": issue_id, "receipt_code": code, "status": status, "due_at": due,
            "grid_id": where.grid_id, "community_code": where.community,
            "needs_routing": not where.settled,
            "candidates": where.candidates_json() or []}
