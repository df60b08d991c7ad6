"""H3 cells of points, vectorised (h3ronpy), and stored with the rows they belong to.

Buildings and resident issues carry their cell at resolutions 7–10 (``h3_7`` … ``h3_10``,
migration 0007), so a heat map is a GROUP BY. Writers call ``fill`` (or ``fill_async``) in
their own transaction after writing; rows a writer left without cells (the migration's
trigger clears them whenever a point moves) are found by a partial index and filled the same
way.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from h3ronpy.vector import coordinates_to_cells
from psycopg import AsyncConnection, Connection

RESOLUTIONS = (7, 8, 9, 10)
FINEST = RESOLUTIONS[-1]
TABLES = ("buildings", "resident_issues")
Cells = npt.NDArray[np.int64]


PARALLEL_FROM = 100_000  # points: below this one thread is as quick
_POOL: ThreadPoolExecutor | None = None


def _cells(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], res: int) -> Cells:
    return np.asarray(coordinates_to_cells(lat, lon, res)).view(np.int64)


def cells(lon: npt.ArrayLike, lat: npt.ArrayLike, res: int = FINEST) -> Cells:
    """The H3 cell of each point at ``res``, as int64 (H3 ids leave the top bit clear). Many
    points are cut into one slice per core, binned in threads (h3ronpy releases the GIL)."""
    global _POOL
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    if not len(lon):
        return np.zeros(0, dtype=np.int64)
    cores = os.cpu_count() or 1
    if len(lon) < PARALLEL_FROM or cores == 1:
        return _cells(lon, lat, res)
    if _POOL is None:
        _POOL = ThreadPoolExecutor(cores, thread_name_prefix="h3")
    bounds = np.linspace(0, len(lon), cores + 1).astype(int).tolist()
    parts = _POOL.map(lambda ab: _cells(lon[ab[0]:ab[1]], lat[ab[0]:ab[1]], res),
                      pairwise(bounds))
    return np.concatenate(list(parts))


def all_resolutions(lon: npt.ArrayLike, lat: npt.ArrayLike) -> dict[int, Cells]:
    """The cell of each point at every stored resolution, each found from the point itself:
    H3's coarser cells do not nest exactly, and a hexagon on the map must hold the points it
    counts (a res-10 cell's parent can lie beside the point)."""
    return {r: cells(lon, lat, r) for r in RESOLUTIONS}


def _missing_sql(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"no H3 cells are kept for {table!r}")
    return f"SELECT id, ST_X(geom), ST_Y(geom) FROM {table} WHERE h3_10 IS NULL"


def _update(table: str, rows: list[tuple[Any, ...]]) -> tuple[str, dict[str, Any]]:
    ids = [r[0] for r in rows]
    found = all_resolutions([r[1] for r in rows], [r[2] for r in rows])
    sets = ", ".join(f"h3_{r} = u.h3_{r}" for r in RESOLUTIONS)
    columns = ", ".join(f"%(h3_{r})s::bigint[]" for r in RESOLUTIONS)
    names = ", ".join(f"h3_{r}" for r in RESOLUTIONS)
    sql = (f"UPDATE {table} t SET {sets} FROM unnest(%(ids)s::int[], {columns}) "
           f"AS u(id, {names}) WHERE t.id = u.id")
    return sql, {"ids": ids, **{f"h3_{r}": found[r].tolist() for r in RESOLUTIONS}}


def fill(conn: Connection, table: str) -> int:
    """Give every row of ``table`` without cells its cells; the number of rows filled."""
    rows = conn.execute(_missing_sql(table)).fetchall()
    if rows:
        conn.execute(*_update(table, rows))
    return len(rows)


async def fill_async(conn: AsyncConnection, table: str) -> int:
    cur = await conn.execute(_missing_sql(table))
    rows = await cur.fetchall()
    if rows:
        await conn.execute(*_update(table, rows))
    return len(rows)
