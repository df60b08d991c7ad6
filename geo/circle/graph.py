"""The walk network as one sparse graph, and walking distances to the nearest facility.

Pure: numpy and scipy.sparse.csgraph on arrays read in bulk elsewhere.

Points (buildings, facilities, a clicked place) meet the network where they snap: an edge
row, the fraction ``t`` along it (of its drawn length, as PostGIS ``ST_LineLocatePoint`` and
``geo.lookup.index.EdgeSnapper`` give it) and the straight ``offset`` to it, so a partial
edge counts ``t·length`` rather than the whole edge to a node.

Every facility is a virtual node with two arcs *into* the network (to its edge's ends, at
``offset + t·L`` and ``offset + (1-t)·L``) and none out of it, so one matrix serves every
category: a category's pass is ONE multi-source Dijkstra from its own facilities' virtual
nodes (``min_only``), and no path can run through another facility. A point then takes the
better of its edge's two ends, plus its partial edge and offset, or a facility on its own
edge reached along the edge directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.network import Edges

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Snaps:
    """Many points on the network as parallel arrays; ``row`` is -1 for a point that met no
    edge (off the network)."""

    row: Ints  # the edge's row in ``Edges``
    t: Floats  # fraction along the edge, from its source
    offset: Floats  # metres from the point to the edge

    def __len__(self) -> int:
        return len(self.row)

    def take(self, which: npt.ArrayLike) -> Snaps:
        i = np.asarray(which, dtype=np.int64)
        return Snaps(self.row[i], self.t[i], self.offset[i])


@dataclass(frozen=True)
class Component:
    """A connected piece of the network: its size and one node in it (for a map marker)."""

    nodes: int
    edges: int
    node_id: int


class Graph:
    """The district's network with every facility's virtual node."""

    def __init__(self, edges: Edges, facilities: Snaps) -> None:
        self.edges = edges
        self.length = edges.length_m
        nodes, inverse = np.unique(np.concatenate([edges.source, edges.target]),
                                   return_inverse=True)
        m = len(edges.ids)
        self.node_ids: Ints = nodes
        self.u: Ints = inverse[:m].astype(np.int64)
        self.v: Ints = inverse[m:].astype(np.int64)
        self.n = len(nodes)
        self.facilities = facilities
        self.on_network = facilities.row >= 0
        self.virtual = np.full(len(facilities), -1, dtype=np.int64)  # facility → its node
        self.virtual[self.on_network] = self.n + np.arange(int(self.on_network.sum()))
        self.matrix = self._matrix()

    def _shortest_edges(self) -> Ints:
        """One row per pair of joined nodes: the shortest of parallel edges (a path takes it)."""
        a, b = np.minimum(self.u, self.v), np.maximum(self.u, self.v)
        order = np.lexsort((self.length, b, a))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])
        return order[first]

    def _matrix(self) -> sp.csr_matrix:
        keep = self._shortest_edges()
        rows = [self.u[keep], self.v[keep]]
        cols = [self.v[keep], self.u[keep]]
        data = [self.length[keep], self.length[keep]]
        self._network = (np.concatenate(rows), np.concatenate(cols), np.concatenate(data))
        on = np.flatnonzero(self.on_network)
        if len(on):
            f = self.facilities.take(on)
            length = self.length[f.row]
            rows += [self.virtual[on], self.virtual[on]]
            cols += [self.u[f.row], self.v[f.row]]
            data += [f.offset + f.t * length, f.offset + (1.0 - f.t) * length]
        size = self.n + len(on)
        # Every (row, col) is unique: parallel edges were reduced above, and a facility's two
        # arcs go to the two different ends of its edge (the schema refuses loops).
        return sp.csr_matrix((np.concatenate(data), (np.concatenate(rows),
                                                     np.concatenate(cols))), shape=(size, size))

    @cached_property
    def component(self) -> Ints:
        """Each node's connected component, numbered from the largest (0) down."""
        _, labels = connected_components(self.matrix[: self.n, : self.n], directed=False)
        sizes = np.bincount(labels)
        rank = np.empty(len(sizes), dtype=np.int64)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
        return rank[labels]

    def components(self) -> list[Component]:
        """Every connected piece, largest first."""
        if not self.n:
            return []
        nodes = np.bincount(self.component)
        edges = np.bincount(self.component[self.u], minlength=len(nodes))
        first = np.full(len(nodes), -1, dtype=np.int64)
        first[self.component[::-1]] = np.arange(self.n)[::-1]  # the lowest node of each
        return [Component(int(n), int(e), int(self.node_ids[f]))
                for n, e, f in zip(nodes, edges, first, strict=True)]

    def from_facilities(self, which: Ints, limit: float = np.inf) -> tuple[Floats, Ints]:
        """One multi-source pass from the facilities ``which`` (positions in ``facilities``;
        those off the network are ignored): every node's distance to the nearest of them
        (inf beyond ``limit`` or out of reach) and which facility that is (-1 for none)."""
        sources = self.virtual[which]
        sources = sources[sources >= 0]
        if not len(sources):
            return np.full(self.n, np.inf), np.full(self.n, -1, dtype=np.int64)
        dist, _, origin = dijkstra(self.matrix, directed=True, indices=sources, min_only=True,
                                   limit=limit, return_predecessors=True)
        facility = np.full(len(self.virtual), -1, dtype=np.int64)
        facility[self.virtual[self.virtual >= 0] - self.n] = np.flatnonzero(self.virtual >= 0)
        origin = origin[: self.n]
        found = np.where(origin >= 0, facility[np.maximum(origin - self.n, 0)], -1)
        return dist[: self.n], found

    def from_point(self, at: Snaps, limit: float = np.inf) -> Floats:
        """Every node's distance from one point (``at`` holds one snap), up to ``limit``."""
        row, t, off = int(at.row[0]), float(at.t[0]), float(at.offset[0])
        length = float(self.length[row])
        rows, cols, data = self._network
        graph = sp.csr_matrix((np.append(data, [off + t * length, off + (1.0 - t) * length]),
                               (np.append(rows, [self.n, self.n]),
                                np.append(cols, [self.u[row], self.v[row]]))),
                              shape=(self.n + 1, self.n + 1))
        return dijkstra(graph, directed=True, indices=self.n, limit=limit)[: self.n]

    def nearest(self, which: Ints, points: Snaps, limit: float = np.inf
                ) -> tuple[Floats, Ints]:
        """For each point: the walking distance in metres to the nearest of the facilities
        ``which`` and that facility's position (inf and -1 for none within ``limit``, or a
        point off the network)."""
        dist, found = self.from_facilities(which, limit)
        best, end = self.at_points(dist, points)
        facility = found[end]
        self._same_edge(which, points, best, facility)
        none = (points.row < 0) | (best > limit)
        best[none], facility[none] = np.inf, -1
        return best, facility

    def at_points(self, dist: Floats, points: Snaps) -> tuple[Floats, Ints]:
        """Points' distances from the nodes' ``dist``: through the nearer end of their edge,
        plus the part of the edge and the offset; and which end (node) that was. (Points off
        the network get a meaningless figure: callers mask them.)"""
        row = np.where(points.row >= 0, points.row, 0)
        length = self.length[row]
        u, v = self.u[row], self.v[row]
        via_u = dist[u] + points.offset + points.t * length
        via_v = dist[v] + points.offset + (1.0 - points.t) * length
        return np.minimum(via_u, via_v), np.where(via_u <= via_v, u, v)

    def from_point_to(self, origin: Snaps, points: Snaps, limit: float = np.inf) -> Floats:
        """Walking metres from one point (``origin``) to each of ``points`` (inf beyond
        ``limit``, off the network, or out of reach)."""
        best, _ = self.at_points(self.from_point(origin, limit), points)
        same = np.flatnonzero(points.row == origin.row[0])
        if origin.row[0] >= 0 and len(same):
            direct = (points.offset[same] + origin.offset[0] + np.abs(
                points.t[same] - origin.t[0]) * self.length[origin.row[0]])
            best[same] = np.minimum(best[same], direct)
        best[(points.row < 0) | (best > limit)] = np.inf
        return best

    def network_arcs(self) -> tuple[Ints, Ints, Floats]:
        """The network's arcs (both ways, parallel edges reduced) as COO rows, cols, data."""
        return self._network

    @cached_property
    def node_lonlat(self) -> Floats:
        """Each node's position (lon, lat): an end of an edge that meets it."""
        out = np.zeros((self.n, 2))
        coords = self.edges.coords
        out[self.v] = [c[-1] for c in coords]
        out[self.u] = [c[0] for c in coords]
        return out

    def _same_edge(self, which: Ints, points: Snaps, best: Floats, facility: Ints) -> None:
        """A facility on a point's own edge, reached along the edge (in place)."""
        mine = which[self.on_network[which]]
        if not len(mine):
            return
        f = self.facilities.take(mine)
        hit = np.flatnonzero(np.isin(points.row, f.row) & (points.row >= 0))
        by_edge: dict[int, list[int]] = {}
        for k, r in enumerate(f.row.tolist()):
            by_edge.setdefault(r, []).append(k)
        for i in hit.tolist():
            r = int(points.row[i])
            for k in by_edge[r]:
                d = (points.offset[i] + f.offset[k]
                     + abs(points.t[i] - f.t[k]) * self.length[r])
                if d < best[i]:
                    best[i], facility[i] = d, mine[k]
