"""The ground an auto-proposal divides (geo.plan.propose): the free part of a community (what
its kept grids leave), cut into street blocks by the walk network, the cells of the buildings
inside their blocks, the building adjacency graph the partition grows on, and the grid shapes
made back from the cells of a partition; and where the partition's regions start (seeds
spread over the sites).

Buildings at one point share one Voronoi cell, so they are grouped into *sites* that always go
to one grid together. A site's cell is drawn inside its street block (the Voronoi diagram of
the block's sites, clipped to the block), so two grids that meet at a street meet exactly on
its centre line. Cells are lon/lat (cells.building_cells) so that the new grids end exactly on
the community boundary and on the kept grids' edges; lengths are measured in the metric zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_transformer, to_metric
from geo.plan.block_cells import cells_in_blocks
from geo.plan.cells import first_covering
from geo.plan.metrics import building_edges
from geo.plan.model import Buildings, PlanBuilding, PlanGrid, Scope, grouped
from geo.plan.shapes import (
    EDGE_EPS_M,
    EDGE_MIN_M,
    NOISE_M2,
    areas_m2,
    clean,
    common_segments_m,
    polygons,
    shared_edge_m,
    union,
    welded,
)
from geo.plan.validate import Floats, Geoms, Ints

Bools = npt.NDArray[np.bool_]


@dataclass
class Sites:
    """Buildings grouped by location (first appearance order), as columns: a site per point,
    and the buildings (ids) with the site each stands on."""

    points: Geoms  # lon/lat Points
    xy: Floats  # (n, 2) metric coordinates
    households: Ints
    ids: Ints  # building ids, site by site
    site: Ints  # the site of each of ``ids``

    def __len__(self) -> int:
        return len(self.points)

    @property
    def buildings(self) -> list[list[int]]:
        """The building ids at each site."""
        return self.members(np.arange(len(self)), len(self))

    def members(self, labels: Sequence[int] | Ints, k: int) -> list[list[int]]:
        """The building ids of each of ``k`` groups, given the group of every site."""
        return [self.ids[at].tolist()
                for at in grouped(np.asarray(labels, dtype=np.intp)[self.site], k)]

    def subset(self, chosen: Sequence[int]) -> Sites:
        """The sites ``chosen`` (in that order), with their buildings."""
        new = np.full(len(self), -1, dtype=np.intp)
        new[list(chosen)] = np.arange(len(chosen))
        keep = new[self.site] >= 0
        return Sites(self.points[chosen], self.xy[chosen], self.households[chosen],
                     self.ids[keep], new[self.site[keep]])

    def merged(self, owner: Ints, chosen: Sequence[int]) -> Sites:
        """Sites gathered into the sites ``chosen``: every site into ``owner`` (an index into
        ``chosen``), its households and its buildings with it."""
        households = np.bincount(owner, weights=self.households, minlength=len(chosen))
        return Sites(self.points[chosen], self.xy[chosen], np.rint(households).astype(np.intp),
                     self.ids, owner[self.site])


@dataclass
class Ground:
    cores: Geoms  # per site: the part of its cell that holds it (lon/lat)
    spare: list[BaseGeometry]  # ground in no core: cut-off cell parts, blocks without sites
    edges: Ints  # (m, 2) site index pairs whose cores share an edge
    length_m: Floats  # (m,) length of that shared edge
    street: Bools  # (m,) the pair lies on two sides of a street line
    blocks: int  # street blocks the cells were drawn in (1: no network, or the fallback)

    def components(self) -> tuple[int, Ints]:
        return _components(len(self.cores), self.edges)


def sites_of(buildings: Sequence[PlanBuilding], epsg: int) -> Sites:
    """The sites of buildings that all have a point."""
    mine = Buildings.of(buildings)
    keys = shapely.get_x(mine.points) + 1j * shapely.get_y(mine.points)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # sites in first appearance order
    rank = np.empty(len(first), dtype=np.intp)
    rank[order] = np.arange(len(first))
    site = rank[inverse.reshape(-1)]
    households = np.bincount(site, weights=np.maximum(mine.households, 0), minlength=len(first))
    geoms = mine.points[first[order]]
    # the coordinates converted as arrays: converting the points (shapely.transform) made
    # a new geometry apiece, five times the conversion's own cost
    x, y = metric_transformer(epsg).transform(shapely.get_x(geoms), shapely.get_y(geoms))
    xy = np.column_stack([x, y]) if len(geoms) else np.empty((0, 2))
    by_site = np.argsort(site, kind="stable")
    return Sites(geoms, xy, np.rint(households).astype(np.intp), mine.ids[by_site],
                 site[by_site])


def _components(n: int, edges: Ints) -> tuple[int, Ints]:
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    return int(count), labels.astype(np.intp)


def _site_scope(sites: Sites, idx: Sequence[int], community: str, epsg: int,
                bound: BaseGeometry) -> Scope:
    """A throwaway scope of some sites (building id = site index) inside ``bound``, to reuse
    the Voronoi cells and the Delaunay edges of the editor."""
    at = np.asarray(idx, dtype=np.intp)
    buildings = Buildings(at, sites.points[at], np.zeros(len(at)), np.zeros(len(at)),
                          community=[community] * len(at))
    return Scope(code=community, epsg=epsg, communities={community: bound}, grids=[],
                 buildings=buildings)


def ground(free: BaseGeometry, sites: Sites, community: str, epsg: int,
           network: BaseGeometry | Streets | None) -> Ground:
    """Cells, spare ground and the adjacency graph of ``sites`` in ``free``. Cells are drawn in
    street blocks when a network is given, unless that splits the graph into more pieces than
    the plain cells do (a block whose cells touch no cell across its streets): the grids must be
    contiguous, and following streets is only a preference."""
    return ground_in_blocks(free, sites, community, epsg, network)[0]


Centres = Callable[[Ints], Ints]  # the block of every site → the sites picked


def ground_in_blocks(free: BaseGeometry, sites: Sites, community: str, epsg: int,
                     network: BaseGeometry | Streets | None, centres: Centres | None = None
                     ) -> tuple[Ground, list[int]]:
    """``ground`` of the sites that ``centres`` picks from the blocks' sites (all of them
    when None: geo.plan.parcels gathers many into few); and the sites picked, in the order
    of the ground's cells."""
    network = _streets_near(network, free)
    blocks = street_blocks(free, network, sites, epsg) if network is not None else [free]
    found, chosen = _picked(blocks, free, sites, community, epsg, network, centres)
    if found.blocks > 1 and found.components()[0] > 1:
        plain, alone = _picked([free], free, sites, community, epsg, network, centres)
        if plain.components()[0] < found.components()[0]:
            return plain, alone
    return found, chosen


def _picked(blocks: list[BaseGeometry], free: BaseGeometry, sites: Sites, community: str,
            epsg: int, network: BaseGeometry | None, centres: Centres | None
            ) -> tuple[Ground, list[int]]:
    if centres is None:
        return _ground_in(blocks, free, sites, community, epsg, network), list(range(len(sites)))
    chosen = sorted(centres(_block_of(blocks, sites.points)).tolist())
    return _ground_in(blocks, free, sites.subset(chosen), community, epsg, network), chosen


def _ground_in(blocks: list[BaseGeometry], free: BaseGeometry, sites: Sites, community: str,
               epsg: int, network: BaseGeometry | None) -> Ground:
    cores, spare = cells_in_blocks(blocks, _block_of(blocks, sites.points), sites.points,
                                   sites.xy, epsg)
    pairs = building_edges(_site_scope(sites, range(len(sites)), community, epsg, free))
    length = _shared_m(cores, pairs, epsg)
    keep = length > EDGE_MIN_M
    pairs, length = pairs[keep], length[keep]
    return Ground(cores, spare, pairs, length, _crossing(sites, pairs, network), len(blocks))


class Streets:
    """The street lines of a network, indexed once: the network may be a whole district's,
    and every community asks for the few lines around it."""

    def __init__(self, network: BaseGeometry) -> None:
        parts = shapely.get_parts(shapely.get_parts(network))
        lines = shapely.get_type_id(parts) == 1  # LineString (a LinearRing is 2)
        lines |= shapely.get_type_id(parts) == 2
        self.parts = parts[lines & ~shapely.is_empty(parts)]
        self.tree = shapely.STRtree(self.parts)

    def near(self, free: BaseGeometry) -> BaseGeometry | None:
        hit = np.sort(self.tree.query(shapely.box(*free.bounds), predicate="intersects"))
        return shapely.multilinestrings(self.parts[hit]) if len(hit) else None


def _streets_near(network: BaseGeometry | Streets | None, free: BaseGeometry
                  ) -> BaseGeometry | None:
    """The street lines around ``free``: every overlay below would otherwise walk all of
    the network."""
    if network is None or free.is_empty:
        return None
    return (network if isinstance(network, Streets) else Streets(network)).near(free)


def _block_of(blocks: list[BaseGeometry], points: Geoms) -> Ints:
    """The block of each site: the first covering it, else the nearest (a building recorded in
    the community but standing just outside it)."""
    owner = np.full(len(points), -1, dtype=np.intp)
    if len(blocks) == 1:
        owner[:] = 0
        return owner
    owner[:] = first_covering(points, blocks)
    lost = np.flatnonzero(owner < 0)
    if len(lost):
        owner[lost] = shapely.STRtree(blocks).nearest(points[lost])
    return owner


def _shared_m(cores: Geoms, pairs: Ints, epsg: int) -> Floats:
    """Length in metres of the edge each pair of cores shares. Cells of one diagram share
    their vertices exactly, so their intersection is that edge; cells of two blocks meet along
    the street with vertices a float's width off each other's edges, where the intersection
    may come out empty, so touching pairs are measured again along a 1 cm band."""
    if not len(pairs):
        return np.zeros(0)
    metric = to_metric(cores, epsg)
    a, b = metric[pairs[:, 0]], metric[pairs[:, 1]]
    try:
        length = np.asarray(shapely.length(shapely.intersection(a, b)), dtype=np.float64)
    except shapely.errors.GEOSException:
        # GEOS fails on a nearly coincident pair now and then (a side location conflict):
        # all of them are measured along the band instead, which does not fail
        length = np.zeros(len(pairs))
    again = np.flatnonzero((length <= EDGE_MIN_M) & shapely.dwithin(a, b, EDGE_EPS_M))
    if len(again):
        band = shapely.buffer(b[again], EDGE_EPS_M)
        length[again] = shapely.length(shapely.intersection(shapely.boundary(a[again]), band))
    return length


def _crossing(sites: Sites, pairs: Ints, network: BaseGeometry | None) -> Bools:
    crossing = np.zeros(len(pairs), dtype=bool)
    if network is None or not len(pairs):
        return crossing
    streets = [s for s in shapely.get_parts(network) if not s.is_empty]
    if not streets:
        return crossing
    lines = shapely.linestrings(np.stack([shapely.get_coordinates(sites.points[pairs[:, 0]]),
                                          shapely.get_coordinates(sites.points[pairs[:, 1]])], axis=1))
    hit, _ = shapely.STRtree(streets).query(lines, predicate="intersects")
    crossing[np.unique(hit)] = True
    return crossing


# ---------------------------------------------------------------- street blocks

def street_blocks(free: BaseGeometry, network: BaseGeometry, sites: Sites, epsg: int) -> list[BaseGeometry]:
    """``free`` cut by the streets into blocks (dead ends cut nothing). A block without a
    building (a park, a square) joins the neighbouring block it shares the longest edge with,
    so that the buildings on either side of it stay neighbours."""
    if free.is_empty:
        return []
    lines = _lines_of(shapely.intersection(network, free))
    if lines.is_empty:
        return [free]
    noded = shapely.union_all([free.boundary, lines])
    faces = [p for p in polygons(shapely.polygonize(shapely.get_parts(noded)))
             if free.covers(p.representative_point())]
    if len(faces) < 2:
        return [free]
    owner = _block_of(faces, sites.points)
    return _join_empty(faces, np.bincount(owner, minlength=len(faces)) > 0, epsg)


def _lines_of(geom: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(shapely.get_parts(geom))
             if p.geom_type in ("LineString", "LinearRing") and not p.is_empty]
    return shapely.MultiLineString(parts) if parts else shapely.MultiLineString()


def _join_empty(faces: list[BaseGeometry], occupied: Bools, epsg: int) -> list[BaseGeometry]:
    """Faces without a site joined to the neighbour sharing the longest edge with them
    (measured once for every touching pair), until every group holds a site or no empty
    face has a neighbour outside its group."""
    group = list(range(len(faces)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    pairs, length = common_segments_m(faces, epsg)
    near: list[list[tuple[float, int]]] = [[] for _ in faces]
    for (a, b), m in zip(pairs.tolist(), length.tolist(), strict=True):
        if m > EDGE_MIN_M:
            near[a].append((m, b))
            near[b].append((m, a))
    changed = True
    while changed:
        changed = False
        for i in range(len(faces)):
            if occupied[root(i)]:
                continue
            best = max(((m, j) for m, j in near[i] if root(j) != root(i)), default=None)
            if best is not None:
                r, other = root(i), root(best[1])
                group[r] = other
                occupied[other] |= occupied[r]
                changed = True
    merged: dict[int, list[BaseGeometry]] = {}
    for i, face in enumerate(faces):
        merged.setdefault(root(i), []).append(face)
    return [parts[0] if len(parts) == 1 else union(parts, epsg) for parts in merged.values()]


# ---------------------------------------------------------------- the site graph

@dataclass
class SiteGraph:
    """One connected piece of the site graph in local indices, as Python lists: the search of
    geo.plan.propose visits single sites, where lists beat numpy."""

    xy: Floats  # metric
    w: list[int]  # households
    nbrs: list[list[tuple[int, float, bool]]]  # (neighbour, cut weight, across a street)

    def restrict(self, idx: Sequence[int]) -> SiteGraph:
        local = {v: i for i, v in enumerate(idx)}
        nbrs = [[(local[u], c, s) for u, c, s in self.nbrs[v] if u in local] for v in idx]
        return SiteGraph(self.xy[list(idx)], [self.w[v] for v in idx], nbrs)

    def regions_around(self, labels: Sequence[int], sites: Iterable[int]) -> set[int]:
        """The regions of ``sites`` and of their neighbours."""
        return {labels[u] for v in sites for u, _, _ in self.nbrs[v]} | {labels[v] for v in sites}

    def stays_connected(self, labels: Sequence[int], v: int) -> bool:
        """Whether v's region stays connected without v: a search from one of v's neighbours
        in the region, stopping as soon as it has reached the others (usually a few steps
        away, so a move costs little even in a region of thousands of sites)."""
        a = labels[v]
        ends = {u for u, _, _ in self.nbrs[v] if labels[u] == a}
        if len(ends) <= 1:
            return True
        start = min(ends)
        seen = {v, start}
        todo = [start]
        left = len(ends) - 1
        while todo and left:
            for u, _, _ in self.nbrs[todo.pop()]:
                if u not in seen and labels[u] == a:
                    seen.add(u)
                    todo.append(u)
                    if u in ends:
                        left -= 1
        return left == 0


def site_graph(found: Ground, sites: Sites, idx: Ints, street_cut: float) -> SiteGraph:
    """The graph of the sites ``idx`` (one piece of ``found``); an edge's cut weight is the
    length of the cells' shared edge, times ``street_cut`` along a street."""
    local = np.full(len(sites), -1, dtype=np.intp)
    local[idx] = np.arange(len(idx))
    inside = (local[found.edges[:, 0]] >= 0) & (local[found.edges[:, 1]] >= 0)
    nbrs: list[list[tuple[int, float, bool]]] = [[] for _ in range(len(idx))]
    cut = found.length_m * np.where(found.street, street_cut, 1.0)
    for (a, b), c, s in zip(found.edges[inside].tolist(), cut[inside].tolist(),
                            found.street[inside].tolist(), strict=True):
        nbrs[local[a]].append((int(local[b]), c, s))
        nbrs[local[b]].append((int(local[a]), c, s))
    return SiteGraph(sites.xy[idx], sites.households[idx].tolist(), nbrs)


# ---------------------------------------------------------------- grid shapes

def shapes_of(labels: Sequence[int], k: int, found: Ground, epsg: int) -> tuple[list[BaseGeometry],
                                                                                list[BaseGeometry]]:
    """The shape of each of the ``k`` regions (the union of its sites' cores), with the spare
    ground handed to the region it shares the longest edge with; spare pieces touching no
    region (enclosed by kept grids) are returned apart."""
    groups: list[list[BaseGeometry]] = [[] for _ in range(k)]
    for i, r in enumerate(labels):
        groups[r].append(found.cores[i])
    shapes = [welded(g, epsg) for g in groups]
    pieces = polygons(union(found.spare, epsg)) if found.spare else []
    pieces = [p for p, a in zip(pieces, areas_m2(pieces, epsg), strict=True) if a > NOISE_M2]
    if not pieces or not shapes:
        return shapes, pieces
    metric = list(to_metric(np.array(shapes, dtype=object), epsg))
    tree = shapely.STRtree(metric)
    extra: list[list[BaseGeometry]] = [[] for _ in range(k)]
    alone: list[BaseGeometry] = []
    for piece in pieces:
        m = to_metric(piece, epsg)
        near = tree.query(m, predicate="dwithin", distance=EDGE_EPS_M).tolist()
        best = max(((shared_edge_m(m, metric[j]), -j) for j in near), default=(0.0, 0))
        if best[0] > EDGE_MIN_M:
            extra[-best[1]].append(piece)
        else:
            alone.append(piece)
    shapes = [welded([s, *e], epsg) if e else s for s, e in zip(shapes, extra, strict=True)]
    return shapes, alone


def pieces(geom: BaseGeometry, tolerance_m2: float, epsg: int) -> list[BaseGeometry]:
    """The polygons of ``geom`` above the tolerance."""
    parts = polygons(clean(geom))
    return [p for p, a in zip(parts, areas_m2(parts, epsg), strict=True) if a > tolerance_m2]


def lineages(shapes: Sequence[BaseGeometry], old: Sequence[PlanGrid], tolerance_m2: float,
             epsg: int) -> list[tuple[int, ...]]:
    """For each of ``shapes``, the keys of the ``old`` grids it overlaps by more than the
    tolerance (all pairs in one vectorised overlay)."""
    out: list[list[int]] = [[] for _ in shapes]
    if not len(shapes) or not len(old):
        return [()] * len(shapes)
    tree = shapely.STRtree([g.geom for g in old])
    new, was = tree.query(np.array(shapes, dtype=object), predicate="intersects")
    if len(new):
        overlap = shapely.intersection(np.array(shapes, dtype=object)[new],
                                       tree.geometries[was])
        area = shapely.area(to_metric(overlap, epsg))
        for n, w in zip(new[area > tolerance_m2].tolist(), was[area > tolerance_m2].tolist(),
                        strict=True):
            out[n].append(old[w].key)
    return [tuple(sorted(keys)) for keys in out]
