"""多网合一, first step: how far the departmental grid layers agree. Pure: shapely 2 on
arrays of metric polygons (the area's CGCS2000 Gauss-Krüger zone), no database.

- ``intersect``: the pieces where the grids of two layers overlap, found with an STRtree and
  cut in one vectorised call (what ``geopandas.overlay(how="intersection")`` does, without
  the data frames).
- ``compare``: for a pair of layers, the overlap matrix (area and households of every
  intersection), the grids of one split across several of the other, the slivers (small
  overlaps: boundaries that nearly agree), and the households whose two grids nest cleanly
  (one lies within the other, up to a sliver).
- ``coverage``: for one layer, the parts of its grids outside every community and the parts
  of the communities (and their households) that no grid of it covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree

Geoms = npt.NDArray[np.object_]
SNAP_M = 0.001
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Layer:
    """One layer's grids: codes and metric polygons, and which grid holds each building
    (-1: none)."""

    theme: str
    codes: list[str]
    geoms: Geoms
    home: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class Pieces:
    """Where two layers' grids overlap: the grid of each (indices) and the piece."""

    left: Ints
    right: Ints
    geoms: Geoms

    @property
    def area(self) -> npt.NDArray[np.float64]:
        return np.asarray(shapely.area(self.geoms), dtype=np.float64)


def intersect(a: Geoms, b: Geoms, tolerance_m2: float = 1.0) -> Pieces:
    """The overlaps of every grid of ``a`` with every grid of ``b`` larger than
    ``tolerance_m2`` (grids that only touch make lines or points: no area)."""
    if not len(a) or not len(b):
        empty = np.zeros(0, dtype=np.int64)
        return Pieces(empty, empty, np.empty(0, dtype=object))
    shapely.prepare(b)
    left, right = STRtree(b).query(a, predicate="intersects")
    try:
        cut = shapely.intersection(a[left], b[right])
    except shapely.errors.GEOSException:
        # nearly coincident edges can defeat GEOS's floating overlay: snap-round to 1 mm
        cut = shapely.intersection(a[left], b[right], grid_size=SNAP_M)
    keep = shapely.area(cut) > tolerance_m2
    return Pieces(left[keep].astype(np.int64), right[keep].astype(np.int64), cut[keep])


def homes(geoms: Geoms, points: Geoms) -> Ints:
    """The grid (index) holding each point, the first by index where grids overlap; -1 for
    none."""
    out = np.full(len(points), -1, dtype=np.int64)
    if not len(geoms) or not len(points):
        return out
    point, grid = STRtree(geoms).query(points, predicate="intersects")
    order = np.lexsort((grid, point))  # by point, then grid
    first = np.unique(point[order], return_index=True)[1]  # each point's smallest grid
    out[point[order][first]] = grid[order][first]
    return out


def households_by_pair(a: Layer, b: Layer, households: Ints, in_b: bool = True
                       ) -> dict[tuple[int, int], int]:
    """Households by (grid of ``a``, grid of ``b``), of the buildings in a grid of ``a`` and
    (with ``in_b``) of ``b``; without it a building in no grid of ``b`` counts under -1."""
    keep = (a.home >= 0) & (b.home >= 0) if in_b else a.home >= 0
    out: dict[tuple[int, int], int] = {}
    for i, j, h in zip(a.home[keep].tolist(), b.home[keep].tolist(),
                       households[keep].tolist(), strict=True):
        out[(i, j)] = out.get((i, j), 0) + int(h)
    return out


def _splits(layer: Layer, other: Layer, pieces: Pieces, by_pair: dict[tuple[int, int], int],
            sliver_m2: float, left: bool) -> list[dict[str, Any]]:
    """Grids of ``layer`` whose area (beyond slivers) or households fall in more than one
    grid of ``other``, with the share of each part."""
    mine, theirs = (pieces.left, pieces.right) if left else (pieces.right, pieces.left)
    area = pieces.area
    total = shapely.area(layer.geoms)
    parts: dict[int, list[int]] = {}
    for k, i in enumerate(mine.tolist()):
        parts.setdefault(i, []).append(k)
    held: dict[int, dict[int, int]] = {}
    for (i, j), h in by_pair.items():
        g, o = (i, j) if left else (j, i)
        held.setdefault(g, {})[o] = h
    out = []
    for g, ks in sorted(parts.items()):
        big = [k for k in ks if area[k] >= sliver_m2]
        people = held.get(g, {})
        if len(big) < 2 and sum(1 for h in people.values() if h > 0) < 2:
            continue
        hh = sum(people.values())
        out.append({"grid": layer.codes[g], "parts": [
            {"grid": other.codes[int(theirs[k])], "area_share": round(area[k] / total[g], 4),
             "households": people.get(int(theirs[k]), 0),
             "household_share": round(people.get(int(theirs[k]), 0) / hh, 4) if hh else None}
            for k in sorted(ks, key=lambda k: -area[k]) if area[k] >= sliver_m2]})
    return out


def compare(a: Layer, b: Layer, households: Ints, sliver_m2: float,
            tolerance_m2: float = 1.0) -> dict[str, Any]:
    """How two layers agree (see the module's notes)."""
    pieces = intersect(a.geoms, b.geoms, tolerance_m2)
    by_pair = households_by_pair(a, b, households)
    area = pieces.area
    area_a, area_b = shapely.area(a.geoms), shapely.area(b.geoms)
    # a pair nests when one grid lies within the other, but for slivers
    nests = (area >= np.minimum(area_a[pieces.left], area_b[pieces.right]) - sliver_m2)
    nesting = {(int(i), int(j)) for i, j, n in zip(pieces.left, pieces.right, nests,
                                                   strict=True) if n}
    both = sum(by_pair.values())
    clean = sum(h for pair, h in by_pair.items() if pair in nesting)
    matrix = [{"a": a.codes[i], "b": b.codes[j], "area_m2": round(float(s), 1),
               "households": by_pair.get((int(i), int(j)), 0)}
              for i, j, s in zip(pieces.left.tolist(), pieces.right.tolist(), area.tolist(),
                                 strict=True)]
    slivers = [m for m, s in zip(matrix, area.tolist(), strict=True) if s < sliver_m2]
    return {"a": a.theme, "b": b.theme, "matrix": matrix, "slivers": slivers,
            "a_split": _splits(a, b, pieces, by_pair, sliver_m2, left=True),
            "b_split": _splits(b, a, pieces, by_pair, sliver_m2, left=False),
            "households_in_both": both, "households_nesting": clean,
            "agreement": round(clean / both, 4) if both else None,
            "nesting_pairs": sorted(nesting)}


def _union(geoms: Geoms) -> Any:
    return shapely.union_all(geoms) if len(geoms) else shapely.Polygon()


def coverage(layer: Layer, communities: Geoms, own: npt.NDArray[np.bool_], households: Ints,
             sliver_m2: float) -> dict[str, Any]:
    """Parts of the layer's grids outside every community (``communities``: the district's),
    and what of the area's own communities (``own``) it leaves uncovered: area, and the
    households of buildings in none of its grids."""
    outside = shapely.area(shapely.difference(layer.geoms, _union(communities)))
    gap = shapely.difference(_union(communities[own]), _union(layer.geoms))
    return {"theme": layer.theme, "grids": len(layer.codes),
            "outside_communities": [{"grid": layer.codes[i], "area_m2": round(float(s), 1)}
                                    for i, s in enumerate(outside.tolist()) if s >= sliver_m2],
            "gap_area_m2": round(float(shapely.area(gap)), 1),
            "gap_households": int(households[layer.home < 0].sum())}


def report(layers: list[Layer], communities: Geoms, own: npt.NDArray[np.bool_],
           households: Ints, sliver_m2: float) -> dict[str, Any]:
    """Every pair compared, every layer's coverage, and the share of households whose grids
    nest cleanly in every pair."""
    pairs = [compare(a, b, households, sliver_m2) for a, b in combinations(layers, 2)]
    clean = np.ones(len(households), dtype=bool)
    for (a, b), p in zip(combinations(layers, 2), pairs, strict=True):
        nesting = set(map(tuple, p.pop("nesting_pairs")))
        clean &= np.array([(int(i), int(j)) in nesting for i, j in zip(a.home, b.home,
                                                                      strict=True)],
                          dtype=bool)
    total = int(households.sum())
    return {"layers": [coverage(layer, communities, own, households, sliver_m2)
                       for layer in layers],
            "pairs": pairs, "households": total,
            "households_nesting_everywhere": int(households[clean].sum()),
            "agreement": round(int(households[clean].sum()) / total, 4) if total else None}
