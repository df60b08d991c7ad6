"""The overlay's inputs from database rows: every layer's grids, the communities and the
buildings, in the metric CRS of the area (its CGCS2000 Gauss-Krüger zone), with each
building's grid in every layer found once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.crs import metric_epsg, to_metric
from geo.merge.overlay import Geoms, Ints, Layer, homes


@dataclass(frozen=True)
class Inputs:
    layers: list[Layer]
    communities: Geoms  # the district's
    own: npt.NDArray[np.bool_]  # which of them are the area's
    building_ids: Ints
    buildings: Geoms
    households: Ints
    epsg: int


def _geoms(wkb: list[bytes], epsg: int) -> Geoms:
    if not wkb:
        return np.empty(0, dtype=object)
    geoms = np.asarray(to_metric(shapely.from_wkb(wkb), epsg), dtype=object)
    bad = ~shapely.is_valid(geoms)
    geoms[bad] = shapely.make_valid(geoms[bad])  # a projected edge can cross a near one
    return geoms


def inputs(themes: list[str], grids: list[tuple[Any, ...]], communities: list[tuple[Any, ...]],
           buildings: list[tuple[Any, ...]]) -> Inputs:
    """``grids`` as (theme, code, WKB), ``communities`` as (code, WKB, the area's own?),
    ``buildings`` as (id, WKB point, households); lon/lat in, metres out."""
    first = shapely.from_wkb(communities[0][1] if communities else grids[0][2])
    epsg = metric_epsg(shapely.centroid(first).x)
    points = _geoms([b[1] for b in buildings], epsg)
    layers = []
    for theme in themes:
        mine = [g for g in grids if g[0] == theme]
        geoms = _geoms([g[2] for g in mine], epsg)
        layers.append(Layer(theme, [str(g[1]) for g in mine], geoms, homes(geoms, points)))
    return Inputs(layers, _geoms([c[1] for c in communities], epsg),
                  np.array([bool(c[2]) for c in communities], dtype=bool),
                  np.array([b[0] for b in buildings], dtype=np.int64), points,
                  np.array([b[2] for b in buildings], dtype=np.int64), epsg)
