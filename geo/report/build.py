"""Gather a street report's data and make its files: the coverage of the street's grids and
the issues heat map (H3 resolution 9), for a user (or the command line's system user), with
the same scope and suppression rules as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from geo import coverage
from geo.access import narrowed, role_of
from geo.auth import User
from geo.coverage_geojson import coverage_collection
from geo.db.queries import coverage as q
from geo.errors import NotFound
from geo.heatmap import HeatQuery, collection
from geo.issue_cells import IssueCells
from geo.privacy import suppression_floor
from geo.report.html import street_report
from geo.report.tables import to_csv, to_xlsx
from geo.settings import Settings

HEAT_RES = 9
SYSTEM = User(0, "gridgov-cli", "admin", None)  # the command line runs on the server itself
MEDIA = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass
class StreetData:
    street: dict[str, str]
    coverage: dict[str, Any]
    heat: dict[str, Any]


async def gather(conn: AsyncConnection, user: User | None, settings: Settings, code: str,
                 issues: IssueCells) -> StreetData:
    """404 for a code that is not a street, or a street outside the user's scope."""
    if len(code) != 9 or not code.isdigit():
        raise NotFound(f"{code} is not a street code (9 digits)")
    where = narrowed(user, code)
    found = [a for a in await q.areas(conn, "street", code) if a["code"] == code]
    if not found:
        raise NotFound(f"street {code} does not exist")
    cov = await coverage_collection(conn, user, settings, "grid", where, coverage.chosen(None))
    floor = suppression_floor(role_of(user), settings.k_anonymity)
    query = HeatQuery.parse("issues", HEAT_RES)
    heat = collection(issues.counts(HEAT_RES, where, floor), query, where, floor)
    return StreetData({"code": code, "name": found[0]["name"]}, cov, heat)


def render(data: StreetData, fmt: str, settings: Settings, now: datetime | None = None) -> bytes:
    if fmt == "csv":
        return to_csv(data.coverage)
    if fmt == "xlsx":
        return to_xlsx(data.coverage)
    return street_report(data.street, data.coverage, data.heat,
                         settings.web_dir / "node_modules" / "leaflet" / "dist",
                         now or datetime.now()).encode("utf-8")
