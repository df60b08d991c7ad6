"""A walk network in memory: nearest site (e.g. 党群服务中心) of every node, and the route.

Pure: numpy and scipy.sparse.csgraph on arrays read in bulk elsewhere; no database, no HTTP.

Sites and query points do not sit on nodes: each is snapped to its nearest *edge* at a
fraction ``t`` of the edge (as PostGIS ``ST_LineLocatePoint`` gives it) with a straight
``offset_m`` to the edge. A site becomes a virtual node with two arcs into the network, to the
edge's ends at ``offset + t·L`` and ``offset + (1-t)·L``; ONE multi-source Dijkstra from all
virtual nodes then gives every node its walking distance to the nearest site, which site,
and the predecessor towards it. A query costs a few array reads plus the route's length.

Edge lengths are metres (``length_m`` of the edge); fractions are of the edge's geometry,
so a partial edge counts ``t·length_m``. Routes are LineString coordinates (lon, lat).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

Coords = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Snap:
    """Where a point meets the network: an edge, the fraction along it, and how far off."""

    edge_id: int
    fraction: float
    offset_m: float


@dataclass(frozen=True)
class Site:
    """A destination (a service centre): its key, position and snap (None: off the network)."""

    key: int
    lon: float
    lat: float
    snap: Snap | None


@dataclass(frozen=True)
class Walk:
    site: Site
    distance_m: float
    route: Coords  # (n, 2) lon, lat from the query point to the site


@dataclass(frozen=True)
class Edges:
    """The network as parallel arrays, one row per edge (undirected)."""

    ids: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]
    target: npt.NDArray[np.int64]
    length_m: npt.NDArray[np.float64]
    coords: Sequence[Coords]  # one (n, 2) array per edge, from source to target


def _cut(coords: Coords, t: float) -> tuple[Coords, Coords]:
    """Split a line at fraction ``t`` of its planar length (ST_LineLocatePoint's measure):
    the part from the start to the point, and from the point to the end."""
    t = min(max(t, 0.0), 1.0)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    at = t * cum[-1]
    i = int(np.searchsorted(cum, at, side="right") - 1)
    i = min(max(i, 0), len(coords) - 2)
    span = seg[i] or 1.0
    p = coords[i] + (coords[i + 1] - coords[i]) * ((at - cum[i]) / span)
    head = np.vstack([coords[: i + 1], p])
    tail = np.vstack([p, coords[i + 1:]])
    return head, tail


def _dedupe(points: Coords) -> Coords:
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.any(np.diff(points, axis=0) != 0.0, axis=1)
    return points[keep]


class WalkNetwork:
    """The graph, the sites and one multi-source Dijkstra's answer for every node."""

    def __init__(self, edges: Edges, sites: Sequence[Site]) -> None:
        self.edges = edges
        self.sites = list(sites)
        nodes, inverse = np.unique(np.concatenate([edges.source, edges.target]),
                                   return_inverse=True)
        m = len(edges.ids)
        self.node_ids = nodes
        self.u = inverse[:m].astype(np.int64)
        self.v = inverse[m:].astype(np.int64)
        self.n = len(nodes)
        self.row = {int(e): i for i, e in enumerate(edges.ids)}
        self._pair = self._pair_index()
        self.on_network = [s for s in self.sites if s.snap is not None and s.snap.edge_id in self.row]
        self._by_edge: dict[int, list[int]] = {}
        for k, s in enumerate(self.on_network):
            assert s.snap is not None
            self._by_edge.setdefault(s.snap.edge_id, []).append(k)
        self.dist, self.pred = self._solve()

    def _pair_index(self) -> dict[tuple[int, int], int]:
        """The shortest edge between two nodes (parallel edges: the graph keeps the minimum,
        so the route must use that same edge)."""
        best: dict[tuple[int, int], int] = {}
        for i in np.argsort(-self.edges.length_m, kind="stable"):
            a, b = int(self.u[i]), int(self.v[i])
            best[(a, b) if a < b else (b, a)] = int(i)
        return best

    def _arcs(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        pairs = np.array(list(self._pair.values()), dtype=np.int64)
        length = self.edges.length_m[pairs]
        rows = [self.u[pairs], self.v[pairs]]
        cols = [self.v[pairs], self.u[pairs]]
        data = [length, length]
        for k, s in enumerate(self.on_network):
            assert s.snap is not None
            i = self.row[s.snap.edge_id]
            t, off, length_i = s.snap.fraction, s.snap.offset_m, float(self.edges.length_m[i])
            rows.append(np.array([self.n + k, self.n + k]))
            cols.append(np.array([self.u[i], self.v[i]]))
            data.append(np.array([off + t * length_i, off + (1.0 - t) * length_i]))
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(data)

    def _solve(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
        size = self.n + len(self.on_network)
        if not self.on_network:
            return np.full(size, np.inf), np.full(size, -9999, dtype=np.int32)
        rows, cols, data = self._arcs()
        # A site's two arcs can land on one node only if its edge were a loop (refused by the
        # schema); otherwise every (row, col) is unique, so nothing is summed here.
        graph = sp.csr_matrix((data, (rows, cols)), shape=(size, size))
        sources = np.arange(self.n, size)
        dist, pred, _ = dijkstra(graph, directed=True, indices=sources, min_only=True,
                                 return_predecessors=True)
        return dist, pred

    def nearest(self, snap: Snap, lon: float, lat: float) -> Walk | None:
        """The site nearest along the network from a point snapped at ``snap``; None when
        the edge is unknown or no site can be reached."""
        i = self.row.get(snap.edge_id)
        if i is None:
            return None
        length = float(self.edges.length_m[i])
        t, off = snap.fraction, snap.offset_m
        options = [(float(self.dist[self.u[i]]) + off + t * length, "u", -1),
                   (float(self.dist[self.v[i]]) + off + (1.0 - t) * length, "v", -1)]
        for k in self._by_edge.get(snap.edge_id, []):
            s = self.on_network[k].snap
            assert s is not None
            options.append((off + s.offset_m + abs(s.fraction - t) * length, "edge", k))
        best = min(options, key=lambda o: o[0])
        if not np.isfinite(best[0]):
            return None
        return self._walk(best, i, snap, lon, lat)

    def _walk(self, best: tuple[float, str, int], i: int, snap: Snap, lon: float,
              lat: float) -> Walk:
        distance, via, k = best
        coords = self.edges.coords[i]
        start = np.array([[lon, lat]])
        if via == "edge":
            site = self.on_network[k]
            assert site.snap is not None
            part = _between(coords, snap.fraction, site.snap.fraction)
            pieces = [start, part, np.array([[site.lon, site.lat]])]
            return Walk(site, distance, _dedupe(np.vstack(pieces)))
        head, tail = _cut(coords, snap.fraction)
        node = int(self.u[i]) if via == "u" else int(self.v[i])
        first = head[::-1] if via == "u" else tail
        path, last, k = self._path_to_site(node)
        site = self.on_network[k]
        pieces = [start, first, *path, self._last_leg(site, last)]
        return Walk(site, distance, _dedupe(np.vstack(pieces)))

    def _path_to_site(self, node: int) -> tuple[list[Coords], int, int]:
        """Edge geometries from ``node`` along the predecessors to the last node before the
        site, that node, and the index of the site reached."""
        pieces: list[Coords] = []
        while True:
            nxt = int(self.pred[node])
            if nxt >= self.n:
                return pieces, node, nxt - self.n
            a, b = (node, nxt) if node < nxt else (nxt, node)
            i = self._pair[(a, b)]
            c = self.edges.coords[i]
            pieces.append(c if int(self.u[i]) == node else c[::-1])
            node = nxt

    def _last_leg(self, site: Site, path_end: int) -> Coords:
        """From the last node along the site's edge to its snap point, then to the site."""
        assert site.snap is not None
        i = self.row[site.snap.edge_id]
        head, tail = _cut(self.edges.coords[i], site.snap.fraction)
        leg = head if int(self.u[i]) == path_end else tail[::-1]
        return np.vstack([leg, [[site.lon, site.lat]]])


def _between(coords: Coords, t0: float, t1: float) -> Coords:
    """The part of a line between fractions t0 and t1, in the direction t0 → t1."""
    lo, hi = (t0, t1) if t0 <= t1 else (t1, t0)
    tail = _cut(coords, lo)[1]
    # Re-measure hi on the remaining part (fractions are of the whole line's length).
    total = float(np.hypot(*np.diff(coords, axis=0).T).sum()) or 1.0
    rest = float(np.hypot(*np.diff(tail, axis=0).T).sum()) or 1.0
    part = _cut(tail, (hi - lo) * total / rest)[0]
    return part if t0 <= t1 else part[::-1]
