"""Buildings and the ground under them: Voronoi cells (for moving buildings between grids) and
locating buildings in grids."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

from geo.crs import from_metric, to_metric
from geo.plan.model import NONE, Buildings, Ints, PlanBuilding, PlanGrid, Scope, grouped


def community_of(building: PlanBuilding, scope: Scope) -> str | None:
    """The building's community: as recorded, else the scope community that covers it."""
    if building.community_code:
        return building.community_code
    for code, shape in sorted(scope.communities.items()):
        if shape.covers(building.point):
            return code
    return None


def communities_of(scope: Scope, buildings: Buildings) -> npt.NDArray[np.object_]:
    """``community_of`` for every building, in one query of the communities."""
    out = buildings.community.copy()
    lost = np.flatnonzero(np.array([not c for c in out.tolist()], dtype=bool))
    if len(lost) and scope.communities:
        codes = sorted(scope.communities)
        first = first_covering(buildings.points[lost], [scope.communities[c] for c in codes])
        out[lost] = [None if i < 0 else codes[i] for i in first.tolist()]
    elif len(lost):
        out[lost] = None
    return out


def by_community(scope: Scope, buildings: Sequence[PlanBuilding] | None = None
                 ) -> dict[str | None, Buildings]:
    """The scope's buildings (or ``buildings``) grouped by community (``community_of``)."""
    mine = Buildings.of(scope.buildings if buildings is None else buildings)
    codes = communities_of(scope, mine)
    names = sorted({c for c in codes.tolist() if c is not None})
    number = {c: i for i, c in enumerate(names)}
    group = [number.get(c, len(names)) for c in codes.tolist()]
    return {code: mine.take(at) for code, at in zip([*names, None], grouped(group, len(names) + 1),
                                                     strict=True) if len(at)}


def community_scopes(scope: Scope, codes: Sequence[str],
                     buildings: dict[str | None, Buildings] | None = None) -> list[Scope]:
    """For each community of ``codes``, the part of the scope a piece of work on it needs
    (and all that is sent to a worker process): its polygon, the grids that belong to it or
    overlap it, and its ``buildings`` (none when None)."""
    geoms = np.array([g.geom for g in scope.grids], dtype=object)
    shapes = np.array([scope.communities[c] for c in codes], dtype=object)
    community, grid = shapely.STRtree(geoms).query(shapes, predicate="intersects") \
        if len(geoms) and len(shapes) else (np.zeros(0, int), np.zeros(0, int))
    near = [set(grid[at].tolist()) for at in grouped(community, len(codes))]
    empty = Buildings.of([])
    return [Scope(code=c, epsg=scope.epsg, communities={c: scope.communities[c]},
                  grids=[g for i, g in enumerate(scope.grids)
                         if g.community_code == c or i in near[n]],
                  buildings=(buildings or {}).get(c, empty))
            for n, c in enumerate(codes)]


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
    mine = Buildings.of(buildings)
    return {b: None if g == NONE else g for b, g in zip(
        mine.ids.tolist(), locate_keys(mine.points, grids).tolist(), strict=True)}


def locate_keys(points: npt.NDArray[np.object_], grids: Sequence[PlanGrid]) -> Ints:
    """``locate`` for an array of points: the key of each one's grid (NONE for none)."""
    found = np.full(len(points), NONE, dtype=np.int64)
    live = [g for g in grids if not g.geom.is_empty]
    if not len(points) or not live:
        return found
    rank = np.empty(len(live), dtype=np.int64)  # the smallest (code, key) first
    rank[sorted(range(len(live)), key=lambda i: (live[i].code, live[i].key))] = \
        np.arange(len(live))
    first = first_covering(points, [g.geom for g in live], rank)
    keys = np.array([g.key for g in live], dtype=np.int64)
    found[first >= 0] = keys[first[first >= 0]]
    return found


def covering(points: npt.NDArray[np.object_], shapes: Sequence[BaseGeometry] | npt.NDArray[np.object_]
             ) -> tuple[Ints, Ints]:
    """Every (point, shape) pair where the shape covers the point, by point and then shape.
    The points are indexed and each shape, prepared once, is asked for the points it covers:
    twice as fast on a district as asking, point by point, which shapes cover it."""
    if not len(points) or not len(shapes):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    shape, point = _tree(points).query(np.asarray(shapes, dtype=object), predicate="covers")
    order = np.lexsort((shape, point))
    return point[order], shape[order]


_TREES = threading.local()


def _tree(points: npt.NDArray[np.object_]) -> shapely.STRtree:
    """The index of ``points``, kept for the next question about the same array (the
    proposal asks three times where a community's sites stand: in the street faces, the
    joined blocks and the parcels' cells). Held per thread; the array itself is kept with
    it, so its identity stands for it (arrays of points are not changed in place)."""
    last = getattr(_TREES, "last", None)
    if last is not None and last[0] is points:
        return last[1]
    tree = shapely.STRtree(points)
    _TREES.last = (points, tree)
    return tree


def first_covering(points: npt.NDArray[np.object_],
                   shapes: Sequence[BaseGeometry] | npt.NDArray[np.object_],
                   rank: Ints | None = None) -> Ints:
    """For each point, the shape covering it that comes first (by ``rank``, else by index);
    -1 where none does."""
    out = np.full(len(points), -1, dtype=np.int64)
    point, shape = covering(points, shapes)
    if len(point):
        order = np.lexsort((shape if rank is None else rank[shape], point))
        at, first = np.unique(point[order], return_index=True)
        out[at] = shape[order][first]
    return out
