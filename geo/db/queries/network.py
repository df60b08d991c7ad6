"""The walk network and the 党群服务中心 of a district, read in bulk (one query each).
Snapping points to the network happens in memory (``geo.lookup.index.EdgeSnapper``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from psycopg import AsyncConnection

from geo.network import Edges

CENTRE = "party_service_center"

EDGES = """
SELECT id, source, target, length_m, ST_AsBinary(geom)
FROM walk_edges WHERE district_code = %(district)s ORDER BY id
"""

CENTRES = f"""
SELECT id, name, address, opening_hours, ST_X(geom), ST_Y(geom)
FROM facilities
WHERE category = '{CENTRE}' AND community_code LIKE %(prefix)s
ORDER BY id
"""


def _params(district: str) -> dict[str, Any]:
    return {"district": district, "prefix": district + "%"}


async def load_edges(conn: AsyncConnection, district: str) -> Edges:
    cur = await conn.execute(EDGES, _params(district))
    return edges_from_rows(await cur.fetchall())


def edges_from_rows(rows: list[tuple[Any, ...]]) -> Edges:
    """``Edges`` from rows of (id, source, target, length_m, WKB), as ``EDGES`` reads them."""
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty, empty, np.zeros(0), [])
    ids, source, target, length, wkb = zip(*rows, strict=True)
    lines = shapely.from_wkb(list(wkb))
    coords, index = shapely.get_coordinates(lines, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    return Edges(np.asarray(ids, dtype=np.int64), np.asarray(source, dtype=np.int64),
                 np.asarray(target, dtype=np.int64), np.asarray(length, dtype=np.float64),
                 np.split(coords, splits))


async def load_centres(conn: AsyncConnection, district: str) -> list[tuple[Any, ...]]:
    """(id, name, address, opening hours, lon, lat) of the district's 党群服务中心."""
    cur = await conn.execute(CENTRES, _params(district))
    return await cur.fetchall()
