"""The demo city's street lattice: jittered blocks whose edges are roads.

Everything is built in metric coordinates (the area's CGCS2000 Gauss-Krüger zone), so block
sizes and setbacks are in metres. Grid, community and street boundaries are unions of blocks,
so they follow roads by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

BLOCK_M = 215.0
JITTER_M = 22.0


@dataclass
class Lattice:
    nx: int
    ny: int
    nodes: np.ndarray  # (ny+1, nx+1, 2) metric corner coordinates, row 0 = south
    inside: np.ndarray  # (ny, nx) bool: block lies inside the district
    blocks: list[Polygon] = field(default_factory=list)  # one per block, row-major
    ij: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), int))  # (n, 2) col, row

    def corner(self, i: int, j: int) -> np.ndarray:
        return self.nodes[j, i]

    def quad(self, i: int, j: int) -> np.ndarray:
        """Corners SW, SE, NE, NW of block (col i, row j)."""
        n = self.nodes
        return np.array([n[j, i], n[j, i + 1], n[j + 1, i + 1], n[j + 1, i]])


def build_lattice(
    rng: np.random.Generator, center: tuple[float, float], nx: int, ny: int,
    district_metric: shapely.Geometry | None,
) -> Lattice:
    cx, cy = center
    xs = cx + (np.arange(nx + 1) - nx / 2) * BLOCK_M
    ys = cy + (np.arange(ny + 1) - ny / 2) * BLOCK_M
    gx, gy = np.meshgrid(xs, ys)
    nodes = np.stack([gx, gy], axis=-1)
    nodes += rng.uniform(-JITTER_M, JITTER_M, nodes.shape)
    lat = Lattice(nx, ny, nodes, np.ones((ny, nx), bool))
    polys, ij = [], []
    for j in range(ny):
        for i in range(nx):
            poly = Polygon(lat.quad(i, j))
            ok = district_metric is None or district_metric.contains(poly)
            lat.inside[j, i] = ok
            if ok:
                polys.append(poly)
                ij.append((i, j))
    lat.blocks = polys
    lat.ij = np.array(ij, dtype=int)
    return lat


def bilinear(quad: np.ndarray, u: Any, v: Any) -> np.ndarray:
    """Map unit-square (u, v) into a quadrilateral SW, SE, NE, NW."""
    sw, se, ne, nw = quad
    u = np.asarray(u)[..., None]
    v = np.asarray(v)[..., None]
    return (1 - u) * (1 - v) * sw + u * (1 - v) * se + u * v * ne + (1 - u) * v * nw


@dataclass
class WalkNetwork:
    node_xy: np.ndarray  # (n, 2) metric
    edges: list[tuple[int, int, LineString, str, str]]  # source, target, geom, highway, name


class _NetworkBuilder:
    """Nodes keyed by their lattice role, so shared corners and midpoints are shared nodes."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}
        self.xy: list[np.ndarray] = []
        self.edges: list[tuple[int, int, LineString, str, str]] = []

    def node(self, key: tuple, p: np.ndarray) -> int:
        if key not in self.ids:
            self.ids[key] = len(self.xy)
            self.xy.append(p)
        return self.ids[key]

    def add(self, a: int, b: int, kind: str, name: str) -> None:
        self.edges.append((a, b, LineString([self.xy[a], self.xy[b]]), kind, name))

    def road(self, ends: tuple[tuple, tuple], mid: tuple, p: np.ndarray, q: np.ndarray,
             kind: str, name: str) -> None:
        """A block side from p to q, split at its midpoint where the block's lane joins."""
        a, b = self.node(ends[0], p), self.node(ends[1], q)
        m = self.node(mid, (p + q) / 2)
        self.add(a, m, kind, name)
        self.add(m, b, kind, name)


def build_walk_network(lat: Lattice, col_names: list[str], row_names: list[str]) -> WalkNetwork:
    """Roads on every lattice line (split at block midpoints) plus a cross-lane in each block.

    Only segments touching at least one block inside the district are kept; every fourth
    lattice line is a primary road.
    """
    net = _NetworkBuilder()

    def touches(i0: int, j0: int, i1: int, j1: int) -> bool:
        return any(0 <= i < lat.nx and 0 <= j < lat.ny and lat.inside[j, i]
                   for i in range(i0, i1 + 1) for j in range(j0, j1 + 1))

    n = lat.nodes
    for j in range(lat.ny + 1):  # east-west roads
        for i in (i for i in range(lat.nx) if touches(i, j - 1, i, j)):
            net.road((("c", i, j), ("c", i + 1, j)), ("h", i, j), n[j, i], n[j, i + 1],
                     "primary" if j % 4 == 0 else "residential", row_names[j % len(row_names)])
    for i in range(lat.nx + 1):  # north-south roads
        for j in (j for j in range(lat.ny) if touches(i - 1, j, i, j)):
            net.road((("c", i, j), ("c", i, j + 1)), ("v", i, j), n[j, i], n[j + 1, i],
                     "primary" if i % 4 == 0 else "residential", col_names[i % len(col_names)])
    for i, j in lat.ij:  # the lanes inside each block, crossing at its centre
        c = net.node(("m", i, j), bilinear(lat.quad(i, j), 0.5, 0.5))
        for key in (("h", i, j), ("h", i, j + 1), ("v", i, j), ("v", i + 1, j)):
            net.add(net.ids[key], c, "footway", "")
    return WalkNetwork(np.array(net.xy), net.edges)
