"""Balance and shape metrics of a draft, per grid and for the whole draft, for the editor's
live panel: households against the target, compactness (Polsby-Popper, Reock), how many
building-adjacency edges the boundaries cut, 楼栋长 coverage, contiguity.

Shapes are measured in the scope's Gauss-Krüger zone. Households, buildings and heads count by
each building's ``grid`` assignment, not by where its point lies (validate() reports the
buildings whose two disagree).
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.crs import metric_transformer, to_metric
from geo.plan.model import NONE, Rules, Scope
from geo.plan.validate import Floats, Ints, assigned_index, grid_parts, grid_sums, polygonal


@dataclass(frozen=True)
class GridMetrics:
    key: int
    code: str
    kind: str
    households: int
    deviation: float  # (households - target) / target
    in_range: bool  # dedicated grids are always in range
    area_m2: float
    polsby_popper: float  # 4πA/P²: 1 for a circle, π/4 for a square
    reock: float  # A / area of the minimum bounding circle
    cut_edges: int  # adjacency edges from this grid's buildings to other grids' buildings
    buildings: int
    buildings_with_head: int
    head_coverage: float | None  # None when the grid has no buildings
    contiguous: bool  # at most one polygon part above the tolerance

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DraftMetrics:
    grids: int
    base_grids: int
    households: int  # all buildings of the scope, assigned or not
    within_range: float  # share of base grids in range (1.0 when there are none)
    mean_abs_deviation: float  # over base grids
    max_abs_deviation: float
    mean_polsby_popper: float  # over all grids
    mean_reock: float
    cut_edges: int  # each edge once
    head_coverage: float | None  # over all buildings of the scope
    contiguous: float  # share of grids contiguous (1.0 when there are none)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def building_edges(scope: Scope) -> npt.NDArray[np.intp]:
    """The Delaunay triangulation edges of the building points, as (m, 2) index pairs into
    ``scope.buildings`` (i < j, sorted).

    Triangulated in the metric zone, where distances are isotropic. GEOS keeps input vertices
    exactly, so endpoints map back through their coordinates; buildings sharing one point
    collapse to the first of them, and buildings without a point have no edges.

    Buildings do not move while a draft is edited: the triangulation of the last few sets of
    points is kept (it is most of the cost of checking an edit of a district), and found again
    by a digest of the coordinates. Small sets (the sites of one community, triangulated by
    the auto-proposal) are not kept: they cost little and would push the large ones out."""
    empty = np.empty((0, 2), dtype=np.intp)
    if len(scope.buildings) < 2:
        return empty
    points = scope.buildings.points
    usable = np.flatnonzero(scope.buildings.usable())
    if len(usable) < 2:
        return empty
    if len(usable) < KEEP_FROM:
        return _triangulated(points[usable], usable, scope.epsg)
    lonlat = shapely.get_coordinates(points[usable])
    key = (scope.epsg, len(points), hashlib.blake2b(usable.tobytes() + lonlat.tobytes(),
                                                    digest_size=16).digest())
    with _LOCK:
        found = _TRIANGULATIONS.get(key)
    if found is not None:
        return found
    pairs = _triangulated(points[usable], usable, scope.epsg)
    pairs.flags.writeable = False
    with _LOCK:
        _TRIANGULATIONS[key] = pairs
        while len(_TRIANGULATIONS) > KEPT_TRIANGULATIONS:
            _TRIANGULATIONS.pop(next(iter(_TRIANGULATIONS)))
    return pairs


KEPT_TRIANGULATIONS = 8
KEEP_FROM = 2_000  # fewer points are triangulated again (milliseconds), not kept
_TRIANGULATIONS: dict[tuple[int, int, bytes], npt.NDArray[np.intp]] = {}
_LOCK = threading.Lock()


def _triangulated(points: npt.NDArray[np.object_], usable: Ints, epsg: int) -> npt.NDArray[np.intp]:
    empty = np.empty((0, 2), dtype=np.intp)
    x, y = metric_transformer(epsg).transform(shapely.get_x(points), shapely.get_y(points))
    # a point as one complex number: numpy sorts them by x, then y
    keys = np.asarray(x) + 1j * np.asarray(y)
    unique, first = np.unique(keys, return_index=True)  # the first building at each point
    if len(unique) < 2:
        return empty
    lines = shapely.delaunay_triangles(
        shapely.multipoints(np.column_stack([unique.real, unique.imag])), only_edges=True)
    ends = shapely.get_coordinates(lines)
    at = np.searchsorted(unique, ends[:, 0] + 1j * ends[:, 1])
    pairs = np.sort(usable[first[at]].reshape(-1, 2), axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _cut_edges(scope: Scope, assigned: Ints) -> tuple[Ints, int]:
    """Cut edges per grid and in total. An edge is cut when both buildings are assigned and
    to different grids (compared by key, so a key missing from the scope still differs)."""
    edges = building_edges(scope)
    keys = scope.buildings.grid
    has = keys != NONE
    a, b = edges[:, 0], edges[:, 1]
    cut = has[a] & has[b] & (keys[a] != keys[b])
    ends = np.concatenate([assigned[a[cut]], assigned[b[cut]]])
    per_grid = np.bincount(ends[ends >= 0], minlength=len(scope.grids))[: len(scope.grids)]
    return per_grid, int(cut.sum())


def _shapes(scope: Scope, rules: Rules) -> dict[str, Floats]:
    geoms = np.empty(len(scope.grids), dtype=object)
    geoms[:] = [polygonal(g.geom) for g in scope.grids]
    metric = to_metric(geoms, scope.epsg) if len(geoms) else geoms
    area = np.asarray(shapely.area(metric), dtype=np.float64)
    perimeter = np.asarray(shapely.length(metric), dtype=np.float64)
    circle = math.pi * np.asarray(shapely.minimum_bounding_radius(metric), dtype=np.float64) ** 2
    _, owner, part_area = grid_parts(geoms, scope.epsg)
    big = np.bincount(owner, weights=part_area > rules.tolerance_m2, minlength=len(geoms))
    return {"area": area,
            "polsby_popper": _ratio(4.0 * math.pi * area, perimeter**2),
            "reock": _ratio(area, circle),
            "contiguous": (big[: len(geoms)] <= 1).astype(np.float64)}


def _ratio(num: Floats, den: Floats) -> Floats:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _grid_metrics(scope: Scope, rules: Rules) -> tuple[list[GridMetrics], int]:
    n = len(scope.grids)
    assigned = assigned_index(scope)
    households = grid_sums(assigned, scope.buildings.households, n)
    buildings = grid_sums(assigned, np.ones(len(scope.buildings)), n)
    heads = grid_sums(assigned, scope.buildings.has_head, n)
    cut, total_cut = _cut_edges(scope, assigned)
    shape = _shapes(scope, rules)
    target = rules.households_target
    out = []
    for i, g in enumerate(scope.grids):
        h, nb = int(households[i]), int(buildings[i])
        out.append(GridMetrics(
            key=g.key, code=g.code, kind=g.kind, households=h,
            deviation=(h - target) / target if target else 0.0,
            in_range=g.kind != "base" or rules.households_min <= h <= rules.households_max,
            area_m2=float(shape["area"][i]), polsby_popper=float(shape["polsby_popper"][i]),
            reock=float(shape["reock"][i]), cut_edges=int(cut[i]), buildings=nb,
            buildings_with_head=int(heads[i]),
            head_coverage=float(heads[i] / nb) if nb else None,
            contiguous=bool(shape["contiguous"][i])))
    return out, total_cut


def _mean(values: list[float], default: float) -> float:
    return float(np.mean(values)) if values else default


def measure(scope: Scope, rules: Rules) -> tuple[list[GridMetrics], DraftMetrics]:
    """Per-grid metrics (in ``scope.grids`` order) and the draft's summary."""
    grids, total_cut = _grid_metrics(scope, rules)
    base = [m for m in grids if m.kind == "base"]
    deviations = [abs(m.deviation) for m in base]
    heads = int(scope.buildings.has_head.sum())
    summary = DraftMetrics(
        grids=len(grids), base_grids=len(base),
        households=int(scope.buildings.households.sum()),
        within_range=_mean([float(m.in_range) for m in base], 1.0),
        mean_abs_deviation=_mean(deviations, 0.0),
        max_abs_deviation=max(deviations, default=0.0),
        mean_polsby_popper=_mean([m.polsby_popper for m in grids], 0.0),
        mean_reock=_mean([m.reock for m in grids], 0.0),
        cut_edges=total_cut,
        head_coverage=heads / len(scope.buildings) if scope.buildings else None,
        contiguous=_mean([float(m.contiguous) for m in grids], 1.0))
    return grids, summary
