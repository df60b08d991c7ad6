"""Geometry checks and conversion to WGS84, at the edge of every import.

Order per feature: present and not empty → allowed type → lat/lon not swapped (judged on the
input coordinates, in degrees) → converted to WGS84 → inside China → valid (an invalid
polygon is repaired with ``make_valid`` keeping its polygonal part, and reported).

Which CRS the coordinates are in: an explicit ``EPSG:n`` is believed as given. ``gcj02`` and
``bd09`` describe lon/lat that a file cannot declare (they are not EPSG codes), so a file's
own geographic CRS is then ignored, and a projected one is an error. With ``wgs84`` or
``cgcs2000`` (the default), a file that declares another CRS, e.g. a Gauss-Krüger
projection in a ``.prj``, is reprojected from what it declares.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyproj
import shapely

from geo.crs import CHINA_EXTENT, geometries_to_wgs84, normalize_crs
from geo.importers.result import Problems

POLYGONAL = ("Polygon", "MultiPolygon")
POINT = ("Point",)
_SAME_AS_WGS84 = {4326, 4490}


def input_crs(crs: str | None, declared: pyproj.CRS | None, problems: Problems) -> str | None:
    """The CRS to convert from, as a ``geo.crs`` name or ``EPSG:n``; None after an error."""
    c = normalize_crs(crs)
    if c.startswith("EPSG:") or declared is None:
        return c
    if c in ("gcj02", "bd09"):
        if declared.is_projected:
            problems.error("file", f"the file declares the projected CRS {declared.name!r} "
                           f"but crs {c} means longitude/latitude")
            return None
        return c
    epsg = declared.to_epsg()
    if epsg in _SAME_AS_WGS84 or (declared.is_geographic and declared.equals("OGC:CRS84")):
        return c
    if epsg is None:
        problems.error("file", f"the file's CRS {declared.name!r} has no EPSG code; "
                       "pass crs=EPSG:n")
        return None
    return f"EPSG:{epsg}"


def _is_geographic(c: str) -> bool:
    if not c.startswith("EPSG:"):
        return True
    return bool(pyproj.CRS.from_user_input(c).is_geographic)


def _describe(kinds: Iterable[str]) -> str:
    return " or ".join(kinds)


def prepare(geoms: np.ndarray, crs: str, allowed: tuple[str, ...],
            problems: Problems, skip: set[int] | None = None) -> np.ndarray:
    """WGS84 geometries (2D) for each row; None where the row has an error."""
    out = np.empty(len(geoms), dtype=object)
    out[:] = None
    todo: list[int] = []
    for at, g in enumerate(geoms):
        if skip and at in skip:
            continue
        if g is None or shapely.is_empty(g):
            problems.error(at, "empty geometry")
        elif g.geom_type not in allowed:
            problems.error(at, f"wrong geometry type {g.geom_type}; expected {_describe(allowed)}")
        else:
            todo.append(at)
    if not todo:
        return out
    flat = shapely.force_2d(np.asarray([geoms[i] for i in todo], dtype=object))
    if _is_geographic(crs):
        keep = _not_swapped(flat, todo, problems)
        flat, todo = flat[keep], [i for i, k in zip(todo, keep, strict=True) if k]
    converted = geometries_to_wgs84(flat, crs)
    inside = _inside_china(converted, todo, crs, problems)
    for at, g in zip(np.asarray(todo)[inside], converted[inside], strict=True):
        out[at] = _valid(g, int(at), problems) if g.geom_type in POLYGONAL else g
    return out


def _not_swapped(geoms: np.ndarray, rows: list[int], problems: Problems) -> np.ndarray:
    """False where x lies in China's latitude range and y in its longitude range."""
    w, s, e, n = CHINA_EXTENT
    b = shapely.bounds(geoms)
    swapped = (b[:, 0] >= s) & (b[:, 2] <= n) & (b[:, 1] >= w) & (b[:, 3] <= e)
    for at, box in zip(np.asarray(rows)[swapped], b[swapped], strict=True):
        problems.error(int(at), f"latitude and longitude look swapped (x={box[0]:.6f} is a "
                       f"latitude, y={box[1]:.6f} a longitude in China)")
    return ~swapped


def _inside_china(geoms: np.ndarray, rows: list[int], crs: str,
                  problems: Problems) -> np.ndarray:
    w, s, e, n = CHINA_EXTENT
    b = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        inside = (b[:, 0] >= w) & (b[:, 2] <= e) & (b[:, 1] >= s) & (b[:, 3] <= n)
    for at, box in zip(np.asarray(rows)[~inside], b[~inside], strict=True):
        problems.error(int(at), f"outside China (lon {box[0]:.6f}, lat {box[1]:.6f} in WGS84, "
                       f"read as {crs}); check the coordinates and the crs")
    return inside


def polygons(g: shapely.Geometry) -> list[shapely.Polygon]:
    """The non-empty polygons in ``g``, also from inside a collection (what ``make_valid``
    returns may mix polygons, multipolygons and lines)."""
    parts = [p for p in shapely.get_parts(g) if p.geom_type in POLYGONAL and not p.is_empty]
    return [q for p in parts for q in shapely.get_parts(p) if not q.is_empty]


def polygonal_part(g: shapely.Geometry) -> shapely.Geometry | None:
    """The polygons of ``g`` as one Polygon/MultiPolygon, or None when it has none."""
    polys = polygons(g)
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _valid(g: shapely.Geometry, at: int, problems: Problems) -> shapely.Geometry | None:
    if shapely.is_valid(g):
        return g
    reason = shapely.is_valid_reason(g)
    fixed = polygonal_part(shapely.make_valid(g))
    if fixed is None or fixed.area == 0:
        problems.error(at, f"invalid geometry ({reason}) cannot be repaired")
        return None
    problems.repair(at, f"invalid geometry ({reason}) repaired with make_valid "
                    f"into {len(shapely.get_parts(fixed))} polygon(s)")
    return fixed


def as_multipolygon(g: shapely.Geometry) -> shapely.Geometry:
    return g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])


def largest_polygon(g: shapely.Geometry) -> shapely.Polygon | None:
    """``g`` itself when a polygon, else its largest polygon; None when it has none."""
    if g.geom_type == "Polygon":
        return g
    return max(polygons(g), key=lambda p: p.area, default=None)
