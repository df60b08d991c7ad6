"""Geometry helpers of the plan edits: polygon clean-up and snapping in lon/lat, measures in
the scope's Gauss-Krüger zone (geo.crs.to_metric), never in degrees."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_transformer, to_metric
from geo.errors import InvalidInput

# A shared boundary shorter than this is a corner touch, not an edge (DESIGN: grids are
# adjacent through edges; two grids meeting at a road crossing are not neighbours).
EDGE_MIN_M = 0.5
# Boundaries closer than this are the same line: lon/lat overlays leave vertices ~1e-10 m off
# the segment they were cut from, far below a centimetre.
EDGE_EPS_M = 0.01
# Overlaps and holes below 1 cm² are float noise of lon/lat overlays; acting on them would
# only add vertices to neighbours that did not really change.
NOISE_M2 = 1e-4
WELD_DEG = (1e-12, 1e-11, 1e-10, 1e-9)  # grids of the unions that close a crack (welded)
# The empty polygon (immutable: shared rather than parsed from WKT at every call).
EMPTY = Polygon()
# Metres per degree of latitude, and of longitude at the equator (WGS84, rounded).
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0


def polygons(geom: BaseGeometry | None) -> list[Polygon]:
    """The non-empty polygons of any geometry (collections from make_valid included)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for part in geom.geoms for p in polygons(part)]
    return []


def polygonal(parts: Sequence[Polygon]) -> BaseGeometry:
    """A Polygon for one part, a MultiPolygon for more, an empty Polygon for none."""
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(list(parts))


def clean(geom: BaseGeometry | None) -> BaseGeometry:
    """Valid polygonal geometry: make_valid, then only the polygons with area (the lines and
    points an overlay of touching polygons leaves behind are dropped)."""
    if geom is None or geom.is_empty:
        return EMPTY
    valid = geom if geom.is_valid else shapely.make_valid(geom)
    return polygonal([p for p in polygons(valid) if p.area > 0.0])


def drawn(geom: Any, param: str) -> BaseGeometry:
    """A polygon the planner drew, made valid; InvalidInput when it has no area."""
    if not isinstance(geom, BaseGeometry):
        raise InvalidInput(f"{param}: must be a Polygon or MultiPolygon, got {type(geom).__name__}")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"{param}: must be a Polygon or MultiPolygon, got {geom.geom_type}")
    shape = clean(geom)
    if shape.is_empty:
        raise InvalidInput(f"{param}: has no area")
    return shape


def area_m2(geom: BaseGeometry, epsg: int) -> float:
    return 0.0 if geom.is_empty else float(to_metric(geom, epsg).area)


def areas_m2(geoms: Sequence[BaseGeometry], epsg: int) -> list[float]:
    if not geoms:
        return []
    return [float(a) for a in shapely.area(to_metric(np.array(geoms, dtype=object), epsg))]


def shared_edge_m(a_metric: BaseGeometry, b_metric: BaseGeometry) -> float:
    """Length in metres of a's boundary that runs along b (both already metric)."""
    if not shapely.dwithin(a_metric, b_metric, EDGE_EPS_M):
        return 0.0
    along = shapely.intersection(a_metric.boundary, shapely.buffer(b_metric, EDGE_EPS_M))
    return float(along.length)


def checked_difference(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """``a`` minus ``b``, checked against a predicate: GEOS's floating overlay (3.13, 3.14)
    now and then returns a part that ``b`` plainly covers (a whole community left as a "gap"
    under the union of its grids, which PostGIS's GEOS 3.11 gets right). Such a result is
    redone with snap-rounding on ever coarser grids (1e-12° ≈ 0.1 µm up to 1e-9°)."""
    out = shapely.difference(a, b)
    if not _covers_a_part(b, out):
        return out
    for grid_size in (1e-12, 1e-11, 1e-10, 1e-9):
        again = shapely.difference(a, b, grid_size=grid_size)
        if not _covers_a_part(b, again):
            return again
    return again


def _covers_a_part(b: BaseGeometry, result: BaseGeometry) -> bool:
    parts = polygons(result)
    if not parts:
        return False
    points = shapely.point_on_surface(np.array(parts, dtype=object))
    return bool(shapely.covers(b, points).any())


def common_segments_m(faces: Any, epsg: int) -> tuple[Any, Any]:
    """Pairs (i < j) of lon/lat polygons that share boundary segments vertex for vertex, and
    the metric length they share: the faces of one ``polygonize`` share the edges of its
    noded lines exactly, so hashing the segments replaces an overlay per pair."""
    rings, owner = shapely.get_rings(np.asarray(faces, dtype=object), return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    face = owner[ring[:-1][same]]
    forward = (a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] <= b[:, 1]))
    key = np.where(forward[:, None], np.hstack([a, b]), np.hstack([b, a]))
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.lexsort((face, group))
    g, f = group[order], face[order]
    twin = np.flatnonzero((g[1:] == g[:-1]) & (f[1:] != f[:-1]))
    if not len(twin):
        return np.empty((0, 2), dtype=np.intp), np.zeros(0)
    transform = metric_transformer(epsg)
    ax, ay = transform.transform(a[order[twin], 0], a[order[twin], 1])
    bx, by = transform.transform(b[order[twin], 0], b[order[twin], 1])
    pairs = np.column_stack([f[twin], f[twin + 1]]).astype(np.intp)
    pairs.sort(axis=1)
    found, at = np.unique(pairs, axis=0, return_inverse=True)
    length = np.bincount(at.ravel(), weights=np.hypot(np.asarray(bx) - ax, np.asarray(by) - ay),
                         minlength=len(found))
    return found, length


def _drop_noise_holes(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    """Without pinholes (under NOISE_M2) and cracks: rings whose mean width, 2·area /
    perimeter, is under EDGE_EPS_M, such as the hairline left along a street where cells of
    two blocks meet a float's width apart (long, so above NOISE_M2, but no ground)."""
    parts = []
    for p in polygons(geom):
        holes = [r for r in p.interiors if not _is_noise(Polygon(r), epsg)]
        parts.append(p if len(holes) == len(p.interiors) else Polygon(p.exterior, holes))
    return polygonal(parts)


def _is_noise(ring: Polygon, epsg: int) -> bool:
    metric = to_metric(ring, epsg)
    return bool(metric.area < NOISE_M2 or 2.0 * metric.area < EDGE_EPS_M * metric.length)


def union(geoms: Iterable[BaseGeometry], epsg: int) -> BaseGeometry:
    """Union in lon/lat; a union along edges with T-junctions (a vertex of one grid lying on a
    segment of the other up to float precision) can leave pinhole rings, which are filled."""
    merged = clean(shapely.union_all([g for g in geoms if not g.is_empty]))
    return _drop_noise_holes(merged, epsg)


def welded(parts: list[BaseGeometry], epsg: int) -> BaseGeometry:
    """The union of edge-connected ``parts``, in one piece. Parts can meet with vertices a
    float's width off each other's edges (cells clipped to two street blocks, along the
    street; a gap handed to a grid); the union can leave a crack there between two parts, and
    is then redone on ever coarser grids (WELD_DEG: 1e-12° ≈ 0.1 µm to 1e-9° ≈ 0.1 mm, far
    below any tolerance) until it closes."""
    merged = union(parts, epsg)
    count = len(polygons(merged))
    for grid_size in WELD_DEG:
        if count <= 1:
            break
        again = union([shapely.union_all(parts, grid_size=grid_size)], epsg)
        if len(polygons(again)) < count:
            merged, count = again, len(polygons(again))
    return merged


def degrees_for_metres(metres: float, lat: float) -> float:
    """A distance in metres as degrees at latitude ``lat``, for tolerances that GEOS applies
    in the lon/lat plane (snapping). A degree of longitude is shorter than one of latitude, so
    the larger of the two degree values is taken: the tolerance is then at least the metres
    asked in every direction (up to ~1/cos(lat) times more east-west)."""
    along_lon = metres / (M_PER_DEG_LON * math.cos(math.radians(lat)))
    along_lat = metres / M_PER_DEG_LAT
    return max(along_lon, along_lat)


def _lines(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    parts: list[Any] = []
    for g in geoms:
        for line in shapely.get_parts(g.boundary):
            if not line.is_empty:
                parts.append(line)
    return shapely.MultiLineString(parts)


def snap_to(geom: BaseGeometry, references: Sequence[BaseGeometry], tol_deg: float) -> BaseGeometry:
    """Snap ``geom`` onto the boundaries of ``references`` within ``tol_deg`` (lon/lat).

    shapely.snap moves vertices onto reference VERTICES (and inserts reference vertices into
    nearby segments); a drawn corner near the middle of a neighbour's long edge has no vertex
    to go to, so the vertices still within the tolerance are then projected onto the nearest
    reference segment. The result's edges then lie on the neighbour's edges, so neither a gap
    nor an overlap is left between them."""
    if not references:
        return geom
    ref = _lines(references)
    snapped = shapely.snap(geom, ref, tol_deg)

    def project(coords: Any) -> Any:
        pts = shapely.points(coords)
        dist = shapely.distance(pts, ref)
        near = (dist > 0.0) & (dist <= tol_deg)
        if near.any():
            to_ref = shapely.shortest_line(pts[near], ref)
            coords = coords.copy()
            coords[near] = shapely.get_coordinates(to_ref)[1::2]
        return coords

    return clean(shapely.transform(snapped, project))
