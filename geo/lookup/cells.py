"""Cell indexes: a lone point answered by a list look-up and a little plain Python.

A district's box is cut into square cells (``Lattice``, about ``CELL_M`` on a side). For
each cell the build works out, with vectorised shapely calls over all cells at once, what
any point inside it can possibly meet:

- ``GridCells``: the grid that covers the whole cell (most cells), or else the few grid
  pieces that touch it, tested in order of code (``intersects_xy`` is *covers* for a point);
  and the pieces of other grids' outlines within the near-boundary reach of the cell, as
  plain segments in the district's frame.
- ``BuildingCells``: the footprints that touch the cell, or none (most cells).
- ``EdgeCells``: the walk edges that can be the nearest one for some point of the cell (every
  edge no farther from the cell than the nearest edge of its centre plus half its diagonal).

A point then costs one cell look-up and a few arithmetic steps instead of an STRtree query
per question, which is where a lone lookup spent most of its time (bench/lookup.py). The
answers are the ``geo.lookup.index`` ones (tests/test_lookup_cells.py checks them against
each other on thousands of points): the same predicates, the same smallest-code and
smallest-id rules, segment distances and line positions computed as GEOS computes them. A
cell that cannot answer (no grid covers the point) says so with ``None`` and the point takes
the trees' path.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import shapely

from geo.lookup.index import NONE, Box, EdgeSnapper, Frame, Geoms, Grids
from geo.network import Snap

CELL_M = 30.0  # side of a cell in metres
MAX_CELLS = 400_000  # bigger districts get bigger cells
EPS_DEG = 1e-9  # cells are widened by this (0.1 mm) against rounding at their edges
Seg = tuple[float, float, float, float]
T = TypeVar("T")


@dataclass(frozen=True)
class Lattice:
    """Square cells over a box: cell (i, j) is number ``i * ny + j``."""

    west: float
    south: float
    dlon: float
    dlat: float
    nx: int
    ny: int

    @classmethod
    def over(cls, box: Box, frame: Frame, size_m: float = CELL_M) -> Lattice:
        w, s, e, n = box
        width, height = max(e - w, 0.0) * frame.kx, max(n - s, 0.0) * frame.ky
        size_m = max(size_m, math.sqrt(width * height / MAX_CELLS))
        nx, ny = max(1, math.ceil(width / size_m)), max(1, math.ceil(height / size_m))
        return cls(w, s, size_m / frame.kx, size_m / frame.ky, nx, ny)

    def cell(self, lon: float, lat: float) -> int:
        """The number of the cell holding the point; ``NONE`` outside the lattice."""
        i = math.floor((lon - self.west) / self.dlon)
        j = math.floor((lat - self.south) / self.dlat)
        if 0 <= i < self.nx and 0 <= j < self.ny:
            return i * self.ny + j
        return NONE

    def _corners(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        i, j = np.divmod(np.arange(self.nx * self.ny), self.ny)
        return self.west + i * self.dlon - EPS_DEG, self.south + j * self.dlat - EPS_DEG

    def boxes(self) -> Geoms:
        """Every cell as a box in lon/lat (widened by ``EPS_DEG``), by number."""
        w, s = self._corners()
        return shapely.box(w, s, w + self.dlon + 2 * EPS_DEG, s + self.dlat + 2 * EPS_DEG)

    def framed_boxes(self, frame: Frame, by: float | npt.NDArray[np.float64] = 0.0) -> Geoms:
        """Every cell as a box in ``frame``, widened by ``by`` metres (one for all cells or
        one each). A tree query with these and no predicate finds every geometry within
        ``by`` of the cell (and a few more, whose boxes only come that near)."""
        w, s = self._corners()
        w, s = w * frame.kx - by, s * frame.ky - by
        return shapely.box(w, s, w + (self.dlon + 2 * EPS_DEG) * frame.kx + 2 * by,
                           s + (self.dlat + 2 * EPS_DEG) * frame.ky + 2 * by)


def _grouped(pairs: npt.NDArray[np.intp], n: int) -> list[list[int]]:
    """Tree query pairs (input, tree index) as each input's tree indices, ascending."""
    out: list[list[int]] = [[] for _ in range(n)]
    order = np.lexsort((pairs[1], pairs[0]))
    for a, b in zip(pairs[0][order].tolist(), pairs[1][order].tolist(), strict=True):
        out[a].append(b)
    return out


def _shared(records: list[T], keys: Sequence[Hashable]) -> list[T]:
    """The records with equal keys made one object (most neighbouring cells are alike)."""
    seen: dict[Hashable, T] = {}
    return [seen.setdefault(k, r) for k, r in zip(keys, records, strict=True)]


def _nearest_on(seg: Seg, x: float, y: float) -> tuple[float, float, float]:
    """Distance from (x, y) to a segment, and the segment's nearest point (GEOS's
    point-to-segment arithmetic, so equal distances come out equal)."""
    ax, ay, bx, by = seg
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    r = ((x - ax) * dx + (y - ay) * dy) / len2 if len2 > 0.0 else 0.0
    if r <= 0.0:
        fx, fy = ax, ay
    elif r >= 1.0:
        fx, fy = bx, by
    else:
        s = ((ay - y) * dx - (ax - x) * dy) / len2
        return abs(s) * math.sqrt(len2), ax + r * dx, ay + r * dy
    return math.sqrt((x - fx) * (x - fx) + (y - fy) * (y - fy)), fx, fy


def _distance_to(seg: Seg, x: float, y: float) -> float:
    """``_nearest_on``'s distance alone."""
    ax, ay, bx, by = seg
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    r = ((x - ax) * dx + (y - ay) * dy) / len2 if len2 > 0.0 else 0.0
    if r <= 0.0:
        return math.sqrt((x - ax) * (x - ax) + (y - ay) * (y - ay))
    if r >= 1.0:
        return math.sqrt((x - bx) * (x - bx) + (y - by) * (y - by))
    return abs(((ay - y) * dx - (ax - x) * dy) / len2) * math.sqrt(len2)


def _segments(lines: Geoms) -> tuple[list[Seg], list[int]]:
    """Every segment of some (multi)linestrings, and the line each came from."""
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    same = part[1:] == part[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    return (list(map(tuple, np.hstack((a, b)).tolist())),
            owner[part[:-1][same]].tolist())


# -- grids ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _GridCell:
    rows: tuple[int, ...]  # the grids touching the cell, one per piece, by code
    pieces: tuple[Any, ...]  # those pieces (empty: the cell lies inside rows[0])
    segments: tuple[int, ...]  # outline segments within reach of the cell


@dataclass
class GridCells:
    lattice: Lattice
    cells: list[_GridCell | None]  # None: no grid touches the cell
    segments: list[Seg]  # the grids' outlines in the frame
    segment_grid: list[int]
    overlapping: list[bool]
    frame: Frame
    reach_m: float  # outline segments are kept this far (plus the frame's slack) from cells

    @classmethod
    def build(cls, grids: Grids, box: Box, reach_m: float) -> GridCells:
        lattice = Lattice.over(box, grids.frame)
        boxes = lattice.boxes()
        n = len(boxes)
        pieces = grids.tree.geometries
        shapely.prepare(pieces)
        touching = _grouped(grids.tree.query(boxes, predicate="intersects"), n)
        inside = _grouped(grids.tree.query(boxes, predicate="covered_by"), n)
        segments, seg_row = _segments(grids.outlines)
        wide = reach_m * (1.0 + grids.frame.slack)
        near = _grouped(shapely.STRtree(shapely.linestrings(
            np.array(segments).reshape(-1, 2, 2))).query(
            lattice.framed_boxes(grids.frame, wide)), n) \
            if segments else [[] for _ in range(n)]
        part_grid = grids.part_grid.tolist()
        cells: list[_GridCell | None] = []
        keys: list[Hashable] = []
        for touch, within, segs in zip(touching, inside, near, strict=True):
            rows = sorted({part_grid[k] for k in touch})
            if not rows:
                cells.append(None)
                keys.append(None)
                continue
            seg_t = tuple(segs)
            if len(rows) == 1 and within:
                cells.append(_GridCell((rows[0],), (), seg_t))
                keys.append((rows[0], seg_t))
                continue
            ordered = sorted(touch, key=lambda k: (part_grid[k], k))
            cells.append(_GridCell(tuple(part_grid[k] for k in ordered),
                                   tuple(pieces[k] for k in ordered), seg_t))
            keys.append((tuple(ordered), seg_t))
        return cls(lattice, _shared(cells, keys), segments, seg_row, grids.overlapping,
                   grids.frame, reach_m)

    def at(self, lon: float, lat: float, within_m: float
           ) -> tuple[int, list[tuple[int, float]]] | None:
        """The row of the grid covering the point and the other grids within ``within_m``
        (row, metres; nearest first, then by code; 0 for a grid that overlaps the point's
        own and covers the point too); None when the cell cannot say: no grid covers the
        point, or ``within_m`` exceeds the reach."""
        k = self.lattice.cell(lon, lat)
        cell = None if k == NONE else self.cells[k]
        if cell is None or within_m > self.reach_m:
            return None
        covering: tuple[int, ...] = ()
        if not cell.pieces:
            own = cell.rows[0]
        else:
            own, covering = self._covering(cell, lon, lat)
            if own == NONE:
                return None
        return own, self._near(own, covering, cell.segments, lon, lat, within_m)

    def _covering(self, cell: _GridCell, lon: float, lat: float) -> tuple[int, tuple[int, ...]]:
        """The first grid (by code) whose pieces cover the point, and, when that grid
        overlaps others, the other grids covering it too (at distance 0 from it)."""
        own, others = NONE, []
        for row, piece in zip(cell.rows, cell.pieces, strict=True):
            if row == own or row in others:
                continue
            if shapely.intersects_xy(piece, lon, lat):
                if own == NONE:
                    own = row
                    if not self.overlapping[own]:
                        break
                else:
                    others.append(row)
        return own, tuple(others)

    def _near(self, own: int, covering: tuple[int, ...], segs: tuple[int, ...], lon: float,
              lat: float, within_m: float) -> list[tuple[int, float]]:
        if not segs and not covering:
            return []
        frame, grid_of, segments = self.frame, self.segment_grid, self.segments
        x, y = lon * frame.kx, lat * frame.ky
        wide = within_m * (1.0 + frame.slack)
        # row → frame distance, nearest point
        best: dict[int, tuple[float, float, float]] = {row: (0.0, x, y) for row in covering}
        for k in segs:
            row = grid_of[k]
            if row == own:
                continue
            d, fx, fy = _nearest_on(segments[k], x, y)
            if d <= wide and d < best.get(row, (math.inf,))[0]:
                best[row] = (d, fx, fy)
        found = []
        for row, (_, fx, fy) in best.items():
            d = frame.length(x - fx, y - fy, lat)
            if d <= within_m:
                found.append((row, d))
        found.sort(key=lambda rd: (rd[1], rd[0]))  # rows are in order of code
        return found


# -- buildings --------------------------------------------------------------------------------

@dataclass
class BuildingCells:
    lattice: Lattice
    cells: list[tuple[tuple[int, Any], ...]]  # (index, footprint) touching the cell, by id

    @classmethod
    def build(cls, footprints: Geoms, box: Box, frame: Frame) -> BuildingCells:
        lattice = Lattice.over(box, frame)
        boxes = lattice.boxes()
        shapely.prepare(footprints)
        tree = shapely.STRtree(footprints)
        touching = _grouped(tree.query(boxes, predicate="intersects"), len(boxes))
        cells = [tuple((k, footprints[k]) for k in touch) for touch in touching]
        return cls(lattice, _shared(cells, [tuple(t) for t in touching]))

    def at(self, lon: float, lat: float) -> int:
        """The index of the building (smallest id) whose footprint covers the point, ``NONE``
        outside every footprint (and outside the lattice, which holds them all)."""
        k = self.lattice.cell(lon, lat)
        if k == NONE:
            return NONE
        for index, footprint in self.cells[k]:
            if shapely.intersects_xy(footprint, lon, lat):
                return index
        return NONE


# -- the walk network ---------------------------------------------------------------------------

@dataclass
class EdgeCells:
    lattice: Lattice
    # per cell, the candidate edges (indices of the snapper's) with their distance from the
    # cell (a bound below any point's distance to them), nearest first
    cells: list[tuple[tuple[float, int], ...]]
    framed: list[list[Seg]]  # each edge's segments in the frame
    lonlat: list[list[Seg]]  # and in lon/lat
    ids: list[int]
    frame: Frame

    @classmethod
    def build(cls, snapper: EdgeSnapper, box: Box) -> EdgeCells:
        frame = snapper.frame
        lattice = Lattice.over(box, frame)
        n = lattice.nx * lattice.ny
        lines_s = snapper.tree.geometries
        if not len(lines_s):
            return cls(lattice, [()] * n, [], [], [], frame)
        boxes = lattice.framed_boxes(frame)
        _, dist = snapper.tree.query_nearest(shapely.centroid(boxes), return_distance=True,
                                             all_matches=False)
        half = math.hypot(lattice.dlon * frame.kx, lattice.dlat * frame.ky) / 2.0
        reach = dist + half + 1e-6  # no point of the cell is farther from its nearest edge
        cell, edge = snapper.tree.query(lattice.framed_boxes(frame, reach))
        gap = shapely.distance(boxes[cell], lines_s[edge])
        near = gap <= reach[cell]
        cell, edge, gap = cell[near], edge[near], gap[near]
        order = np.lexsort((edge, gap, cell))
        cells: list[list[tuple[float, int]]] = [[] for _ in range(n)]
        for c, g, e in zip(cell[order].tolist(), gap[order].tolist(), edge[order].tolist(),
                           strict=True):
            cells[c].append((g, e))
        return cls(lattice, [tuple(c) for c in cells], _per_line(lines_s),
                   _per_line(snapper.lines), snapper.ids, frame)

    def snap(self, lon: float, lat: float) -> Snap | None:
        """As ``EdgeSnapper.snap``: the nearest edge in the frame (smallest id among equals),
        the frame distance to it, and the fraction along its lon/lat line; None when the
        point lies outside the lattice or the district has no edges."""
        k = self.lattice.cell(lon, lat)
        if k == NONE or not self.ids:
            return None
        x, y = lon * self.frame.kx, lat * self.frame.ky
        best, best_d = NONE, math.inf
        for gap, e in self.cells[k]:
            if gap > best_d:  # this edge and the rest are farther than the best
                break
            d = min(_distance_to(seg, x, y) for seg in self.framed[e])
            if d < best_d or (d == best_d and e < best):  # equals: the smallest id
                best, best_d = e, d
        return Snap(self.ids[best], _fraction(self.lonlat[best], lon, lat), best_d)


def _per_line(lines: Geoms) -> list[list[Seg]]:
    segments, owner = _segments(lines)
    out: list[list[Seg]] = [[] for _ in range(len(lines))]
    for seg, line in zip(segments, owner, strict=True):
        out[line].append(seg)
    return out


def _fraction(segs: list[Seg], x: float, y: float) -> float:
    """Where (x, y) projects onto a line, as a fraction of its length: GEOS's
    ``LengthIndexOfPoint`` (the first nearest segment wins), as ``line_locate_point``."""
    best_d, at, start = math.inf, 0.0, 0.0
    for seg in segs:
        ax, ay, bx, by = seg
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        length = math.sqrt(len2)
        d = _distance_to(seg, x, y)
        if d < best_d:
            best_d = d
            if (x, y) == (ax, ay) or len2 == 0.0:
                r = 0.0
            elif (x, y) == (bx, by):
                r = 1.0
            else:
                r = min(max(((x - ax) * dx + (y - ay) * dy) / len2, 0.0), 1.0)
            at = start + r * length
        start += length
    return at / start if start > 0.0 else 0.0
