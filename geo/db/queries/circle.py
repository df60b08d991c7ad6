"""What the 一刻钟便民服务圈 of a district reads, in bulk: its walk network, the categories,
the facilities in it or within a walk of its border, and its buildings. Sync and async
callers run the same statements; ``circle_from_rows`` builds the district in memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
from psycopg import AsyncConnection

from geo.circle.district import Category, DistrictCircle, Places
from geo.db.queries.network import EDGES, edges_from_rows
from geo.errors import InvalidInput

REACH_M = 1500  # facilities this far outside the district still serve its edge
CATEGORIES = """
SELECT code, name_zh, service_group, walk_minutes FROM facility_categories ORDER BY code
"""
FACILITIES = f"""
SELECT f.id, f.category, ST_X(f.geom), ST_Y(f.geom)
FROM facilities f, areas a
WHERE a.code = %(district)s
  AND ST_DWithin(a.geom::geography, f.geom::geography, {REACH_M})
ORDER BY f.id
"""
BUILDINGS = """
SELECT b.id, ST_X(b.geom), ST_Y(b.geom), b.households, b.residents, b.community_code,
       g.code
FROM buildings b LEFT JOIN grids g ON g.id = b.grid_id
WHERE b.community_code LIKE %(prefix)s
ORDER BY b.id
"""
STATEMENTS = (EDGES, CATEGORIES, FACILITIES, BUILDINGS)
DISTRICTS = """
SELECT DISTINCT district_code FROM walk_edges WHERE district_code LIKE %s ORDER BY 1
"""


def chosen_district(where: str, with_network: list[str]) -> str:
    """The district a request is about: the first six digits of its area, or, when it names
    none, the only district that has a walk network (``with_network``: their codes)."""
    if len(where) >= 6:
        return where[:6]
    if len(with_network) != 1:
        raise InvalidInput("within: name a district with a walk network (one of "
                           f"{', '.join(with_network) or 'none: import one first'})")
    return with_network[0]


def district_of(conn: psycopg.Connection, where: str) -> str:
    found = [] if len(where) >= 6 else conn.execute(DISTRICTS, [where + "%"]).fetchall()
    return chosen_district(where, [str(r[0]) for r in found])


async def district_of_async(conn: AsyncConnection, where: str) -> str:
    found = [] if len(where) >= 6 else await (await conn.execute(DISTRICTS, [where + "%"])
                                              ).fetchall()
    return chosen_district(where, [str(r[0]) for r in found])


def _params(district: str) -> dict[str, Any]:
    return {"district": district, "prefix": district + "%"}


def _places(rows: list[tuple[Any, ...]], extra: dict[str, int]) -> Places:
    columns = list(zip(*rows, strict=True)) if rows else [()] * (3 + len(extra))
    return Places(np.asarray(columns[0], dtype=np.int64),
                  np.asarray(columns[1], dtype=np.float64),
                  np.asarray(columns[2], dtype=np.float64),
                  {name: np.asarray(columns[i], dtype=object) for name, i in extra.items()})


def circle_from_rows(edges: list[tuple[Any, ...]], categories: list[tuple[Any, ...]],
                     facilities: list[tuple[Any, ...]], buildings: list[tuple[Any, ...]]
                     ) -> DistrictCircle:
    """The district in memory from the rows of ``STATEMENTS`` (facilities as (id, category,
    lon, lat); buildings as (id, lon, lat, households, residents, community, grid))."""
    fac = [(f[0], f[2], f[3], f[1]) for f in facilities]
    places = _places(buildings, {"households": 3, "residents": 4, "community": 5, "grid": 6})
    places.extra["households"] = places.extra["households"].astype(np.int64)
    places.extra["residents"] = places.extra["residents"].astype(np.int64)
    return DistrictCircle(edges_from_rows(edges), [Category(*c) for c in categories],
                          _places(fac, {"category": 3}), places)


def read_circle(conn: psycopg.Connection, district: str) -> DistrictCircle:
    params = _params(district)
    rows = [conn.execute(sql, params).fetchall() for sql in STATEMENTS]
    return circle_from_rows(*rows)


async def read_rows(conn: AsyncConnection, district: str) -> list[list[tuple[Any, ...]]]:
    """The rows of ``STATEMENTS`` (the district is then built off the event loop)."""
    params, out = _params(district), []
    for sql in STATEMENTS:
        cur = await conn.execute(sql, params)
        out.append(await cur.fetchall())
    return out
