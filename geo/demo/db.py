"""Small database helpers shared by the demo writers."""

from __future__ import annotations

import numpy as np
import psycopg
import shapely

from geo.crs import from_metric


def as_multi(g: shapely.Geometry) -> shapely.Geometry:
    return g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])


def to_wgs(geoms: list, epsg: int) -> list:
    return list(from_metric(np.array(geoms, dtype=object), epsg))


def next_ids(conn: psycopg.Connection, table: str, n: int) -> np.ndarray:
    start = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # type: ignore[index]
    return np.arange(start + 1, start + 1 + n)


def fix_sequence(conn: psycopg.Connection, table: str) -> None:
    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                 f"greatest((SELECT max(id) FROM {table}), 1))")
