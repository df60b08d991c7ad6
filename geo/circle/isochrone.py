"""Isochrones: the streets reachable on foot within a time from a place, and the area they
serve (those street parts buffered), never a convex hull that would take in the far side
of a river or a railway.

An edge of length L whose ends are reached after d_u and d_v metres is walkable, within a
reach R, on [0, (R-d_u)/L] from its source and on [1-(R-d_v)/L, 1] from its target; the
origin's own edge also from the origin's snap point both ways. Fractions are of the edge's
drawn length (as snaps are), so a part is cut with ``shapely.ops.substring``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.circle.graph import Graph, Snaps
from geo.lookup.index import Frame

Interval = tuple[float, float]


@dataclass(frozen=True)
class Reach:
    """The walkable part of each reached edge: edge row → merged fraction intervals."""

    parts: dict[int, list[Interval]]

    def lines(self, graph: Graph) -> list[BaseGeometry]:
        out = []
        for row, intervals in sorted(self.parts.items()):
            line = shapely.LineString(graph.edges.coords[row])
            for a, b in intervals:
                out.append(line if (a, b) == (0.0, 1.0) else
                           substring(line, a, b, normalized=True))
        return out


def _merge(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def reach(graph: Graph, origin: Snaps, metres: float) -> Reach:
    """What can be walked within ``metres`` of the one point in ``origin``."""
    dist = graph.from_point(origin, metres)
    length = graph.length
    safe = np.where(length > 0, length, 1.0)
    from_u = np.clip((metres - dist[graph.u]) / safe, 0.0, 1.0)
    from_v = np.clip((metres - dist[graph.v]) / safe, 0.0, 1.0)
    hit_u, hit_v = dist[graph.u] <= metres, dist[graph.v] <= metres
    parts: dict[int, list[Interval]] = {}
    for r in np.flatnonzero(hit_u | hit_v).tolist():
        found = []
        if hit_u[r]:
            found.append((0.0, float(from_u[r]) if length[r] > 0 else 1.0))
        if hit_v[r]:
            found.append((1.0 - float(from_v[r]) if length[r] > 0 else 0.0, 1.0))
        parts[r] = found
    row = int(origin.row[0])
    left = metres - float(origin.offset[0])
    if row >= 0 and left >= 0:
        t, span = float(origin.t[0]), left / float(safe[row])
        parts.setdefault(row, []).append((max(0.0, t - span), min(1.0, t + span)))
    return Reach({r: _merge(found) for r, found in parts.items()})


def area(lines: list[BaseGeometry], frame: Frame, buffer_m: float) -> BaseGeometry:
    """The reached lines buffered by ``buffer_m`` metres (in the district's metric frame) and
    merged, back in lon/lat."""
    if not lines:
        return shapely.MultiPolygon()
    framed = frame.geometries(np.array(lines, dtype=object))
    merged = shapely.union_all(shapely.buffer(framed, buffer_m, quad_segs=4))
    back = shapely.transform(merged, lambda c: c / frame.scale)
    return shapely.set_precision(back, 1e-7)
