"""Tile SQL: one parameterised template per kind of layer (ST_TileEnvelope, ST_AsMVTGeom,
ST_AsMVT), filled only with the registry's fixed text; the tile address and the layer's
options are bound parameters."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tiles.registry import BUFFER, LAYERS, MAX_ZOOM, TILE_EXTENT, WORLD_M, TileLayer

FEATURES = """
WITH tile_box AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s) AS wide
), f AS (
    SELECT ST_AsMVTGeom({geom}, tile_box.env, {extent}, {buffer}, true) AS mvt, {columns}
    FROM tile_box, {source}
    WHERE {column} && tile_box.wide AND ({where}) AND (%(detailed)s OR ({low_zoom_where}))
)
SELECT ST_AsMVT(f, %(name)s, {extent}, 'mvt') FROM f WHERE mvt IS NOT NULL
"""

# Resident issues as counts per square cell (1/32 of the tile): where things concentrate,
# never who reported what. Cells below the suppression floor are left out.
CELLS = """
WITH tile_box AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env), c AS (
    SELECT floor(ST_X({column}) / %(cell)s) AS cx, floor(ST_Y({column}) / %(cell)s) AS cy,
           count(*) AS issues,
           count(*) FILTER (WHERE i.status NOT IN ('resolved', 'feedback_published', 'closed'))
               AS open
    FROM tile_box, {source}
    WHERE {column} && tile_box.env
    GROUP BY 1, 2
    HAVING count(*) >= %(floor)s
), f AS (
    SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint((cx + 0.5) * %(cell)s,
                                                (cy + 0.5) * %(cell)s), 3857),
                        tile_box.env, {extent}, 0, true) AS mvt, issues, open
    FROM c, tile_box
)
SELECT ST_AsMVT(f, %(name)s, {extent}, 'mvt') FROM f WHERE mvt IS NOT NULL
"""


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    def valid(self) -> bool:
        if not 0 <= self.z <= MAX_ZOOM:  # first: 1 << z of a huge z would not end
            return False
        n = 1 << self.z
        return 0 <= self.x < n and 0 <= self.y < n

    @property
    def pixel_m(self) -> float:
        """The size of one of the tile's pixels (1/4096 of its width), in Web Mercator m."""
        return WORLD_M / (1 << self.z) / TILE_EXTENT


@cache
def template(name: str, simplified: bool) -> str:
    """The SQL text of a registered layer (cached: the same text every time, so the server
    can keep its plan)."""
    layer = LAYERS[name]
    if layer.aggregate:
        return CELLS.format(column=layer.geom, source=layer.source, extent=TILE_EXTENT)
    geom = f"ST_Simplify({layer.geom}, %(tolerance)s, true)" if simplified else layer.geom
    return FEATURES.format(geom=geom, column=layer.geom, columns=layer.columns,
                           source=layer.source, where=layer.where, extent=TILE_EXTENT,
                           buffer=BUFFER, low_zoom_where=layer.low_zoom_where)


def statement(layer: TileLayer, tile: TileAddress, theme: str, generation: int | None,
              floor: int) -> tuple[str, dict[str, Any]]:
    """The SQL and its parameters for one tile of ``layer``."""
    params: dict[str, Any] = {
        "z": tile.z, "x": tile.x, "y": tile.y, "name": layer.name,
        "margin": BUFFER / TILE_EXTENT, "detailed": tile.z >= layer.detail_zoom,
        "theme": theme, "generation": generation,
        "tolerance": tile.pixel_m / 2, "cell": tile.pixel_m * TILE_EXTENT / 32,
        "floor": max(floor, 1),
    }
    return template(layer.name, tile.z < layer.simplify_below), params
