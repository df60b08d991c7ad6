"""The lookup's input: a point in any supported CRS → validated WGS84 lon/lat."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import pyproj

from geo.crs import CHINA_EXTENT, normalize_crs, to_wgs84
from geo.errors import InvalidInput


def _number(value: Any, name: str) -> float:
    if value is None or value == "":
        raise InvalidInput(f"{name}: required (a number)")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise InvalidInput(f"{name}: {value!r} is not a finite number")
    return x


@lru_cache(maxsize=64)
def _geographic(crs: str) -> bool:
    return crs in ("wgs84", "cgcs2000", "gcj02", "bd09") or pyproj.CRS(crs).is_geographic


def _check_degrees(lon: float, lat: float) -> None:
    w, s, e, n = CHINA_EXTENT
    if s <= lon <= n and w <= lat <= e:
        raise InvalidInput(f"lon, lat: ({lon}, {lat}) look swapped (China lies at lon {w}–{e}, "
                           f"lat {s}–{n}); pass lon={lat}&lat={lon}")
    if not -90 <= lat <= 90:
        raise InvalidInput(f"lat: {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"lon: {lon} is outside -180..180")


def parse_point(lon: Any, lat: Any, crs: Any = None) -> tuple[float, float]:
    """Validated WGS84 (lon, lat) from user input in ``crs``; InvalidInput names the parameter."""
    x, y = _number(lon, "lon"), _number(lat, "lat")
    try:
        c = normalize_crs(crs)
    except InvalidInput as exc:
        raise InvalidInput(f"crs: {exc}") from None
    if _geographic(c):
        _check_degrees(x, y)
    if c in ("wgs84", "cgcs2000"):
        wx, wy = x, y  # the same frame to well under a metre: nothing to convert
    else:
        gx, gy = to_wgs84(x, y, c)
        wx, wy = float(gx), float(gy)
    if not (math.isfinite(wx) and math.isfinite(wy)):
        raise InvalidInput(f"lon, lat: ({x}, {y}) cannot be converted from {c}")
    w, s, e, n = CHINA_EXTENT
    if not (w <= wx <= e and s <= wy <= n):
        raise InvalidInput(f"lon, lat: ({wx:.6f}, {wy:.6f}) is outside China; this service "
                           "covers Chinese communities only")
    return wx, wy
