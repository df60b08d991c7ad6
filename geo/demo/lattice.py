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


def build_walk_network(lat: Lattice, col_names: list[str], row_names: list[str]) -> WalkNetwork:
    """Roads on every lattice line (split at block midpoints) plus a cross-lane in each block.

    Only segments touching at least one block inside the district are kept.
    """
    ids: dict[tuple, int] = {}
    xy: list[np.ndarray] = []
    edges: list[tuple[int, int, LineString, str, str]] = []

    def node(key: tuple, p: np.ndarray) -> int:
        if key not in ids:
            ids[key] = len(xy)
            xy.append(p)
        return ids[key]

    def add(a: int, b: int, kind: str, name: str) -> None:
        edges.append((a, b, LineString([xy[a], xy[b]]), kind, name))

    def touches(i0: int, j0: int, i1: int, j1: int) -> bool:
        return any(0 <= i < lat.nx and 0 <= j < lat.ny and lat.inside[j, i]
                   for i in range(i0, i1 + 1) for j in range(j0, j1 + 1))

    n = lat.nodes
    for j in range(lat.ny + 1):  # east-west roads
        for i in range(lat.nx):
            if not touches(i, j - 1, i, j):
                continue
            a, b = node(("c", i, j), n[j, i]), node(("c", i + 1, j), n[j, i + 1])
            m = node(("h", i, j), (n[j, i] + n[j, i + 1]) / 2)
            kind = "primary" if j % 4 == 0 else "residential"
            add(a, m, kind, row_names[j % len(row_names)])
            add(m, b, kind, row_names[j % len(row_names)])
    for i in range(lat.nx + 1):  # north-south roads
        for j in range(lat.ny):
            if not touches(i - 1, j, i, j):
                continue
            a, b = node(("c", i, j), n[j, i]), node(("c", i, j + 1), n[j + 1, i])
            m = node(("v", i, j), (n[j, i] + n[j + 1, i]) / 2)
            kind = "primary" if i % 4 == 0 else "residential"
            add(a, m, kind, col_names[i % len(col_names)])
            add(m, b, kind, col_names[i % len(col_names)])
    for i, j in lat.ij:  # the lanes inside each block, crossing at its centre
        c = node(("m", i, j), bilinear(lat.quad(i, j), 0.5, 0.5))
        for key in (("h", i, j), ("h", i, j + 1), ("v", i, j), ("v", i + 1, j)):
            add(ids[key], c, "footway", "")
    return WalkNetwork(np.array(xy), edges)
