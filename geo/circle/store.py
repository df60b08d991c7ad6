"""Writing a district's walks to ``building_walks`` and ``circle_runs`` (migration 0008):
one transaction per district, under an advisory lock so that two processes working the same
district out never interleave their rows (the server does it in the background, the CLI
in the foreground)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg

from geo.circle.district import DistrictCircle

LOCK = "SELECT pg_advisory_xact_lock(hashtext('gridgov.circle.' || %s))"
CLEAR = "DELETE FROM building_walks WHERE building_id = ANY(%s)"
COPY = "COPY building_walks (building_id, category, walk_m, straight_m, facility_id) FROM STDIN"
RUN = """
INSERT INTO circle_runs (district_code, junctions, edges, pieces, buildings, facilities)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (district_code) DO UPDATE SET computed_at = now(), junctions = EXCLUDED.junctions,
    edges = EXCLUDED.edges, pieces = EXCLUDED.pieces, buildings = EXCLUDED.buildings,
    facilities = EXCLUDED.facilities
"""


def _finite(values: np.ndarray) -> list[float | None]:
    return [round(v, 1) if np.isfinite(v) else None for v in values.tolist()]


def rows(circle: DistrictCircle) -> Iterator[tuple[Any, ...]]:
    ids = circle.buildings.ids.tolist()
    for category in circle.categories:
        metres, facility = circle.walk(category)
        straight = _finite(circle.straight(category))
        for b, m, s, f in zip(ids, _finite(metres), straight, facility.tolist(), strict=True):
            yield b, category, m, s, f if f >= 0 else None


def _run(circle: DistrictCircle, district: str) -> tuple[Any, ...]:
    g = circle.graph
    return (district, g.n, len(g.length), len(g.components()), len(circle.buildings),
            len(circle.facilities))


def store(conn: psycopg.Connection, district: str, circle: DistrictCircle) -> None:
    with conn.transaction():
        conn.execute(LOCK, [district])
        conn.execute(CLEAR, [circle.buildings.ids.tolist()])
        with conn.cursor().copy(COPY) as copy:
            for row in rows(circle):
                copy.write_row(row)
        conn.execute(RUN, _run(circle, district))
