"""A walk network in memory: nearest site (e.g. 党群服务中心) of every node, and the route.

Pure: numpy and scipy.sparse.csgraph on arrays read in bulk elsewhere; no database, no HTTP.

Sites and query points do not sit on nodes: each is snapped to its nearest *edge* at a
fraction ``t`` of the edge (as PostGIS ``ST_LineLocatePoint`` gives it) with a straight
``offset_m`` to the edge. A site becomes a virtual node with two arcs into the network, to the
edge's ends at ``offset + t·L`` and ``offset + (1-t)·L``; ONE multi-source Dijkstra from all
virtual nodes then gives every node its walking distance to the nearest site, which site,
and the predecessor towards it. A query costs a few array reads plus the route's length.

Edge lengths are metres (``length_m`` of the edge); fractions are of the edge's geometry,
so a partial edge counts ``t·length_m``. Routes are LineString coordinates (lon, lat)
rounded to 1e-7° (about 1 cm), given as the JSON text of the coordinate array: every edge's
line is encoded once when the network is built, towards the nearest site, so a query only
joins the pieces along the predecessors (the lookup answers with that text as it is). The
graph is built with numpy and scipy once per data version; a query then only walks Python
lists (a route has tens of points: numpy's per-call overhead would cost more than the work).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic_core import to_json
from scipy.sparse.csgraph import dijkstra

Coords = npt.NDArray[np.float64]
Line = list[list[float]]
DIGITS = 7


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
    route_json: bytes  # the JSON array [[lon, lat], …] from the query point to the site

    @property
    def route(self) -> Line:
        return json.loads(self.route_json)


@dataclass(frozen=True)
class Edges:
    """The network as parallel arrays, one row per edge (undirected)."""

    ids: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]
    target: npt.NDArray[np.int64]
    length_m: npt.NDArray[np.float64]
    coords: Sequence[Coords]  # one (n, 2) array per edge, from source to target


def _cut(line: Line, t: float) -> tuple[Line, Line]:
    """Split a line at fraction ``t`` of its planar length (ST_LineLocatePoint's measure):
    the part from the start to the point, and from the point to the end (the point is not
    repeated where it falls on a vertex)."""
    return _cut_at(line, _cumulative(line), t)


def _cumulative(line: Line) -> list[float]:
    """The planar length walked at each vertex: 0 at the start, the line's length at the end."""
    out = [0.0]
    for a, b in pairwise(line):
        out.append(out[-1] + math.hypot(b[0] - a[0], b[1] - a[1]))
    return out


def _cut_at(line: Line, walked: list[float], t: float) -> tuple[Line, Line]:
    at = min(max(t, 0.0), 1.0) * walked[-1]
    i = min(max(bisect_left(walked, at) - 1, 0), len(line) - 2)  # the segment holding ``at``
    seg = walked[i + 1] - walked[i]
    f = (at - walked[i]) / seg if seg else 0.0
    a, b = line[i], line[i + 1]
    p = [round(a[0] + (b[0] - a[0]) * f, DIGITS), round(a[1] + (b[1] - a[1]) * f, DIGITS)]
    head = line[: i + 1] if p == a else [*line[: i + 1], p]
    tail = line[i + 1:] if p == b else [p, *line[i + 1:]]
    return head, tail


def _between(line: Line, t0: float, t1: float) -> Line:
    """The part of a line between fractions t0 and t1, in the direction t0 → t1."""
    lo, hi = (t0, t1) if t0 <= t1 else (t1, t0)
    head = _cut(line, hi)[0]
    # Re-measure lo on the remaining head (fractions are of the whole line's length).
    part = _cut(head, lo / hi)[1] if hi > 0 else head[-1:]
    return part if t0 <= t1 else part[::-1]


def _dedupe(points: Line) -> Line:
    out = points[:1]
    for p in points[1:]:
        if p != out[-1]:
            out.append(p)
    return out


def _vertices(coords: Coords) -> Line:
    """An edge's vertices rounded to ``DIGITS``, without repeats (at least two: a route
    cut from it needs a segment)."""
    line = _dedupe(np.round(coords, DIGITS).tolist())
    return line if len(line) > 1 else line * 2


def _join(route: Line, part: Line) -> None:
    """Append ``part`` to ``route``, without repeating the point where they meet."""
    route.extend(part[1:] if part and route[-1] == part[0] else part)


def _more(points: Line) -> bytes:
    """Points as the continuation of a JSON array: ``,[x,y],[x,y]`` (empty for none)."""
    return b"," + to_json(points)[1:-1] if points else b""


class WalkNetwork:
    """The graph, the sites and one multi-source Dijkstra's answer for every node."""

    def __init__(self, edges: Edges, sites: Sequence[Site]) -> None:
        self.edges = edges
        self.sites = list(sites)
        self.lines: list[Line] = [_vertices(c) for c in edges.coords]
        self._walked = [_cumulative(line) for line in self.lines]
        self.length: list[float] = edges.length_m.tolist()
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
        # Plain lists for the per-query walk (indexing numpy scalars is slower).
        self._dist: list[float] = self.dist.tolist()
        self._pred: list[int] = self.pred.tolist()
        self._u: list[int] = self.u.tolist()
        self._v: list[int] = self.v.tolist()
        self._toward = [_more(line or []) for line in self._lines_toward_sites()]
        self._last_leg = [self._legs(site) for site in self.on_network]
        self._onward: dict[int, tuple[bytes, int]] = {}  # node → (route onward, site index)

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
        length = self.length[i]
        t, off = snap.fraction, snap.offset_m
        u, v = self._u[i], self._v[i]
        options = [(self._dist[u] + off + t * length, u, -1),
                   (self._dist[v] + off + (1.0 - t) * length, v, -1)]
        for k in self._by_edge.get(snap.edge_id, []):
            s = self.on_network[k].snap
            assert s is not None
            options.append((off + s.offset_m + abs(s.fraction - t) * length, -1, k))
        best = min(options, key=lambda o: o[0])
        if not math.isfinite(best[0]):
            return None
        return self._walk(best, i, snap, [round(lon, DIGITS), round(lat, DIGITS)])

    def _walk(self, best: tuple[float, int, int], i: int, snap: Snap, start: list[float]) -> Walk:
        distance, node, k = best
        line = self.lines[i]
        if node < 0:  # the site is on the point's own edge
            site = self.on_network[k]
            assert site.snap is not None
            part = _between(line, snap.fraction, site.snap.fraction)
            return Walk(site, distance, to_json(_dedupe([start, *part, self._at(site)])))
        head, tail = _cut_at(line, self._walked[i], snap.fraction)
        route = [start]
        _join(route, head[::-1] if node == self._u[i] else tail)
        pieces = [to_json(route)[:-1]]  # the array still open
        k = self._pieces_to_site(pieces, node)
        pieces.append(b"]")
        return Walk(self.on_network[k], distance, b"".join(pieces))

    @staticmethod
    def _at(site: Site) -> list[float]:
        return [round(site.lon, DIGITS), round(site.lat, DIGITS)]

    def _lines_toward_sites(self) -> list[Line | None]:
        """For every node, the line of the edge to its predecessor (towards the nearest site),
        oriented from the node and without the node's own point (the route already ends
        there); None where the predecessor is a site or there is none."""
        out: list[Line | None] = [None] * self.n
        for node, nxt in enumerate(self._pred[: self.n]):
            if 0 <= nxt < self.n:
                i = self._pair[(node, nxt) if node < nxt else (nxt, node)]
                out[node] = (self.lines[i] if self._u[i] == node else self.lines[i][::-1])[1:]
        return out

    def _pieces_to_site(self, pieces: list[bytes], node: int) -> int:
        """Append the encoded route from ``node`` along the predecessors, then the site's own
        edge up to its snap point and the site; return the index of the site reached. The
        route of a node is joined the first time it is asked for and kept (it is the same
        for every point that leaves the edge there)."""
        onward = self._onward.get(node)
        if onward is None:
            onward = self._onward[node] = self._join_onward(node)
        pieces.append(onward[0])
        return onward[1]

    def _join_onward(self, node: int) -> tuple[bytes, int]:
        pred, n, toward = self._pred, self.n, self._toward
        pieces = []
        nxt = pred[node]
        while nxt < n:
            pieces.append(toward[node])
            node, nxt = nxt, pred[nxt]
        source, from_source, from_target = self._last_leg[nxt - n]
        pieces.append(from_source if node == source else from_target)
        return b"".join(pieces), nxt - n

    def _legs(self, site: Site) -> tuple[int, bytes, bytes]:
        """The last leg to a site: along its edge to the snap point, then to the site itself;
        (the edge's source node, the leg from the source, the leg from the target)."""
        assert site.snap is not None
        i = self.row[site.snap.edge_id]
        head, tail = _cut(self.lines[i], site.snap.fraction)
        from_source, from_target = head, tail[::-1]
        for leg in (from_source, from_target):
            _join(leg, [self._at(site)])
        # without the node's own point, as in ``_lines_toward_sites``
        return self._u[i], _more(from_source[1:]), _more(from_target[1:])
