"""A GeoJSON geometry from a request body, checked and converted to WGS84 lon/lat."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.crs import CHINA_EXTENT, geometries_to_wgs84
from geo.errors import InvalidInput


def parse_geometry(geometry: Any, crs: str | None, allowed: tuple[str, ...],
                   where: str = "body.geometry") -> BaseGeometry:
    """``geometry`` (GeoJSON in ``crs``, WGS84 by default) as a valid shapely geometry of one
    of the ``allowed`` types in lon/lat; InvalidInput names ``where`` and what is wrong."""
    if not isinstance(geometry, dict):
        raise InvalidInput(f"{where}: a GeoJSON geometry object is required")
    try:
        geom = shape(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            shapely.errors.GEOSException):
        raise InvalidInput(f"{where}: not a GeoJSON geometry") from None
    if geom.geom_type not in allowed:
        raise InvalidInput(f"{where}: {geom.geom_type} given, {' or '.join(allowed)} expected")
    if geom.is_empty or not geom.is_valid:
        raise InvalidInput(f"{where}: invalid {geom.geom_type} ({shapely.is_valid_reason(geom)})")
    geom = geometries_to_wgs84(geom, crs or "wgs84")
    w, s, e, n = CHINA_EXTENT
    minx, miny, maxx, maxy = geom.bounds
    if minx < w or maxx > e or miny < s or maxy > n:
        raise InvalidInput(f"{where}: lies outside China (lon,lat order, WGS84 unless crs)")
    return geom
