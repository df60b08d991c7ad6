"""Import role assignments (who is 网格员, 楼栋长, 党员 … where, and since when); no geometry.

The person is found by name and phone (the phone may be left out when the name is unique);
the place by grid code (in an active layer: the given ``theme``, else the only layer with that
code, else the unified layer), building address and/or area code. Grid roles need a grid and
楼栋长 a building. A row identical to an assignment already stored (person, role, place,
start date) is skipped, so a roster can be re-imported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.result import ImportResult
from geo.importers.store import (
    Communities,
    area_levels,
    audit_import,
    database_errors,
    fetch_pairs,
    stage,
)
from geo.importers.values import Row, choice, date, flag, normalize_phone, phone, text

_CODES = ("grid_worker_full", "grid_worker_part", "grid_leader", "building_head", "lane_head",
          "courtyard_head", "household_liaison", "party_member", "volunteer",
          "committee_member", "community_instructor", "community_secretary", "grid_assistant")
ROLES = {c: c for c in _CODES} | {
    "专职网格员": "grid_worker_full", "兼职网格员": "grid_worker_part", "网格长": "grid_leader",
    "楼栋长": "building_head", "巷道长": "lane_head", "庭院长": "courtyard_head",
    "院落长": "courtyard_head", "联户长": "household_liaison", "党员": "party_member",
    "志愿者": "volunteer", "兼职委员": "committee_member", "社区指导员": "community_instructor",
    "社区书记": "community_secretary", "社区党组织书记": "community_secretary",
    "网格助理": "grid_assistant", "网格协管员": "grid_assistant",
}
NEEDS_GRID = {"grid_worker_full", "grid_worker_part", "grid_leader", "grid_assistant"}
NEEDS_BUILDING = {"building_head"}


@dataclass
class RoleRow:
    at: int
    person_id: int
    role: str
    grid_id: int | None
    building_id: int | None
    area_code: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    published: bool | None
    work_phone: str | None


class Lookups:
    """People, grids, buildings and areas named in the file, fetched in a few queries."""

    def __init__(self, conn: psycopg.Connection, loaded: Loaded, theme: str | None) -> None:
        frame, c = loaded.source.frame, loaded.columns

        def values(name: str) -> list[str]:
            return sorted({t for v in frame[c[name]] if (t := text(v))}) if name in c else []

        self.people: dict[str, list[tuple[int, str | None]]] = {}
        for pid, name, ph in fetch_pairs(conn, "SELECT id, name, phone FROM people WHERE "
                                         "name = ANY(%s) ORDER BY id", (values("name"),)):
            self.people.setdefault(name, []).append((pid, ph))
        self.grids: dict[str, list[tuple[int, str]]] = {}
        for code, gid, layer_theme in fetch_pairs(conn, _GRIDS, (values("grid"), theme, theme)):
            self.grids.setdefault(code, []).append((gid, layer_theme))
        self.buildings: dict[str, list[int]] = {}
        for address, bid in fetch_pairs(conn, "SELECT address, id FROM buildings WHERE "
                                        "address = ANY(%s) ORDER BY id", (values("building"),)):
            self.buildings.setdefault(address, []).append(bid)
        self.communities, self.areas = Communities(conn), area_levels(conn)


_GRIDS = """
SELECT g.code, g.id, l.theme FROM grids g JOIN grid_layers l ON l.id = g.layer_id
WHERE l.status = 'active' AND g.valid_to IS NULL AND g.code = ANY(%s)
  AND (%s::text IS NULL OR l.theme = %s) ORDER BY g.id
"""


def _person(row: Row, look: Lookups) -> int | None:
    name, ph = row.required("name"), row.get("phone", phone)
    if name is None:
        return None
    matches = look.people.get(name, [])
    if ph is not None:  # ``phone`` normalised the file's side; the stored side likewise
        matches = [m for m in matches if m[1] is not None and normalize_phone(m[1]) == ph]
    if len(matches) == 1:
        return matches[0][0]
    who = f"{name} / {ph}" if ph else name
    row.problems.error(row.at, f"no person {who} in the database (import people first)"
                       if not matches else f"{len(matches)} people match {who}; add a phone")
    return None


def _grid(row: Row, look: Lookups) -> int | None:
    code = row.get("grid")
    if code is None:
        return None
    found = look.grids.get(code, [])
    if len(found) > 1:
        found = [f for f in found if f[1] == "unified"] or found
    if len(found) == 1:
        return found[0][0]
    row.problems.error(row.at, f"unknown grid code {code!r} (no active layer has it)"
                       if not found else f"grid code {code!r} is in several active layers "
                       f"({', '.join(sorted({f[1] for f in found}))}); choose one with theme")
    return None


def _building(row: Row, look: Lookups) -> int | None:
    address = row.get("building")
    if address is None:
        return None
    ids = look.buildings.get(address, [])
    if len(ids) != 1:
        row.problems.error(row.at, f"no building has the address {address!r}" if not ids
                           else f"{len(ids)} buildings have the address {address!r}")
        return None
    return ids[0]


def _area(row: Row, look: Lookups) -> str | None:
    value = row.get("community")
    if value is None or value in look.areas:
        return value
    code, why = look.communities.resolve(value)
    if code is None:
        row.problems.error(row.at, str(why))
    return code


def _check_row(row: Row, look: Lookups) -> RoleRow | None:
    person, role = _person(row, look), row.required("role", choice, ROLES)
    grid, building, area = _grid(row, look), _building(row, look), _area(row, look)
    start, end = row.get("valid_from", date), row.get("valid_to", date)
    published, work_phone = row.get("published", flag), row.get("work_phone", phone)
    if start and end and end < start:
        row.problems.error(row.at, f"{row.label('valid_to')} {end} is before {start}")
    places = [row.raw(f) for f in ("grid", "building", "community")]
    if all(v is None or not str(v).strip() for v in places):
        row.problems.error(row.at, "no grid, building or community given")
    elif role in NEEDS_GRID and row.get("grid") is None:
        row.problems.error(row.at, f"role {role} needs a grid code")
    elif role in NEEDS_BUILDING and row.get("building") is None:
        row.problems.error(row.at, f"role {role} needs a building address")
    if row.problems.failed(row.at) or person is None or role is None:
        return None
    return RoleRow(row.at, person, role, grid, building, area, start, end, published, work_phone)


def _check(loaded: Loaded, conn: psycopg.Connection, theme: str | None,
           progress: bool) -> list[RoleRow]:
    look = Lookups(conn, loaded, theme)
    seen: dict[object, int] = {}
    checked: list[RoleRow] = []
    for row in loaded.rows(progress):
        r = _check_row(row, look)
        if r is not None:
            key = (r.person_id, r.role, r.grid_id, r.building_id, r.area_code, r.valid_from)
            duplicates(loaded.problems, row.at, key, seen, "assignment")
            checked.append(r)
    return checked


_STAGE = (("pos", "integer"), ("person_id", "integer"), ("role", "text"), ("grid_id", "integer"),
          ("building_id", "integer"), ("area_code", "text"), ("valid_from", "date"),
          ("valid_to", "date"), ("published", "boolean"), ("work_phone", "text"))

_INSERT = """
INSERT INTO role_assignments (person_id, role, grid_id, building_id, area_code, valid_from,
                              valid_to, published, work_phone)
SELECT person_id, role, grid_id, building_id, area_code, coalesce(valid_from, current_date),
       valid_to, coalesce(published, false), work_phone
FROM role_stage s WHERE NOT EXISTS (
    SELECT 1 FROM role_assignments r
    WHERE r.person_id = s.person_id AND r.role = s.role
      AND r.grid_id IS NOT DISTINCT FROM s.grid_id
      AND r.building_id IS NOT DISTINCT FROM s.building_id
      AND r.area_code IS NOT DISTINCT FROM s.area_code
      AND r.valid_from = coalesce(s.valid_from, current_date))
ORDER BY pos
"""


def _write(conn: psycopg.Connection, roles: list[RoleRow]) -> int:
    rows: list[tuple[Any, ...]] = [
        (r.at, r.person_id, r.role, r.grid_id, r.building_id, r.area_code, r.valid_from,
         r.valid_to, r.published, r.work_phone) for r in roles]
    stage(conn, "role_stage", _STAGE, rows)
    with conn.cursor() as cur:
        cur.execute(_INSERT)
        return cur.rowcount


def import_roles(conn: psycopg.Connection, path: str | Path, *, theme: str | None = None,
                 encoding: str | None = None, sheet: str | int | None = None,
                 progress: bool = False, actor: str = "system") -> ImportResult:
    """Import role assignments; nothing is written unless every row is good. ``theme``
    restricts grid codes to the active layer of that theme. Audited as ``import.roles``."""
    loaded = load(path, cols.ROLE, ("name", "role"), crs=None, allowed=None, encoding=encoding,
                  sheet=sheet)
    with conn.transaction():
        roles = _check(loaded, conn, theme, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            n = _write(conn, roles)
            audit_import(conn, actor, "roles", path, count=n, crs=None,
                         repaired=loaded.problems.repaired_count, skipped_existing=len(roles) - n)
    return loaded.problems.result("roles", n, skipped_existing=len(roles) - n)
