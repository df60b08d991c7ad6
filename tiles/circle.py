"""The service circle as vector tiles: every building's footprint (its point where it has
none) with its walking minutes to each category of the circle (``<category>``), how many of
the circle's categories it reaches in time (``reached``) and whether its basic circle is
complete, for choropleths in QGIS or MapLibre. The figures come from the district's circle
in memory (``geo.circle``); only the buildings near the tile are passed to PostGIS, which
joins them to the stored outlines by id, cuts and encodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from geo.circle.answers import Figures
from geo.circle.district import DistrictCircle
from tiles.heat import lonlat_box
from tiles.registry import BUFFER, TILE_EXTENT, WORLD_M
from tiles.sql import TileAddress

LAYER = "circle"
NEAR, NEAR_M = 0.25, 150.0  # buildings this far (of a tile, or metres) beyond the tile
MINZOOM = 14  # as the city's buildings layer
SQL = f"""
WITH tile_box AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env), f AS (
    SELECT ST_AsMVTGeom(coalesce(b.footprint_3857, ST_Transform(b.geom, 3857)), tile_box.env,
                        {TILE_EXTENT}, {BUFFER}, true) AS mvt,
           b.id, v.props
    FROM tile_box, jsonb_each(%(values)s) AS v(id, props)
    JOIN buildings b ON b.id = v.id::int
)
SELECT ST_AsMVT(f, %(name)s, {TILE_EXTENT}, 'mvt') FROM f WHERE mvt IS NOT NULL
"""


def fields(circle: DistrictCircle) -> dict[str, str]:
    out = {"id": "Number", "households": "Number", "reached": "Number",
           "basic_complete": "Boolean"}
    out.update({c.code: "Number" for c in circle.circle()})
    return out


def params(circle: DistrictCircle, kmh: float, prefix: str, tile: TileAddress
           ) -> dict[str, Any]:
    b = circle.buildings
    tile_m = WORLD_M / (1 << tile.z)
    w, s, e, n = lonlat_box(tile, max(NEAR, NEAR_M / tile_m))
    near = np.flatnonzero((b.lon >= w) & (b.lon <= e) & (b.lat >= s) & (b.lat <= n)
                          & circle.in_area(prefix))
    f = Figures.of(circle, kmh, near)
    values = {}
    for k, i in enumerate(near.tolist()):
        props: dict[str, Any] = {c: m for c, m in f.minutes_of(k).items() if m is not None}
        props.update(households=int(b.extra["households"][i]), reached=int(f.reached[k]),
                     basic_complete=bool(f.complete[k]))
        values[str(int(b.ids[i]))] = props
    return {"z": tile.z, "x": tile.x, "y": tile.y, "values": Jsonb(values), "name": LAYER}
