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

SOURCE = "osm"


def _stage(conn: psycopg.Connection, name: str, columns: str) -> None:
    # Temp tables go with the transaction; dropping first lets one session import twice
    # inside an outer transaction (as the tests do).
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")


def district_region(conn: psycopg.Connection, code: str) -> Any:
    """The boundary of a district already loaded into ``areas``."""
    row = conn.execute(
        "SELECT ST_AsBinary(geom) FROM areas WHERE code = %s AND level = 'district'", (code,)
    ).fetchone()
    if row is None:
        raise InvalidInput(f"unknown district code {code}: import its boundary into areas first")
    return shapely.from_wkb(bytes(row[0]))


def write_walk_network(
    conn: psycopg.Connection,
    nodes: Sequence[tuple[int, float, float]],
    edges: Sequence[tuple[int, int, float, str, str | None, Any]],
    district_code: str | None,
) -> None:
    """``nodes``: (id, lon, lat); ``edges``: (source, target, length_m, highway, name, line)."""
    _stage(conn, "osm_stage_nodes",
           "id bigint PRIMARY KEY, geom geometry(Point, 4326), district_code varchar(6)")
    if not nodes:
        return
    points = shapely.points([(x, y) for _, x, y in nodes])
    copy_rows(conn, "osm_stage_nodes", ["id", "geom", "district_code"],
              ((n[0], g, district_code) for n, g in zip(nodes, ewkb_hex(points), strict=True)))
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


_BUILDING_COLUMNS = ["address", "name", "households", "floors", "footprint", "geom", "source_id"]


def write_buildings(conn: psycopg.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Rows in ``_BUILDING_COLUMNS`` order with shapely footprint and point."""
    _stage(conn, "osm_stage_buildings",
           "address text, name text, households integer, floors smallint, "
           "footprint geometry(Polygon, 4326), geom geometry(Point, 4326), source_id text")
    if not rows:
        return 0
    footprints = ewkb_hex([r[4] for r in rows])
    points = ewkb_hex([r[5] for r in rows])
    copy_rows(conn, "osm_stage_buildings", _BUILDING_COLUMNS,
              ((*r[:4], f, p, r[6]) for r, f, p in zip(rows, footprints, points, strict=True)))
    cur = conn.execute("""
        INSERT INTO buildings (address, name, households, floors, footprint, geom, source,
                               source_id)
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
    """, (SOURCE,))
    written = cur.rowcount
    _pin_to_communities(conn, "buildings", "osm_stage_buildings")
    return written


_FACILITY_COLUMNS = ["category", "name", "address", "phone", "opening_hours", "geom", "source_id"]


def write_facilities(conn: psycopg.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Rows in ``_FACILITY_COLUMNS`` order with a shapely point."""
    _stage(conn, "osm_stage_facilities",
           "category text, name text, address text, phone text, opening_hours text, "
           "geom geometry(Point, 4326), source_id text")
    if not rows:
        return 0
    points = ewkb_hex([r[5] for r in rows])
    copy_rows(conn, "osm_stage_facilities", _FACILITY_COLUMNS,
              ((*r[:5], p, r[6]) for r, p in zip(rows, points, strict=True)))
    cur = conn.execute("""
        INSERT INTO facilities (category, name, address, phone, opening_hours, geom, source,
                                source_id)
        SELECT category, name, address, phone, opening_hours, geom, %s, source_id
        FROM osm_stage_facilities
        ON CONFLICT (source, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
            category = EXCLUDED.category,
            name = EXCLUDED.name,
            address = COALESCE(EXCLUDED.address, facilities.address),
            phone = COALESCE(EXCLUDED.phone, facilities.phone),
            opening_hours = COALESCE(EXCLUDED.opening_hours, facilities.opening_hours),
            geom = EXCLUDED.geom
    """, (SOURCE,))
    written = cur.rowcount
    _pin_to_communities(conn, "facilities", "osm_stage_facilities")
    return written


def _pin_to_communities(conn: psycopg.Connection, table: str, stage: str) -> None:
    """Set community_code from the community polygon covering each imported point, if any."""
    conn.execute(f"""
        UPDATE {table} t SET community_code = a.code
        FROM {stage} s, areas a
        WHERE t.source = %s AND t.source_id = s.source_id
          AND a.level = 'community' AND ST_Covers(a.geom, t.geom)
    """, (SOURCE,))
