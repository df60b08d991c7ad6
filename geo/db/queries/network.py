"""The walk network and the 党群服务中心 of a district, read in bulk (one query each).

Snapping to an edge: the index orders candidates by ``<->`` (degrees, the only KNN the GiST
index offers), the few nearest are re-ranked by their distance in metres (geography), since
one degree of longitude is shorter than one of latitude away from the equator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from psycopg import AsyncConnection

from geo.network import Edges, Site, Snap

CENTRE = "party_service_center"
SNAP_CANDIDATES = 8

EDGES = """
SELECT id, source, target, length_m, ST_AsBinary(geom)
FROM walk_edges WHERE district_code = %(district)s ORDER BY id
"""

CENTRES = f"""
SELECT f.id, f.name, f.address, f.opening_hours, ST_X(f.geom), ST_Y(f.geom),
       s.id, s.t, s.d
FROM facilities f
LEFT JOIN LATERAL (
    SELECT c.id, ST_LineLocatePoint(c.geom, f.geom) AS t,
           ST_Distance(c.geom::geography, f.geom::geography) AS d
    FROM (SELECT e.id, e.geom FROM walk_edges e WHERE e.district_code = %(district)s
          ORDER BY e.geom <-> f.geom LIMIT {SNAP_CANDIDATES}) c
    ORDER BY d, c.id LIMIT 1
) s ON TRUE
WHERE f.category = '{CENTRE}' AND f.community_code LIKE %(prefix)s
ORDER BY f.id
"""

# What the cache compares to know whether its graph is stale: any insert, delete, or change of
# an edge's length or ends, and any change to a centre (cheap: a few thousand rows).
VERSION = f"""
SELECT (SELECT json_build_array(count(*), max(id), sum(length_m), sum(source + target))
        FROM walk_edges WHERE district_code = %(district)s)::text
    || (SELECT md5(coalesce(string_agg(concat_ws('|', id, name, address, opening_hours,
                                                  ST_AsEWKB(geom)), ',' ORDER BY id), ''))
        FROM facilities WHERE category = '{CENTRE}' AND community_code LIKE %(prefix)s)
"""


@dataclass(frozen=True)
class Centre:
    """A 党群服务中心 as the public sees it, plus where it meets the network."""

    site: Site
    name: str
    address: str | None
    opening_hours: str | None


def _params(district: str) -> dict[str, Any]:
    return {"district": district, "prefix": district + "%"}


async def load_edges(conn: AsyncConnection, district: str) -> Edges:
    cur = await conn.execute(EDGES, _params(district))
    rows = await cur.fetchall()
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


async def load_centres(conn: AsyncConnection, district: str) -> list[Centre]:
    cur = await conn.execute(CENTRES, _params(district))
    out = []
    for fid, name, address, hours, lon, lat, edge, t, d in await cur.fetchall():
        snap = Snap(int(edge), float(t), float(d)) if edge is not None else None
        out.append(Centre(Site(int(fid), float(lon), float(lat), snap), name, address, hours))
    return out


async def version(conn: AsyncConnection, district: str) -> str:
    cur = await conn.execute(VERSION, _params(district))
    row = await cur.fetchone()
    return str(row[0]) if row else ""
