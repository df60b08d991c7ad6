"""Import people (the rosters communities keep in spreadsheets); no geometry.

Personal data under PIPL: names, phones, home units, party status. A row whose name and phone
match a person already stored updates that person, so a roster can be re-imported; rows
without a phone are always new people. The home building is found by its exact address and
must exist (import buildings first). Columns we do not know are kept in ``attributes``.

Party status: 在册 (registered here) → ``registered``; 在职党员 (in-service members who report
to their home community) → ``in_service``; 流动党员 → ``mobile``; 群众/团员/empty → none.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.result import ImportResult
from geo.importers.store import audit_import, database_errors, fetch_pairs, stage
from geo.importers.values import BadValue, Row, choice, count, date, phone, text

GENDERS = {"男": "M", "m": "M", "male": "M", "女": "F", "f": "F", "female": "F"}
PARTY_STATUS = {
    "在册": "registered", "在册党员": "registered", "registered": "registered",
    "党员": "registered", "中共党员": "registered", "预备党员": "registered",
    "在职党员": "in_service", "在职": "in_service", "报到党员": "in_service",
    "in_service": "in_service", "流动党员": "mobile", "流动": "mobile", "mobile": "mobile",
}
NOT_MEMBERS = {"群众", "无", "否", "非党员", "共青团员", "团员", "民主党派", "none", "-"}


@dataclass
class PersonRow:
    at: int
    name: str
    phone: str | None
    gender: str | None
    birth_year: int | None
    party_status: str | None
    address: str | None
    home_unit: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


def birth_year(value: Any, label: str) -> int | None:
    """A year (1965), or the year of a date (1965-03-02, an Excel date)."""
    s = text(value)
    if s is None:
        return None
    if isinstance(value, dt.date) or not s.isdigit() or len(s) != 4:
        found = date(value, label)
        year = found.year if found else None
    else:
        year = count(value, label)
    if year is None or not 1900 <= year <= dt.date.today().year:
        raise BadValue(f"{label} {s!r} is not a birth year between 1900 and today")
    return year


def party_status(value: Any, label: str) -> str | None:
    s = text(value)
    if s is None or s.casefold() in NOT_MEMBERS:
        return None
    return choice(s, label, PARTY_STATUS)


def _check_row(row: Row, extra: dict[str, Any]) -> PersonRow | None:
    """``extra``: cells of columns we do not know, kept as attributes."""
    name = row.required("name")
    person = PersonRow(row.at, name or "", row.get("phone", phone),
                       row.get("gender", choice, GENDERS), row.get("birth_year", birth_year),
                       row.get("party_status", party_status), row.get("address"),
                       row.get("home_unit"))
    person.attributes = {h: t for h, v in extra.items() if (t := text(v)) is not None}
    return person if name else None


def _homes(conn: psycopg.Connection, addresses: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    rows = fetch_pairs(conn, "SELECT address, id FROM buildings WHERE address = ANY(%s) "
                       "ORDER BY id", (sorted(addresses),))
    for address, building_id in rows:
        found.setdefault(address, []).append(building_id)
    return found


def _check(loaded: Loaded, conn: psycopg.Connection,
           progress: bool) -> list[tuple[PersonRow, int | None]]:
    frame = loaded.source.frame
    extra = [h for h in frame.columns if h not in loaded.columns.values()]
    seen: dict[object, int] = {}
    people: list[PersonRow] = []
    for row in loaded.rows(progress):
        p = _check_row(row, {str(h): frame.at[row.at, h] for h in extra})
        if p is not None and p.phone is not None:
            duplicates(loaded.problems, row.at, (p.name, p.phone), seen,
                       f"person {p.name} / {p.phone}")
        if p is not None:
            people.append(p)
    homes = _homes(conn, {p.address for p in people if p.address})
    return [(p, _home(loaded, p, homes)) for p in people]


def _home(loaded: Loaded, p: PersonRow, homes: dict[str, list[int]]) -> int | None:
    if p.address is None:
        return None
    ids = homes.get(p.address, [])
    if len(ids) != 1:
        loaded.problems.error(p.at, f"no building has the address {p.address!r}" if not ids
                              else f"{len(ids)} buildings have the address {p.address!r}")
        return None
    return ids[0]


_STAGE = (("pos", "integer"), ("name", "text"), ("phone", "text"), ("gender", "text"),
          ("birth_year", "smallint"), ("party_status", "text"), ("home_building_id", "integer"),
          ("home_unit", "text"), ("attributes", "jsonb"), ("person_id", "integer"))

_MATCH = """
UPDATE people_stage s SET person_id = (
    SELECT min(p.id) FROM people p WHERE p.name = s.name AND p.phone = s.phone)
WHERE s.phone IS NOT NULL
"""
_UPDATE = """
UPDATE people p SET gender = coalesce(s.gender, p.gender),
    birth_year = coalesce(s.birth_year, p.birth_year),
    party_status = coalesce(s.party_status, p.party_status),
    home_building_id = coalesce(s.home_building_id, p.home_building_id),
    home_unit = coalesce(s.home_unit, p.home_unit), attributes = p.attributes || s.attributes
FROM people_stage s WHERE s.person_id = p.id
"""
_INSERT = """
INSERT INTO people (name, phone, gender, birth_year, party_status, home_building_id,
                    home_unit, attributes)
SELECT name, phone, gender, birth_year, party_status, home_building_id, home_unit, attributes
FROM people_stage WHERE person_id IS NULL ORDER BY pos
"""


def _write(conn: psycopg.Connection, people: list[tuple[PersonRow, int | None]]) -> tuple[int, int]:
    rows = [(p.at, p.name, p.phone, p.gender, p.birth_year, p.party_status, home, p.home_unit,
             json.dumps(p.attributes, ensure_ascii=False), None) for p, home in people]
    stage(conn, "people_stage", _STAGE, rows)
    with conn.cursor() as cur:
        cur.execute(_MATCH)
        cur.execute(_UPDATE)
        updated = cur.rowcount
        cur.execute(_INSERT)
        return cur.rowcount, updated


def import_people(conn: psycopg.Connection, path: str | Path, *, encoding: str | None = None,
                  sheet: str | int | None = None, progress: bool = False,
                  actor: str = "system") -> ImportResult:
    """Import a roster of people; nothing is written unless every row is good. A write of
    personal data, audited as ``import.people`` (counts only, no names)."""
    loaded = load(path, cols.PERSON, ("name",), crs=None, allowed=None, encoding=encoding,
                  sheet=sheet)
    with conn.transaction():
        people = _check(loaded, conn, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            inserted, updated = _write(conn, people)
            audit_import(conn, actor, "people", path, count=inserted + updated, crs=None,
                         repaired=loaded.problems.repaired_count, inserted=inserted, updated=updated)
    return loaded.problems.result("people", inserted + updated, inserted=inserted,
                                  updated=updated)
