"""Coverage indicators as vector tiles: the same values as ``/api/v1/coverage`` (one
computation, ``geo.coverage_geojson``), drawn on the outlines PostGIS cuts for the tile.

The values of a level within an area are worked out once for each caller's role (counts of
people are suppressed by role) and kept until the grids, buildings, people, issues or areas
change; each tile then passes them to one statement that joins them to the stored Web
Mercator outlines by code. MVT properties are flat: each indicator gives ``<key>`` (its
value) and ``<key>_pass`` (true, false, or absent when it cannot be judged); each count
gives ``n_<count>``; ``short`` is how many indicators fall short.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from psycopg.types.json import Jsonb

from geo import coverage
from tiles.registry import BUFFER, TILE_EXTENT
from tiles.sql import TileAddress

TOPICS = ("areas", "grids", "buildings", "people", "issues", "network")  # network: sites
LAYER = "coverage"

_GRIDS = ("grids g JOIN grid_layers l ON l.id = g.layer_id AND l.theme = 'unified' "
          "AND l.status = 'active'")
SQL = """
WITH tile_box AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s) AS wide
), f AS (
    SELECT ST_AsMVTGeom(CASE WHEN %(simplify)s
                             THEN ST_Simplify(g.geom_3857, %(tolerance)s, true)
                             ELSE g.geom_3857 END,
                        tile_box.env, {extent}, {buffer}, true) AS mvt,
           v.code, v.props
    FROM tile_box, jsonb_each(%(values)s) AS v(code, props)
    JOIN {source} ON g.code = v.code {level}
    WHERE g.geom_3857 && tile_box.wide
)
SELECT ST_AsMVT(f, %(name)s, {extent}, 'mvt') FROM f WHERE mvt IS NOT NULL
"""


@cache
def sql(level: str) -> str:
    source = _GRIDS if level == "grid" else "areas g"
    where = "" if level == "grid" else "AND g.level = %(level)s"
    return SQL.format(extent=TILE_EXTENT, buffer=BUFFER, source=source, level=where)


def flat(feature: dict[str, Any]) -> dict[str, Any]:
    """A coverage feature's properties as MVT attributes (nulls left out)."""
    props = feature["properties"]
    out: dict[str, Any] = {"name": props["name"], "level": props["level"]}
    short = 0
    for key, judged in props["indicators"].items():
        out[key] = judged["value"]
        out[f"{key}_pass"] = judged["pass"]
        short += judged["pass"] is False
    out.update({f"n_{key}": n for key, n in props["counts"].items()})
    out["short"] = short
    return {k: v for k, v in out.items() if v is not None}


def params(collection: dict[str, Any], level: str, tile: TileAddress) -> dict[str, Any]:
    values = {f["properties"]["code"]: flat(f) for f in collection["features"]}
    return {"z": tile.z, "x": tile.x, "y": tile.y, "margin": BUFFER / TILE_EXTENT,
            "simplify": tile.z < 14, "tolerance": tile.pixel_m / 2, "level": level,
            "values": Jsonb(values), "name": LAYER}


def fields(indicators: list[coverage.Indicator]) -> dict[str, str]:
    """TileJSON's description of the attributes."""
    out = {"code": "String", "name": "String", "level": "String", "short": "Number"}
    for ind in indicators:
        out[ind.key] = "Number"
        out[f"{ind.key}_pass"] = "Boolean"
    out.update({f"n_{key}": "Number" for key in coverage.SUMMED})
    return out
