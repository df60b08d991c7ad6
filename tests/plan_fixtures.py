"""Tiny synthetic planning scopes near Tongren (109.19°E, 27.72°N) for the pure plan tests.

Shapes are drawn in local metres from an origin and mapped to lon/lat by scaling alone
(metres per degree at the origin). Axis-parallel edges therefore stay exactly axis-parallel in
lon/lat, and a vertex drawn on a neighbour's edge lies exactly on it, as in stored grids that
share their edges. The code under test measures in the Gauss-Krüger zone, which is conformal:
there the drawn shapes keep their areas to ~1e-4 and their shapes, only turned by the
meridian convergence (~0.55°), so locations are checked back in the local metres.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_epsg, metric_transformer, to_metric
from geo.plan.model import PlanBuilding, PlanGrid, Scope

LON0, LAT0 = 109.19, 27.72
EPSG = metric_epsg(LON0)
COMMUNITY = "520602001001"
SIZE = 400.0  # the community is a SIZE × SIZE square
HALF = SIZE / 2


def _degrees_per_metre() -> np.ndarray:
    d = 1e-4
    x, y = metric_transformer(EPSG).transform([LON0 - d, LON0 + d, LON0, LON0],
                                              [LAT0, LAT0, LAT0 - d, LAT0 + d])
    per_lon = math.hypot(x[1] - x[0], y[1] - y[0]) / (2 * d)
    per_lat = math.hypot(x[3] - x[2], y[3] - y[2]) / (2 * d)
    return np.array([1 / per_lon, 1 / per_lat])


SCALE = _degrees_per_metre()
ORIGIN = np.array([LON0, LAT0])


def lonlat(metric_geom: BaseGeometry) -> BaseGeometry:
    """A geometry drawn in local metres, as lon/lat."""
    return shapely.transform(metric_geom, lambda xy: xy * SCALE + ORIGIN)


def metres(geom: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry back in local metres."""
    return shapely.transform(geom, lambda xy: (xy - ORIGIN) / SCALE)


def box(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    return lonlat(shapely.box(x0, y0, x1, y1))


def point(x: float, y: float) -> BaseGeometry:
    return lonlat(shapely.Point(x, y))


def area_m2(geom: BaseGeometry) -> float:
    return float(shapely.area(to_metric(geom, EPSG)))


def code(seq: int, community: str = COMMUNITY) -> str:
    return f"{community}{seq:03d}"


def grid(seq: int, geom: BaseGeometry, kind: str = "base", dedicated_type: str | None = None,
         community: str = COMMUNITY) -> PlanGrid:
    return PlanGrid(key=seq, code=code(seq, community), name=f"grid {seq}", kind=kind,
                    dedicated_type=dedicated_type, community_code=community, geom=geom)


# The four quarters of the community, numbered west→east, north→south.
QUARTERS = {1: (0, HALF, HALF, SIZE), 2: (HALF, HALF, SIZE, SIZE),
            3: (0, 0, HALF, HALF), 4: (HALF, 0, SIZE, HALF)}


def quarter_centre(seq: int) -> tuple[float, float]:
    x0, y0, x1, y1 = QUARTERS[seq]
    return (x0 + x1) / 2, (y0 + y1) / 2


def buildings_for(seq: int, households: int = 400, start: int = 0, count: int = 4,
                  heads: int = 0) -> list[PlanBuilding]:
    """``count`` buildings spread inside quarter ``seq`` (assigned to it), sharing
    ``households``; the first ``heads`` have a building head."""
    cx, cy = quarter_centre(seq)
    each, extra = divmod(households, count)
    return [PlanBuilding(id=start + k, point=point(cx - 60 + 40 * k, cy + 10 * (k % 2)),
                         households=each + (k < extra), grid=seq, has_head=k < heads,
                         community_code=COMMUNITY)
            for k in range(count)]


def tiling(**overrides: BaseGeometry) -> Scope:
    """The community cut into four 200 m quarters, 400 households each (buildings 100+)."""
    geoms = {seq: box(*bounds) for seq, bounds in QUARTERS.items()}
    for name, geom in overrides.items():
        geoms[int(name.removeprefix("g"))] = geom
    community = box(0, 0, SIZE, SIZE)
    buildings = [b for seq in QUARTERS for b in buildings_for(seq, start=100 * seq)]
    return Scope(code=COMMUNITY, epsg=EPSG, communities={COMMUNITY: community},
                 grids=[grid(seq, g) for seq, g in sorted(geoms.items())], buildings=buildings)
