"""Import service facilities (党群服务中心, 菜市场, 便利店, 药店 …) as points.

The category is a code, a Chinese name or an alias known to ``geo.categories``, or a row a
planner added to ``facility_categories``. A polygon (a market hall drawn as an outline) is
accepted and stored as its point-on-surface, with a warning. The community comes from a
社区编码 column, else from the community polygon that covers the point. Rows with an id
column are matched on (source, id), so re-importing a file updates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
import shapely

from geo import categories
from geo.db.bulk import ewkb_hex
from geo.errors import InvalidInput
from geo.hours import off_hours, to_osm
from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.geometry import POINT, POLYGONAL
from geo.importers.places import locate
from geo.importers.result import ImportResult
from geo.importers.store import Communities, audit_import, database_errors, fetch_pairs, stage
from geo.importers.values import Row, number


@dataclass
class FacilityRow:
    at: int
    category: str
    name: str
    address: str | None
    phone: str | None
    opening_hours: str | None
    floor_area_m2: float | None
    community: str | None
    source_id: str | None


class Categories:
    """Category codes from ``geo.categories`` and the database (codes and Chinese names)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        rows = fetch_pairs(conn, "SELECT code, name_zh FROM facility_categories")
        self.known = {code: code for code, _ in rows} | {name: code for code, name in rows}

    def resolve(self, value: str) -> str | None:
        return categories.resolve(value) or self.known.get(value.strip())


def _check_row(row: Row, known: Categories, communities: Communities) -> FacilityRow | None:
    raw_category, name = row.required("category"), row.required("name")
    category = known.resolve(raw_category) if raw_category else None
    if raw_category and category is None:
        examples = "、".join(c.name_zh for c in categories.CATEGORIES[:8])
        row.problems.error(row.at, f"unknown category {raw_category!r} (known e.g. {examples} …)")
    area = row.get("floor_area_m2", number)
    if area is not None and area <= 0:
        row.problems.error(row.at, f"{row.label('floor_area_m2')} {area:g} must be positive")
    community = row.get("community")
    if community is not None:
        community, why = communities.resolve(community)
        if why:
            row.problems.error(row.at, why)
    hours = row.get("opening_hours")
    if hours is not None:
        try:
            hours = to_osm(hours)
        except InvalidInput as exc:
            row.problems.error(row.at, f"{row.label('opening_hours')}: {exc}")
    if category is None or name is None:
        return None
    return FacilityRow(row.at, category, name, row.get("address"), row.get("phone"),
                       hours, area, community, row.get("source_id"))


def _check(loaded: Loaded, conn: psycopg.Connection, progress: bool) -> list[FacilityRow]:
    known, communities = Categories(conn), Communities(conn)
    ids: dict[object, int] = {}
    checked: list[FacilityRow] = []
    for row in loaded.rows(progress):
        f = _check_row(row, known, communities)
        if f is None:
            continue
        if f.source_id is not None:
            duplicates(loaded.problems, row.at, f.source_id, ids, f"id {f.source_id}")
        checked.append(f)
    return checked


def _point(loaded: Loaded, at: int) -> shapely.Geometry:
    assert loaded.geoms is not None
    g = loaded.geoms[at]
    if g.geom_type == "Point":
        return g
    loaded.problems.warn(at, f"{g.geom_type}: stored as its point on surface")
    return shapely.point_on_surface(g)


_STAGE = (("pos", "integer"), ("category", "text"), ("name", "text"), ("address", "text"),
          ("phone", "text"), ("opening_hours", "text"), ("off_hours", "boolean"),
          ("floor_area_m2", "numeric"),
          ("community_code", "text"), ("spatial_community", "text"), ("geom", "geometry"),
          ("source_id", "text"))

_INSERT = """
INSERT INTO facilities (category, name, address, phone, opening_hours, off_hours_service,
                        floor_area_m2, community_code, geom, source, source_id)
SELECT category, name, address, phone, opening_hours, coalesce(off_hours, false),
       floor_area_m2, community_code, geom, %s, source_id
FROM facility_stage ORDER BY pos
ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
    category = EXCLUDED.category, name = EXCLUDED.name, address = EXCLUDED.address,
    phone = EXCLUDED.phone, opening_hours = EXCLUDED.opening_hours,
    off_hours_service = EXCLUDED.off_hours_service,
    floor_area_m2 = EXCLUDED.floor_area_m2, community_code = EXCLUDED.community_code,
    geom = EXCLUDED.geom
RETURNING (xmax = 0)
"""


def _stage_rows(loaded: Loaded, facilities: list[FacilityRow]) -> list[tuple[object, ...]]:
    points = ewkb_hex([_point(loaded, f.at) for f in facilities])
    return [(f.at, f.category, f.name, f.address, f.phone, f.opening_hours,
             off_hours(f.opening_hours) if f.opening_hours else None, f.floor_area_m2,
             f.community, None, p, f.source_id) for f, p in zip(facilities, points, strict=True)]


def import_facilities(conn: psycopg.Connection, path: str | Path, *, crs: str = "wgs84",
                      source: str | None = None, encoding: str | None = None,
                      sheet: str | int | None = None, progress: bool = False,
                      actor: str = "system") -> ImportResult:
    """Import facility points; nothing is written unless every row is good. Audited as
    ``import.facilities``."""
    loaded = load(path, cols.FACILITY, ("category", "name"), crs=crs,
                  allowed=POINT + POLYGONAL, encoding=encoding, sheet=sheet)
    with conn.transaction():
        categories.ensure_categories(conn)
        facilities = _check(loaded, conn, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            stage(conn, "facility_stage", _STAGE, _stage_rows(loaded, facilities))
            locate(conn, "facility_stage", loaded.problems, grid=False)
            source = source or loaded.source.name
            inserted = [r[0] for r in fetch_pairs(conn, _INSERT, (source,))]
            audit_import(conn, actor, "facilities", path, count=len(inserted), crs=loaded.crs,
                         repaired=loaded.problems.repaired_count, source=source,
                         inserted=sum(inserted), updated=len(inserted) - sum(inserted))
    return loaded.problems.result("facilities", len(inserted), inserted=sum(inserted),
                                  updated=len(inserted) - sum(inserted))
