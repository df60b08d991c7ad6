"""Where to add k service points so that the most households outside a category's circle
come within it: the maximal covering location problem (MCLP), solved exactly.

Coverage first: from every uncovered building, one bounded Dijkstra (chunked, so memory
stays small) finds the candidates within the threshold's walk. Candidates that cover nobody
are dropped, and of candidates that cover the same buildings only the first is kept (a node
inside a block and its neighbour usually do). Then a mixed-integer program (scipy's HiGHS):
maximise the households covered, with k sites, each building covered when a chosen site
reaches it. The sites are listed in the order that adds the most households first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import dijkstra

from geo.circle.district import DistrictCircle, metres_per_minute
from geo.circle.graph import Floats, Graph, Ints, Snaps
from geo.errors import InvalidInput

CHUNK_CELLS = 8_000_000  # distances held at once (64 MB of float64)
DOMINANCE_ROWS = 2_000  # candidates whose overlaps with all others are held at once
MAX_DEMAND = 5_000  # buildings outside the circle one siting may weigh
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Coverage:
    """Which candidate covers which demand point: a sparse (candidates × points) 0/1 matrix."""

    matrix: sp.csr_matrix

    def households(self, chosen: Ints, weights: Floats) -> float:
        covered = np.asarray(self.matrix[chosen].sum(axis=0)).ravel() > 0
        return float(weights[covered].sum())


def node_coverage(graph: Graph, points: Snaps, radius: float) -> Coverage:
    """Network nodes (as candidates) × ``points`` within ``radius`` metres of walk."""
    on = np.flatnonzero(points.row >= 0)
    n, size = graph.n, graph.n + len(on)
    rows, cols, data = graph.network_arcs()
    p = points.take(on)
    length = graph.length[p.row]
    virtual = n + np.arange(len(on))
    matrix = sp.csr_matrix((np.concatenate([data, p.offset + p.t * length,
                                            p.offset + (1 - p.t) * length]),
                            (np.concatenate([rows, virtual, virtual]),
                             np.concatenate([cols, graph.u[p.row], graph.v[p.row]]))),
                           shape=(size, size))
    pairs_node, pairs_point = [], []
    step = max(1, CHUNK_CELLS // max(size, 1))
    for start in range(0, len(on), step):
        block = dijkstra(matrix, directed=True, indices=virtual[start:start + step],
                         limit=radius)[:, :n]
        b, node = np.nonzero(block <= radius)
        pairs_node.append(node)
        pairs_point.append(on[start + b])
    node = np.concatenate(pairs_node) if pairs_node else np.zeros(0, dtype=np.int64)
    point = np.concatenate(pairs_point) if pairs_point else np.zeros(0, dtype=np.int64)
    return Coverage(sp.csr_matrix((np.ones(len(node)), (node, point)),
                                  shape=(n, len(points))))


def _rows_alike(m: sp.csr_matrix) -> dict[bytes, list[int]]:
    """The rows of ``m`` grouped by their pattern (rows without entries left out)."""
    m = m.tocsr()
    m.sort_indices()
    groups: dict[bytes, list[int]] = {}
    for r in np.flatnonzero(np.diff(m.indptr) > 0).tolist():
        groups.setdefault(m.indices[m.indptr[r]:m.indptr[r + 1]].tobytes(), []).append(r)
    return groups


def useful(coverage: Coverage) -> Ints:
    """The candidates worth considering: those covering someone, the first of any that cover
    the same points, and none whose points another covers and more (such a one can always
    be swapped for the other without losing anything)."""
    keep = np.array(sorted(g[0] for g in _rows_alike(coverage.matrix).values()),
                    dtype=np.int64)
    m = coverage.matrix[keep].tocsr()
    m.data[:] = 1.0
    sizes = np.diff(m.indptr)
    dominated = []
    for start in range(0, len(keep), DOMINANCE_ROWS):  # overlaps of a block at a time
        overlap = (m[start:start + DOMINANCE_ROWS] @ m.T).tocoo()
        row = overlap.row + start
        inside = (overlap.data == sizes[row]) & (sizes[overlap.col] > sizes[row])
        dominated.append(row[inside])
    return np.delete(keep, np.unique(np.concatenate(dominated))) if dominated else keep


def greedy(coverage: Coverage, weights: Floats, k: int) -> Ints:
    """Up to k candidates, each the one adding the most weight to those before it."""
    m = coverage.matrix.tocsr()
    left = weights.astype(np.float64).copy()
    chosen: list[int] = []
    for _ in range(k):
        gain = m @ left
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        left[m.indices[m.indptr[best]:m.indptr[best + 1]]] = 0.0
    return np.array(chosen, dtype=np.int64)


def solve(coverage: Coverage, weights: Floats, k: int,
          time_limit: float = 20.0) -> tuple[Ints, bool]:
    """The k candidates covering the most weight (fewer if fewer cover anyone), and whether
    that is proven best: exactly, by HiGHS, within ``time_limit`` seconds; after that its
    best so far, or the greedy choice if it has none."""
    keep = useful(coverage)
    if len(keep) <= k:
        return keep, True
    # points reached by the same candidates are one demand of their summed weight
    groups = list(_rows_alike(coverage.matrix[keep].T).values())
    a = coverage.matrix[keep].T.tocsr()[[g[0] for g in groups]]  # demands × candidates
    w = np.array([weights[g].sum() for g in groups])
    nc, nd = len(keep), len(groups)
    # variables: x (candidates, binary) then y (demands, 0..1); maximise Σ w·y
    cost = np.concatenate([np.zeros(nc), -w])
    link = sp.hstack([-a, sp.identity(nd)], format="csr")  # y - Σ x ≤ 0
    count = sp.hstack([sp.csr_matrix(np.ones((1, nc))), sp.csr_matrix((1, nd))], format="csr")
    result = milp(cost, integrality=np.concatenate([np.ones(nc), np.zeros(nd)]),
                  bounds=Bounds(0, 1),
                  constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(count, k, k)],
                  options={"time_limit": time_limit})
    if result.x is None:
        return greedy(coverage, weights, k), False
    found = keep[np.flatnonzero(result.x[:nc] > 0.5)]
    fallback = greedy(coverage, weights, k)
    if coverage.households(fallback, weights) > coverage.households(found, weights):
        return fallback, False  # a time limit stopped HiGHS short of the greedy choice
    return found, bool(result.status == 0)


def in_order(coverage: Coverage, chosen: Ints, weights: Floats
             ) -> list[tuple[int, float, int]]:
    """The chosen candidates, each with the weight and points it adds, most first."""
    left = list(chosen.tolist())
    covered = np.zeros(coverage.matrix.shape[1], dtype=bool)
    out = []
    while left:
        gains = []
        for c in left:
            mine = coverage.matrix.indices[coverage.matrix.indptr[c]:coverage.matrix.indptr[c + 1]]
            new = mine[~covered[mine]]
            gains.append((float(weights[new].sum()), len(new), c, new))
        gain, count, c, new = max(gains, key=lambda g: (g[0], g[1], -g[2]))
        covered[new] = True
        out.append((c, gain, count))
        left.remove(c)
    return out


def point_coverage(graph: Graph, candidates: Snaps, points: Snaps, radius: float) -> Coverage:
    """Supplied candidate places × ``points`` within ``radius`` metres of walk (one bounded
    search from each candidate)."""
    rows, cols = [], []
    for c in range(len(candidates)):
        if candidates.row[c] < 0:
            continue
        near = np.flatnonzero(graph.from_point_to(candidates.take([c]), points, radius)
                              <= radius)
        rows.append(np.full(len(near), c))
        cols.append(near)
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    q = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return Coverage(sp.csr_matrix((np.ones(len(r)), (r, q)),
                                  shape=(len(candidates), len(points))))


@dataclass(frozen=True)
class Proposal:
    """One proposed site: the candidate (node position or index in the supplied list), where
    it is, and what it adds."""

    candidate: int
    lon: float
    lat: float
    households: int
    buildings: int


def propose(circle: DistrictCircle, category: str, k: int, kmh: float, prefix: str = "",
            candidates: Floats | None = None) -> tuple[list[Proposal], Mask, bool]:
    """Up to ``k`` new sites for ``category`` covering the most households of buildings of
    the area ``prefix`` outside its circle at ``kmh``; candidates are the network's junctions,
    or ``candidates`` (lon, lat rows). Also which buildings were outside to begin with, and
    whether the answer is proven best."""
    radius = circle.category(category).minutes * metres_per_minute(kmh)  # type: ignore[operator]
    households = circle.buildings.extra["households"].astype(np.float64)
    uncovered = (~circle.within(category, kmh) & circle.in_area(prefix)
                 & (households > 0) & (circle.building_snaps.row >= 0))
    demand = np.flatnonzero(uncovered)
    if len(demand) > MAX_DEMAND:
        raise InvalidInput(f"within: {len(demand):,} buildings are outside the {category} "
                           f"circle here, more than one siting weighs ({MAX_DEMAND:,}); "
                           "choose a street or a community")
    points = circle.building_snaps.take(demand)
    if candidates is None:
        coverage, where = node_coverage(circle.graph, points, radius), circle.graph.node_lonlat
    else:
        where = np.asarray(candidates, dtype=np.float64).reshape(-1, 2)
        coverage = point_coverage(circle.graph, circle.snap(where), points, radius)
    weights = households[demand]
    chosen, exact = solve(coverage, weights, k)
    return [Proposal(c, float(where[c, 0]), float(where[c, 1]), round(gain), count)
            for c, gain, count in in_order(coverage, chosen, weights)], uncovered, exact
