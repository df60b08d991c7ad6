"""Import districts, streets and communities (区县 / 街道 / 社区).

A code has 6, 9 or 12 digits; its length gives the level when the file has no level column,
and its prefix gives the parent (the first 6 digits for a street, 9 for a community), which
must be in the database already or anywhere in the same file. An area whose code exists is
updated (name, geometry, parent, counts), so a corrected boundary file can be re-imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from geo.db.bulk import ewkb_hex
from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.geometry import POLYGONAL, as_multipolygon
from geo.importers.result import ImportResult
from geo.importers.store import area_levels, audit_import, database_errors, stage
from geo.importers.values import LEVEL_BY_LENGTH, Row, area_code, choice, count

LEVELS = {
    "district": "district", "区": "district", "县": "district", "区县": "district",
    "县级市": "district", "street": "street", "街道": "street", "乡镇": "street", "镇": "street",
    "乡": "street", "community": "community", "社区": "community", "村": "community",
    "居委会": "community", "村委会": "community",
}


@dataclass
class AreaRow:
    at: int
    code: str
    name: str
    level: str
    parent: str | None
    households: int | None
    residents: int | None


def parent_of(code: str) -> str | None:
    return {6: None, 9: code[:6], 12: code[:9]}[len(code)]


def _check_row(row: Row) -> AreaRow | None:
    code = row.required("code", area_code)
    name = row.required("name")
    level = row.get("level", choice, LEVELS)
    given_parent = row.get("parent", area_code)
    households, residents = row.get("households", count), row.get("residents", count)
    if code is None or name is None:
        return None
    inferred = LEVEL_BY_LENGTH[len(code)]
    if level is not None and level != inferred:
        row.problems.error(row.at, f"{row.label('level')} {level!r} does not match code "
                           f"{code} ({len(code)} digits = {inferred})")
    parent = parent_of(code)
    if given_parent is not None and given_parent != parent:
        row.problems.error(row.at, f"{row.label('parent')} {given_parent} is not the prefix "
                           f"of code {code} (expected {parent or 'none for a district'})")
    return AreaRow(row.at, code, name, inferred, parent, households, residents)


def _check(loaded: Loaded, conn: psycopg.Connection, progress: bool) -> list[AreaRow]:
    problems = loaded.problems
    seen: dict[object, int] = {}
    checked: list[AreaRow] = []
    for row in loaded.rows(progress):
        area = _check_row(row)
        if area is None:
            continue
        duplicates(problems, row.at, area.code, seen, f"code {area.code}")
        checked.append(area)
    known = area_levels(conn)
    in_file = {a.code for a in checked}
    for a in checked:
        if a.parent and a.parent not in known and a.parent not in in_file:
            problems.error(a.at, f"parent area {a.parent} of {a.code} is neither in the "
                           "database nor in the file")
    return checked


_STAGE = (("code", "text"), ("name", "text"), ("level", "text"), ("parent_code", "text"),
          ("geom", "geometry"), ("households", "integer"), ("residents", "integer"))

_UPSERT = """
INSERT INTO areas (code, name, level, parent_code, geom, households, residents, source)
SELECT code, name, level, parent_code, ST_Multi(geom), households, residents, %s
FROM area_stage ORDER BY length(code), code
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
    geom = EXCLUDED.geom, source = EXCLUDED.source,
    households = COALESCE(EXCLUDED.households, areas.households),
    residents = COALESCE(EXCLUDED.residents, areas.residents)
RETURNING code, (xmax = 0)
"""


def _write(conn: psycopg.Connection, loaded: Loaded,
           areas: list[AreaRow]) -> list[tuple[str, bool]]:
    """(code, inserted) for every area written."""
    assert loaded.geoms is not None
    geoms = ewkb_hex([as_multipolygon(loaded.geoms[a.at]) for a in areas])
    rows = ((a.code, a.name, a.level, a.parent, g, a.households, a.residents)
            for a, g in zip(areas, geoms, strict=True))
    stage(conn, "area_stage", _STAGE, rows)
    with conn.cursor() as cur:
        cur.execute(_UPSERT, (loaded.problems.source,))
        return [(code, bool(new)) for code, new in cur.fetchall()]


def import_areas(conn: psycopg.Connection, path: str | Path, *, crs: str = "wgs84",
                 encoding: str | None = None, sheet: str | int | None = None,
                 progress: bool = False, actor: str = "system") -> ImportResult:
    """Import area polygons (district / street / community); nothing is written unless
    every feature is good. Existing codes are updated. Audited as ``import.areas``."""
    loaded = load(path, cols.AREA, ("code", "name"), crs=crs, allowed=POLYGONAL,
                  encoding=encoding, sheet=sheet)
    with conn.transaction():
        areas = _check(loaded, conn, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            written = _write(conn, loaded, areas)
            inserted = sum(new for _, new in written)
            updated = len(written) - inserted
            audit_import(conn, actor, "areas", path, count=len(written), crs=loaded.crs,
                         repaired=loaded.problems.repaired_count,
                         codes=[code for code, _ in written], inserted=inserted, updated=updated)
    return loaded.problems.result("areas", inserted + updated, inserted=inserted,
                                  updated=updated)
