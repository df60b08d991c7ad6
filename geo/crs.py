"""Coordinate systems: WGS84 / CGCS2000, GCJ-02 and BD-09, and a metric CRS per area.

- Storage is EPSG:4326. CGCS2000 (EPSG:4490) differs from WGS84 by centimetres, below our
  precision, so the two are treated as equal (no shift is applied).
- GCJ-02 (高德, 腾讯) and BD-09 (百度) are obfuscations, not EPSG codes; we convert at the edge.
  The forward GCJ-02 formula is public; its inverse has no closed form, so GCJ-02 → WGS84 is
  solved by fixed-point iteration until the forward image matches to 1e-9° (≈0.1 mm).
- Axis order is (lon, lat) everywhere, and every function works on numpy arrays.
- Metric work uses the CGCS2000 3-degree Gauss-Krüger zone of the area (EPSG:4534–4554,
  central meridian 3·round(lon/3)).
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from geo.errors import InvalidInput

Array = npt.NDArray[np.float64]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_ITER_TOL_DEG = 1e-9
_MAX_ITER = 30

# The GCJ-02 offset is applied only inside this box (the published convention).
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)
# A tighter box to judge whether input data plausibly lies in China.
CHINA_EXTENT = (73.4, 18.1, 135.1, 53.6)

SUPPORTED = ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:<code>")


def _as_arrays(lon: Any, lat: Any) -> tuple[Array, Array]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def outside_china(lon: Any, lat: Any) -> npt.NDArray[np.bool_]:
    x, y = _as_arrays(lon, lat)
    w, s, e, n = CHINA_BBOX
    return (x < w) | (x > e) | (y < s) | (y > n)


def _delta(x: Array, y: Array) -> tuple[Array, Array]:
    """GCJ-02 offsets in degrees (dlon, dlat) at WGS84 (x, y)."""
    dx, dy = x - 105.0, y - 35.0
    sq = np.sqrt(np.abs(dx))
    s6, s2 = np.sin(6.0 * dx * np.pi), np.sin(2.0 * dx * np.pi)
    lat = (-100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy + 0.2 * sq
           + (20.0 * s6 + 20.0 * s2) * 2.0 / 3.0
           + (20.0 * np.sin(dy * np.pi) + 40.0 * np.sin(dy / 3.0 * np.pi)) * 2.0 / 3.0
           + (160.0 * np.sin(dy / 12.0 * np.pi) + 320.0 * np.sin(dy * np.pi / 30.0)) * 2.0 / 3.0)
    lon = (300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * sq
           + (20.0 * s6 + 20.0 * s2) * 2.0 / 3.0
           + (20.0 * np.sin(dx * np.pi) + 40.0 * np.sin(dx / 3.0 * np.pi)) * 2.0 / 3.0
           + (150.0 * np.sin(dx / 12.0 * np.pi) + 300.0 * np.sin(dx / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqm = np.sqrt(magic)
    dlat = lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqm) * np.pi)
    dlon = lon * 180.0 / (_A / sqm * np.cos(rad) * np.pi)
    out = outside_china(x, y)
    return np.where(out, 0.0, dlon), np.where(out, 0.0, dlat)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Array, Array]:
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _delta(x, y)
    return x + dlon, y + dlat


def _invert(forward: Any, tx: Array, ty: Array, x: Array, y: Array) -> tuple[Array, Array]:
    """Solve forward(x, y) = (tx, ty) by fixed-point iteration from (x, y): both offsets are
    small and smooth, so each step removes most of the remaining error."""
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _ITER_TOL_DEG) and np.all(np.abs(ey) < _ITER_TOL_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Array, Array]:
    """Invert the GCJ-02 formula by fixed-point iteration (converges in a few steps)."""
    gx, gy = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, gx, gy, gx.copy(), gy.copy())


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Array, Array]:
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Array, Array]:
    """The published closed-form inverse, refined by iteration against the forward formula."""
    bx, by = _as_arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, bx, by, z * np.cos(theta), z * np.sin(theta))


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Array, Array]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Array, Array]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def normalize_crs(text: str | None) -> str:
    """``wgs84`` | ``cgcs2000`` | ``gcj02`` | ``bd09`` | ``EPSG:n``; anything else is refused."""
    if text is None or not str(text).strip():
        return "wgs84"
    t = str(text).strip().lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84", "cgcs2000": "cgcs2000",
               "epsg:4490": "cgcs2000", "4490": "cgcs2000", "gcj02": "gcj02", "gcj": "gcj02",
               "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "amap": "gcj02"}
    if t in aliases:
        return aliases[t]
    m = re.fullmatch(r"(?:epsg:)?(\d{4,6})", t)
    if m:
        code = int(m.group(1))
        try:
            pyproj.CRS.from_epsg(code)
        except pyproj.exceptions.CRSError:
            raise InvalidInput(f"unknown CRS EPSG:{code}") from None
        return f"EPSG:{code}"
    raise InvalidInput(f"unknown CRS {text!r}; use one of {', '.join(SUPPORTED)}")


_PER_THREAD = threading.local()
_PIPELINES: dict[tuple[str, str], str | None] = {}  # PROJ's choice per (src, dst), any thread
_PROBE = (105.0, 30.0)


def _transformer(src: str, dst: str) -> pyproj.Transformer:
    """One transformer per (src, dst) and thread: pyproj lets a transformer made in one
    thread run in another, but its first call there costs ~0.1 s (the lookup converts in the
    event loop what its indexes were built with in a worker thread). Choosing the operation
    (``from_crs``) costs ~0.15 s of PROJ database searches, so it is done once per process and
    the pipeline PROJ chose is rebuilt in every other thread (~0.3 ms); a pair whose pipeline
    does not reproduce ``from_crs`` on a probe point is looked up per thread as before."""
    cache: dict[tuple[str, str], pyproj.Transformer] = _PER_THREAD.__dict__.setdefault("cache", {})
    found = cache.get((src, dst))
    if found is not None:
        return found
    pipeline = _PIPELINES.get((src, dst))
    if pipeline is not None:
        found = pyproj.Transformer.from_pipeline(pipeline)
    else:
        found = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        if (src, dst) not in _PIPELINES:
            _PIPELINES[(src, dst)] = _reusable(found, src)
    cache[(src, dst)] = found
    return found


def _reusable(t: pyproj.Transformer, src: str) -> str | None:
    """The pipeline of ``t`` when it transforms like ``t`` itself (None otherwise: a choice
    among several operations made per point, or a definition PROJ cannot read back)."""
    try:
        again = pyproj.Transformer.from_pipeline(t.definition)
        probe = _PROBE if src == "EPSG:4326" else t.transform(*_PROBE, direction="INVERSE")
        a, b = t.transform(*probe), again.transform(*probe)
    except pyproj.exceptions.ProjError:
        return None
    same = all(math.isfinite(u) and abs(u - v) < 1e-6 for u, v in zip(a, b, strict=True))
    return t.definition if same else None


def metric_transformer(epsg: int) -> pyproj.Transformer:
    """WGS84 lon/lat → the metric CRS ``epsg`` (x, y), for callers that convert one point at a
    time (a transformer's call costs far less than building a geometry)."""
    return _transformer("EPSG:4326", f"EPSG:{epsg}")


def _convert(lon: Any, lat: Any, crs: str, to_wgs: bool) -> tuple[Array, Array]:
    c = normalize_crs(crs)
    x, y = _as_arrays(lon, lat)
    if c in ("wgs84", "cgcs2000"):
        return x, y
    obfuscated = _TO_WGS84 if to_wgs else _FROM_WGS84
    if c in obfuscated:
        return obfuscated[c](x, y)
    src, dst = (c, "EPSG:4326") if to_wgs else ("EPSG:4326", c)
    tx, ty = _transformer(src, dst).transform(x, y)
    return np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64)


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84(lon: Any, lat: Any, crs: str) -> tuple[Array, Array]:
    """Convert coordinates given in ``crs`` (any accepted spelling) to WGS84 lon/lat."""
    return _convert(lon, lat, crs, to_wgs=True)


def from_wgs84(lon: Any, lat: Any, crs: str) -> tuple[Array, Array]:
    """Convert WGS84 lon/lat to ``crs``."""
    return _convert(lon, lat, crs, to_wgs=False)


def _apply(geoms: Any, fn: Any) -> Any:
    def xy(coords: Array) -> Array:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, xy)


def geometries_to_wgs84(geoms: Any, crs: str) -> Any:
    """Shapely geometry or array of them, from ``crs`` to WGS84 (vectorised over vertices)."""
    c = normalize_crs(crs)
    if c in ("wgs84", "cgcs2000"):
        return geoms
    return _apply(geoms, lambda x, y: to_wgs84(x, y, c))


def geometries_from_wgs84(geoms: Any, crs: str) -> Any:
    c = normalize_crs(crs)
    if c in ("wgs84", "cgcs2000"):
        return geoms
    return _apply(geoms, lambda x, y: from_wgs84(x, y, c))


def metric_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (CM = 3·round(lon/3)), no false
    zone prefix in easting: EPSG:4534 (75°E) … EPSG:4554 (135°E).

    EPSG defines the two end zones as open-ended ("China - west of 76°30'E", "east of
    133°30'E"), so longitudes inside ``CHINA_EXTENT`` but past them (73.4°E–73.5°E, the
    Pamir tip) use the end zone instead of being refused."""
    x = float(lon)
    cm = 3 * round(x / 3.0)
    if CHINA_EXTENT[0] <= x <= CHINA_EXTENT[2]:
        cm = min(max(cm, 75), 135)
    if not 75 <= cm <= 135:
        raise InvalidInput(f"longitude {lon} is outside China's Gauss-Krüger zones (75°E–135°E)")
    return 4534 + (cm - 75) // 3


def to_metric(geoms: Any, epsg: int) -> Any:
    t = _transformer("EPSG:4326", f"EPSG:{epsg}")
    return _apply(geoms, lambda x, y: t.transform(x, y))


def from_metric(geoms: Any, epsg: int) -> Any:
    t = _transformer(f"EPSG:{epsg}", "EPSG:4326")
    return _apply(geoms, lambda x, y: t.transform(x, y))
