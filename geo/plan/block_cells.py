"""The cells of sites inside their street blocks, every block of a community at once.

A site's cell is the part of its block nearer to it than to any other site of the block (the
Voronoi diagram of the block's sites, drawn in the metric zone where nearness is isotropic,
brought back to lon/lat and clipped to the block there, so that cells end exactly on the
block's edges). A block of one site is that site's cell. A cell clipped to a concave block can
fall apart: its *core* is the part holding the site (else the largest), the other parts are
spare ground handed out later.

A district has thousands of blocks: the diagrams, the conversions and the clips are each one
vectorised call over all of them, not a call per block.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import from_metric, to_metric

Geoms = npt.NDArray[np.object_]
Ints = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]

POLYGON = 3
COLLECTIONS = (4, 5, 6, 7)  # Multi* and GeometryCollection: exploded further


def cells_in_blocks(blocks: list[BaseGeometry], owner: Ints, points: Geoms, xy: Floats,
                    epsg: int) -> tuple[Geoms, list[BaseGeometry]]:
    """The core of each site's cell (lon/lat; empty where the clip left nothing), and the
    spare ground: cut-off parts of cells and the blocks holding no site.

    ``owner``: the block of each site; ``points``: the sites (lon/lat); ``xy``: the same in the
    metric zone ``epsg``. Sites are distinct points."""
    block = np.empty(len(blocks), dtype=object)
    block[:] = blocks
    count = np.bincount(owner, minlength=len(blocks)) if len(owner) else np.zeros(len(blocks), int)
    cell = np.empty(len(owner), dtype=object)
    alone = count[owner] == 1
    cell[alone] = block[owner[alone]]
    shared = np.flatnonzero(~alone)
    if len(shared):
        cell[shared] = _diagram_cells(block, owner, shared, xy, epsg)
    cores, spare = _cores(cell, points)
    return cores, [*spare, *block[count == 0]]


def _diagram_cells(block: Geoms, owner: Ints, sites: Ints, xy: Floats, epsg: int) -> Geoms:
    """The clipped cells of ``sites`` (each in a block of two or more), in that order."""
    order = sites[np.argsort(owner[sites], kind="stable")]
    used, group = np.unique(owner[order], return_inverse=True)
    diagrams = shapely.voronoi_polygons(shapely.multipoints(xy[order], indices=group),
                                        extend_to=to_metric(block[used], epsg), ordered=True)
    raw, of = shapely.get_parts(diagrams, return_index=True)
    if len(raw) != len(order) or not np.array_equal(of, group):
        raise ValueError("a Voronoi diagram did not give one cell per site")
    out = np.empty(len(owner), dtype=object)
    out[order] = shapely.intersection(from_metric(raw, epsg), block[owner[order]])
    return out[sites]


def _cores(cell: Geoms, points: Geoms) -> tuple[Geoms, list[BaseGeometry]]:
    """Per cell, the polygon part holding its point (the first; else the largest); and every
    other part."""
    parts, of = polygon_parts(cell)
    cores = np.full(len(cell), shapely.Polygon(), dtype=object)
    if not len(parts):
        return cores, []
    holds = shapely.covers(parts, points[of])
    area = shapely.area(parts)
    # by cell; holding parts before the others; among those, the first, else the largest
    rank = np.where(holds, np.arange(len(parts)), -area)
    order = np.lexsort((rank, ~holds, of))
    at, first = np.unique(of[order], return_index=True)
    chosen = order[first]
    cores[at] = parts[chosen]
    rest = np.ones(len(parts), dtype=bool)
    rest[chosen] = False
    return cores, list(parts[rest])


def polygon_parts(geoms: Geoms) -> tuple[Geoms, Ints]:
    """The polygons with area of each geometry (made valid first), and whose each is."""
    valid = geoms.copy()
    bad = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    if len(bad):
        valid[bad] = shapely.make_valid(geoms[bad])
    parts, of = shapely.get_parts(valid, return_index=True)
    while True:
        nested = np.isin(shapely.get_type_id(parts), COLLECTIONS)
        if not nested.any():
            break
        inner, at = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        of = np.concatenate([of[~nested], of[nested][at]])
    keep = (shapely.get_type_id(parts) == POLYGON) & (shapely.area(parts) > 0.0)
    parts, of = parts[keep], of[keep]
    order = np.argsort(of, kind="stable")
    return parts[order], of[order]
