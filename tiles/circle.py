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

from geo.circle.district import DistrictCircle, metres_per_minute
from tiles.heat import lonlat_box
from tiles.registry import BUFFER, TILE_EXTENT
from tiles.sql import TileAddress

LAYER = "circle"
NEAR = 0.25  # of a tile: footprints reach this far beyond their points, at any zoom ≥ 12
MINZOOM = 12
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
    w, s, e, n = lonlat_box(tile, NEAR)
    community = b.extra["community"].astype(str)
    near = np.flatnonzero((b.lon >= w) & (b.lon <= e) & (b.lat >= s) & (b.lat <= n)
                          & np.char.startswith(community, prefix))
    per_minute = metres_per_minute(kmh)
    codes = [c.code for c in circle.circle()]
    minutes = {c: circle.walk(c)[0][near] / per_minute for c in codes}
    inside = {c: circle.within(c, kmh)[near] for c in codes}
    complete = circle.basic_complete(kmh)[near]
    values = {}
    for k, i in enumerate(near.tolist()):
        props: dict[str, Any] = {c: round(float(minutes[c][k]), 1) for c in codes
                                 if np.isfinite(minutes[c][k])}
        props.update(households=int(b.extra["households"][i]),
                     reached=sum(bool(inside[c][k]) for c in codes),
                     basic_complete=bool(complete[k]))
        values[str(int(b.ids[i]))] = props
    return {"z": tile.z, "x": tile.x, "y": tile.y, "values": Jsonb(values), "name": LAYER}
