"""Slivers: the small polygon parts an edit leaves behind merge into a neighbour."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric
from geo.plan.model import PlanGrid, Rules
from geo.plan.shapes import EDGE_MIN_M, areas_m2, polygonal, polygons, shared_edge_m, union


class Absorbed(NamedTuple):
    grids: list[PlanGrid]  # every grid, in the input order, without the ones left empty
    changed: set[int]  # keys of grids that lost a sliver or gained one (and still exist)
    removed: set[int]  # keys of grids left with no area


class _Ground:
    """The grids' current geometries during absorption, with metric copies made on demand."""

    def __init__(self, grids: list[PlanGrid], epsg: int) -> None:
        self.grids = {g.key: g for g in grids}
        self.geoms: dict[int, BaseGeometry] = {g.key: g.geom for g in grids}
        self.epsg = epsg
        self._metric: dict[int, BaseGeometry] = {}

    def metric(self, key: int) -> BaseGeometry:
        if key not in self._metric:
            self._metric[key] = to_metric(self.geoms[key], self.epsg)
        return self._metric[key]

    def set(self, key: int, geom: BaseGeometry) -> None:
        self.geoms[key] = geom
        self._metric.pop(key, None)

    def best_neighbour(self, part: Polygon, owner: int) -> int | None:
        """The grid of the owner's community sharing the longest edge with ``part``; ties go
        to the smallest code. None when no grid shares an edge of at least EDGE_MIN_M."""
        community = self.grids[owner].community_code
        part_m = to_metric(part, self.epsg)
        best: tuple[float, str, int] | None = None
        for key, g in self.grids.items():
            if key == owner or g.community_code != community or self.geoms[key].is_empty:
                continue
            length = shared_edge_m(part_m, self.metric(key))
            if length < EDGE_MIN_M:
                continue
            rank = (-length, g.code, key)
            if best is None or rank < best:
                best = rank
        return None if best is None else best[2]


def absorb_slivers(grids: list[PlanGrid], rules: Rules, epsg: int, touched: Iterable[int]) -> Absorbed:
    """Polygon parts of the ``touched`` grids smaller than ``rules.sliver_m2`` (measured in
    EPSG:``epsg``) merge into the neighbour of the same community with the longest shared edge
    with that part. A part with no such neighbour is dropped (it becomes a gap smaller than
    a sliver, which is what it was for the grid anyway); a grid left with no area is removed.
    Grids are visited in key order so the outcome does not depend on set ordering."""
    ground = _Ground(grids, epsg)
    changed: set[int] = set()
    for key in sorted(k for k in set(touched) if k in ground.grids):
        parts = polygons(ground.geoms[key])
        areas = areas_m2(parts, epsg)
        small = [p for p, a in zip(parts, areas, strict=True) if a < rules.sliver_m2]
        if not small:
            continue
        ground.set(key, polygonal([p for p, a in zip(parts, areas, strict=True) if a >= rules.sliver_m2]))
        changed.add(key)
        for part in small:
            into = ground.best_neighbour(part, key)
            if into is not None:
                ground.set(into, union([ground.geoms[into], part], epsg))
                changed.add(into)
    removed = {k for k, geom in ground.geoms.items() if geom.is_empty}
    kept = [g.with_geom(ground.geoms[g.key]) if g.key in changed else g
            for g in grids if g.key not in removed]
    return Absorbed(kept, changed - removed, removed)
