"""Buildings and the ground under them: Voronoi cells (for moving buildings between grids) and
locating buildings in grids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

from geo.crs import from_metric, to_metric
from geo.plan.model import PlanBuilding, PlanGrid, Scope


def community_of(building: PlanBuilding, scope: Scope) -> str | None:
    """The building's community: as recorded, else the scope community that covers it."""
    if building.community_code:
        return building.community_code
    for code, shape in sorted(scope.communities.items()):
        if shape.covers(building.point):
            return code
    return None


def by_community(scope: Scope, buildings: Sequence[PlanBuilding] | None = None
                 ) -> dict[str | None, list[PlanBuilding]]:
    """The scope's buildings (or ``buildings``) grouped by community (``community_of``)."""
    out: dict[str | None, list[PlanBuilding]] = {}
    for b in scope.buildings if buildings is None else buildings:
        out.setdefault(community_of(b, scope), []).append(b)
    return out


def building_cells(scope: Scope) -> dict[int, BaseGeometry]:
    """Building id → its Voronoi cell (lon/lat) clipped to the building's community.

    The diagram is built in the metric zone: a cell is the ground NEARER to its building than
    to any other, and nearness in degrees is skewed (a degree of longitude is ~12% shorter
    than one of latitude here). Its vertices are converted back; the clipping to the community
    is done in lon/lat so cells end exactly on the community boundary. Buildings at the same
    point share one cell (GEOS would collapse them anyway)."""
    if not scope.buildings:
        return {}
    bound = list(scope.communities.values())
    extent = bound[0] if len(bound) == 1 else shapely.union_all(bound)
    xy = [(b.point.x, b.point.y) for b in scope.buildings]
    unique = sorted(set(xy))
    if len(unique) < 2:
        raw = [extent]
    else:
        points = to_metric(MultiPoint(unique), scope.epsg)
        diagram = shapely.voronoi_polygons(points, extend_to=to_metric(extent, scope.epsg),
                                           ordered=True)
        raw = list(from_metric(np.array(list(diagram.geoms), dtype=object), scope.epsg))
    cell_at = dict(zip(unique, raw, strict=True))
    # one vectorised clip per community (and one for buildings in none)
    bounds: dict[str | None, list[int]] = {}
    for i, b in enumerate(scope.buildings):
        code = community_of(b, scope)
        bounds.setdefault(code if code in scope.communities else None, []).append(i)
    clipped = np.empty(len(scope.buildings), dtype=object)
    for code, idx in bounds.items():
        raw_cells = np.empty(len(idx), dtype=object)
        raw_cells[:] = [cell_at[xy[i]] for i in idx]
        clipped[idx] = shapely.intersection(raw_cells, scope.communities[code]
                                            if code is not None else extent)
    return {b.id: c for b, c in zip(scope.buildings, clipped, strict=True)}


def locate(buildings: Sequence[PlanBuilding], grids: Sequence[PlanGrid]) -> dict[int, int | None]:
    """Building id → the key of the grid that covers it; a building on a shared edge goes to
    the grid with the smallest code (a stable, explainable rule), one in no grid to None."""
    found: dict[int, int | None] = {b.id: None for b in buildings}
    live = [g for g in grids if not g.geom.is_empty]
    if not buildings or not live:
        return found
    tree = shapely.STRtree([g.geom for g in live])
    points = np.array([b.point for b in buildings], dtype=object)
    best: dict[int, PlanGrid] = {}
    for bi, gi in zip(*tree.query(points, predicate="covered_by"), strict=True):
        b, g = buildings[int(bi)], live[int(gi)]
        if b.id not in best or (g.code, g.key) < (best[b.id].code, best[b.id].key):
            best[b.id] = g
    found.update({bid: g.key for bid, g in best.items()})
    return found
