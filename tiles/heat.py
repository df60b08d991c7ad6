"""Heat-map counts as vector tiles: the hexagons of ``/api/v1/heatmap`` (the same counts,
the same suppression) that meet one tile, cut and encoded by PostGIS.

Without a resolution asked for, each zoom gets the one whose hexagons come out roughly 10–30
pixels across (7 up to z10, 8 at z11–12, 9 at z13, 10 from z14). A hexagon belongs to every
tile its bounding box meets (with the tiles' 64-pixel buffer), so fills join across tiles.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
from h3ronpy.vector import cells_bounds_arrays, cells_to_wkb_polygons

from geo.heatmap import HeatQuery
from tiles.registry import BUFFER, TILE_EXTENT
from tiles.sql import TileAddress

LAYER = "heat"
FIELDS = {"cell": "String", "count": "Number", "res": "Number"}
SQL = f"""
WITH tile_box AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env), f AS (
    SELECT ST_AsMVTGeom(ST_Transform(ST_GeomFromWKB(h.wkb, 4326), 3857), tile_box.env,
                        {TILE_EXTENT}, {BUFFER}, true) AS mvt,
           h.cell, h.count, %(res)s AS res
    FROM tile_box, unnest(%(wkb)s::bytea[], %(cells)s::text[], %(counts)s::bigint[])
                   AS h(wkb, cell, count)
)
SELECT ST_AsMVT(f, %(name)s, {TILE_EXTENT}, 'mvt') FROM f WHERE mvt IS NOT NULL
"""


def topics(query: HeatQuery) -> tuple[str, ...]:
    return ("issues",) if query.layer == "issues" else ("buildings", "people")


def zoom_res(z: int) -> int:
    """The H3 resolution drawn at zoom ``z`` when none is asked for."""
    return 7 if z <= 10 else 8 if z <= 12 else 9 if z == 13 else 10


def lonlat_box(tile: TileAddress, margin: float) -> tuple[float, float, float, float]:
    """The tile's box in degrees (west, south, east, north), widened by ``margin`` of its
    size on every side. Web Mercator maps a box to a box, so the corners suffice."""
    n = 1 << tile.z

    def lon(x: float) -> float:
        return x / n * 360.0 - 180.0

    def lat(y: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))

    return (lon(tile.x - margin), lat(tile.y + 1 + margin), lon(tile.x + 1 + margin),
            lat(tile.y - margin))


def in_tile(rows: list[tuple[int, int]], tile: TileAddress) -> list[tuple[int, int]]:
    """The (cell, count) rows whose hexagon's bounding box meets the tile and its buffer."""
    if not rows:
        return []
    cells = np.array([c for c, _ in rows], dtype=np.int64).view(np.uint64)
    bounds = pa.record_batch(cells_bounds_arrays(cells))
    w, s, e, n = lonlat_box(tile, BUFFER / TILE_EXTENT)
    meets = ((bounds.column("minx").to_numpy() <= e) & (bounds.column("maxx").to_numpy() >= w)
             & (bounds.column("miny").to_numpy() <= n) & (bounds.column("maxy").to_numpy() >= s))
    return [row for row, keep in zip(rows, meets.tolist(), strict=True) if keep]


def params(rows: list[tuple[int, int]], res: int, tile: TileAddress) -> dict[str, Any]:
    cells = np.array([c for c, _ in rows], dtype=np.int64).view(np.uint64)
    wkb = pa.array(cells_to_wkb_polygons(cells)).to_pylist() if rows else []
    return {"z": tile.z, "x": tile.x, "y": tile.y, "res": res, "name": LAYER, "wkb": wkb,
            "cells": [format(c, "x") for c, _ in rows], "counts": [n for _, n in rows]}
