"""Import buildings (楼栋): address, households, residents, floors, and a footprint or a point.

A polygon becomes the footprint and its point-on-surface the building's point; a point is
the point. The community comes from a 社区编码 column, else from the community polygon that
covers the point; the grid is the active unified (综合) grid of that community containing the
point (see ``places``), else none, with a warning when unified grids are there.
Rows with an id column (楼栋编码/编号/id) are matched on (source, id), so re-importing a
file updates its buildings instead of doubling them; ``source`` defaults to the file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
import shapely

from geo.db.bulk import ewkb_hex
from geo.h3cells import fill
from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.geometry import POINT, POLYGONAL, largest_polygon
from geo.importers.places import locate, no_grid
from geo.importers.result import ImportResult
from geo.importers.store import Communities, audit_import, database_errors, fetch_pairs, stage
from geo.importers.values import Row, count

MAX_FLOORS = 200


@dataclass
class BuildingRow:
    at: int
    address: str
    name: str | None
    households: int | None
    residents: int | None
    floors: int | None
    community: str | None
    source_id: str | None


def _check_row(row: Row, communities: Communities) -> BuildingRow | None:
    address, name = row.required("address"), row.get("name")
    households, residents = row.get("households", count), row.get("residents", count)
    floors, source_id = row.get("floors", count), row.get("source_id")
    if floors is not None and not 1 <= floors <= MAX_FLOORS:
        row.problems.error(row.at, f"{row.label('floors')} {floors} is not between 1 and "
                           f"{MAX_FLOORS}")
    community = row.get("community")
    if community is not None:
        community, why = communities.resolve(community)
        if why:
            row.problems.error(row.at, why)
    if address is None:
        return None
    return BuildingRow(row.at, address, name, households, residents, floors, community,
                       source_id)


def _check(loaded: Loaded, conn: psycopg.Connection, progress: bool) -> list[BuildingRow]:
    communities = Communities(conn)
    ids: dict[object, int] = {}
    addresses: dict[str, int] = {}
    checked: list[BuildingRow] = []
    for row in loaded.rows(progress):
        b = _check_row(row, communities)
        if b is None:
            continue
        if b.source_id is not None:
            duplicates(loaded.problems, row.at, b.source_id, ids, f"id {b.source_id}")
        if b.address in addresses:
            first = loaded.problems.labels[addresses[b.address]]
            loaded.problems.warn(row.at, f"address {b.address!r} also at {first}: people "
                                 "cannot be matched to it by address")
        addresses.setdefault(b.address, row.at)
        checked.append(b)
    return checked


def _shapes(loaded: Loaded, b: BuildingRow) -> tuple[shapely.Geometry | None, shapely.Geometry]:
    assert loaded.geoms is not None
    g = loaded.geoms[b.at]
    if g.geom_type == "Point":
        return None, g
    footprint = largest_polygon(g)
    assert footprint is not None  # ``prepare`` lets only non-empty polygons through
    if footprint is not g:
        loaded.problems.warn(b.at, f"footprint has {len(shapely.get_parts(g))} parts: "
                             "the largest is kept")
    return footprint, shapely.point_on_surface(footprint)


_STAGE = (("pos", "integer"), ("address", "text"), ("name", "text"), ("households", "integer"),
          ("residents", "integer"), ("floors", "integer"), ("community_code", "text"),
          ("spatial_community", "text"), ("grid_id", "integer"), ("footprint", "geometry"),
          ("geom", "geometry"), ("source_id", "text"))

_INSERT = """
INSERT INTO buildings (address, name, households, residents, floors, community_code, grid_id,
                       footprint, geom, source, source_id)
SELECT address, name, coalesce(households, 0), coalesce(residents, 0), floors, community_code,
       grid_id, footprint, geom, %s, source_id
FROM building_stage ORDER BY pos
ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
    address = EXCLUDED.address, name = EXCLUDED.name, households = EXCLUDED.households,
    residents = EXCLUDED.residents, floors = EXCLUDED.floors,
    community_code = EXCLUDED.community_code, grid_id = EXCLUDED.grid_id,
    footprint = EXCLUDED.footprint, geom = EXCLUDED.geom
RETURNING (xmax = 0)
"""


def _stage_rows(loaded: Loaded, buildings: list[BuildingRow]) -> list[tuple[object, ...]]:
    shapes = [_shapes(loaded, b) for b in buildings]
    footprints = ewkb_hex([f for f, _ in shapes])
    points = ewkb_hex([p for _, p in shapes])
    return [(b.at, b.address, b.name, b.households, b.residents, b.floors, b.community, None,
             None, f, p, b.source_id)
            for b, f, p in zip(buildings, footprints, points, strict=True)]


def import_buildings(conn: psycopg.Connection, path: str | Path, *, crs: str = "wgs84",
                     source: str | None = None, encoding: str | None = None,
                     sheet: str | int | None = None, progress: bool = False,
                     actor: str = "system") -> ImportResult:
    """Import building footprints or points; nothing is written unless every row is good.
    Audited as ``import.buildings``."""
    loaded = load(path, cols.BUILDING, ("address",), crs=crs, allowed=POINT + POLYGONAL,
                  encoding=encoding, sheet=sheet)
    with conn.transaction():
        buildings = _check(loaded, conn, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            stage(conn, "building_stage", _STAGE, _stage_rows(loaded, buildings))
            locate(conn, "building_stage", loaded.problems, grid=True)
            ungridded = no_grid(conn, "building_stage")
            source = source or loaded.source.name
            inserted = [r[0] for r in fetch_pairs(conn, _INSERT, (source,))]
            fill(conn, "buildings")
            audit_import(conn, actor, "buildings", path, count=len(inserted), crs=loaded.crs,
                         repaired=loaded.problems.repaired_count, source=source,
                         inserted=sum(inserted), updated=len(inserted) - sum(inserted),
                         without_grid=ungridded)
    return loaded.problems.result("buildings", len(inserted), inserted=sum(inserted),
                                  updated=len(inserted) - sum(inserted), without_grid=ungridded)
