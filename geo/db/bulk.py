"""Bulk writes with COPY: the fast path for imports and the demo city.

Geometries travel as hex EWKB with SRID 4326, which PostGIS parses on input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql


def ewkb_hex(geoms: Any) -> list[str | None]:
    """Hex EWKB (SRID 4326) for each shapely geometry; None stays None."""
    arr = np.asarray(geoms, dtype=object)
    out: list[str | None] = [None] * len(arr)
    present = np.array([g is not None for g in arr], dtype=bool)
    if present.any():
        with_srid = shapely.set_srid(arr[present], 4326)
        hexes = shapely.to_wkb(with_srid, hex=True, include_srid=True)
        for i, h in zip(np.flatnonzero(present), hexes, strict=True):
            out[i] = str(h)
    return out


def copy_rows(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """COPY ``rows`` into ``table``; returns the number of rows written."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    n = 0
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n
