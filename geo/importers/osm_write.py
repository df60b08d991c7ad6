"""Writing an OSM import: staged with COPY, then merged into the real tables.

Buildings and facilities are upserted on their unique (source, source_id), so a re-import
updates rows in place and keeps their ids, and with them the people, roles and issues that
point at them. Values people maintain by hand win over OSM's silence: households and floors
are only overwritten when the file has a value.

The walk network has no provenance column; an OSM node id is its node id. A re-import deletes
every edge touching a node of the new network, then the nodes left without edges inside the
imported extent, and writes the new network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import shapely

from geo.db.bulk import copy_rows, ewkb_hex
from geo.errors import InvalidInput
from geo.h3cells import fill
from geo.importers.store import stage

SOURCE = "osm"
Columns = Sequence[tuple[str, str]]  # (name, SQL type) of a staging table


def _stage_rows(conn: psycopg.Connection, name: str, columns: Columns,
                rows: Sequence[Sequence[Any]]) -> None:
    """COPY ``rows`` (in ``columns`` order) into a fresh temporary table ``name``; shapely
    values of the geometry columns are sent as EWKB, in one vectorised call per column."""
    geometry = {i for i, (_, kind) in enumerate(columns) if kind.startswith("geometry")}
    encoded = {i: ewkb_hex([r[i] for r in rows]) for i in geometry}
    stage(conn, name, columns,
          ([encoded[i][k] if i in geometry else v for i, v in enumerate(r)]
           for k, r in enumerate(rows)))


def _merge(conn: psycopg.Connection, table: str, columns: Columns,
           rows: Sequence[Sequence[Any]], upsert: str) -> int:
    """Stage ``rows`` and run ``upsert`` (an INSERT … SELECT from the stage ``osm_stage_<table>``
    taking the source as its one parameter); pin what was written to communities."""
    if not rows:
        return 0
    name = f"osm_stage_{table}"
    _stage_rows(conn, name, columns, rows)
    written = conn.execute(upsert, (SOURCE,)).rowcount
    _pin_to_communities(conn, table, name)
    return written


def district_region(conn: psycopg.Connection, code: str) -> Any:
    """The boundary of a district already loaded into ``areas``."""
    row = conn.execute(
        "SELECT ST_AsBinary(geom) FROM areas WHERE code = %s AND level = 'district'", (code,)
    ).fetchone()
    if row is None:
        raise InvalidInput(f"unknown district code {code}: import its boundary into areas first")
    return shapely.from_wkb(bytes(row[0]))


_NODE_COLUMNS = (("id", "bigint PRIMARY KEY"), ("geom", "geometry(Point, 4326)"),
                 ("district_code", "varchar(6)"))


def write_walk_network(
    conn: psycopg.Connection,
    nodes: Sequence[tuple[int, float, float]],
    edges: Sequence[tuple[int, int, float, str, str | None, Any]],
    district_code: str | None,
) -> None:
    """``nodes``: (id, lon, lat); ``edges``: (source, target, length_m, highway, name, line)."""
    if not nodes:
        return
    points = shapely.points([(x, y) for _, x, y in nodes])
    _stage_rows(conn, "osm_stage_nodes", _NODE_COLUMNS,
                [(n[0], p, district_code) for n, p in zip(nodes, points, strict=True)])
    conn.execute("ANALYZE osm_stage_nodes")
    conn.execute("DELETE FROM walk_edges e USING osm_stage_nodes s WHERE e.source = s.id")
    conn.execute("DELETE FROM walk_edges e USING osm_stage_nodes s WHERE e.target = s.id")
    conn.execute("""
        DELETE FROM walk_nodes n
        WHERE n.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 4326) FROM osm_stage_nodes)
          AND NOT EXISTS (SELECT 1 FROM osm_stage_nodes s WHERE s.id = n.id)
          AND NOT EXISTS (SELECT 1 FROM walk_edges e WHERE e.source = n.id)
          AND NOT EXISTS (SELECT 1 FROM walk_edges e WHERE e.target = n.id)
    """)
    conn.execute("""
        INSERT INTO walk_nodes (id, geom, district_code)
        SELECT id, geom, district_code FROM osm_stage_nodes
        ON CONFLICT (id) DO UPDATE SET geom = EXCLUDED.geom, district_code = EXCLUDED.district_code
    """)
    lines = ewkb_hex([e[5] for e in edges])
    copy_rows(conn, "walk_edges",
              ["source", "target", "length_m", "highway", "name", "district_code", "geom"],
              ((*e[:5], district_code, g) for e, g in zip(edges, lines, strict=True)))


_BUILDING_COLUMNS = (("address", "text"), ("name", "text"), ("households", "integer"),
                     ("floors", "smallint"), ("footprint", "geometry(Polygon, 4326)"),
                     ("geom", "geometry(Point, 4326)"), ("source_id", "text"))

_UPSERT_BUILDINGS = """
INSERT INTO buildings (address, name, households, floors, footprint, geom, source, source_id)
SELECT address, name, households, floors, footprint, geom, %s, source_id
FROM osm_stage_buildings
ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
    address = EXCLUDED.address,
    name = EXCLUDED.name,
    households = CASE WHEN EXCLUDED.households > 0 THEN EXCLUDED.households
                      ELSE buildings.households END,
    floors = COALESCE(EXCLUDED.floors, buildings.floors),
    footprint = EXCLUDED.footprint,
    geom = EXCLUDED.geom
"""


def write_buildings(conn: psycopg.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Rows in ``_BUILDING_COLUMNS`` order with shapely footprint and point."""
    written = _merge(conn, "buildings", _BUILDING_COLUMNS, rows, _UPSERT_BUILDINGS)
    fill(conn, "buildings")
    return written


_FACILITY_COLUMNS = (("category", "text"), ("name", "text"), ("address", "text"),
                     ("phone", "text"), ("opening_hours", "text"),
                     ("geom", "geometry(Point, 4326)"), ("source_id", "text"))

_UPSERT_FACILITIES = """
INSERT INTO facilities (category, name, address, phone, opening_hours, geom, source, source_id)
SELECT category, name, address, phone, opening_hours, geom, %s, source_id
FROM osm_stage_facilities
ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
    category = EXCLUDED.category,
    name = EXCLUDED.name,
    address = COALESCE(EXCLUDED.address, facilities.address),
    phone = COALESCE(EXCLUDED.phone, facilities.phone),
    opening_hours = COALESCE(EXCLUDED.opening_hours, facilities.opening_hours),
    geom = EXCLUDED.geom
"""


def write_facilities(conn: psycopg.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Rows in ``_FACILITY_COLUMNS`` order with a shapely point."""
    return _merge(conn, "facilities", _FACILITY_COLUMNS, rows, _UPSERT_FACILITIES)


def _pin_to_communities(conn: psycopg.Connection, table: str, staged: str) -> None:
    """Set community_code from the community polygon covering each imported point, if any."""
    conn.execute(f"""
        UPDATE {table} t SET community_code = a.code
        FROM {staged} s, areas a
        WHERE t.source = %s AND t.source_id = s.source_id
          AND a.level = 'community' AND ST_Covers(a.geom, t.geom)
    """, (SOURCE,))
