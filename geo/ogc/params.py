"""Query parameters of OGC API – Features requests, checked and typed.

Every problem is an InvalidInput whose message starts with the parameter's name; the router
answers it with 400 as OGC asks (the rest of our API uses 422 for the same exception).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from geo.errors import InvalidInput
from geo.ogc import cql2
from geo.ogc.collections import Collection
from geo.ogc.spec import CRS84, FILTER_LANGS

BBox = tuple[float, float, float, float]
DEFAULT_LIMIT = 10
CRS84_NAMES = frozenset({CRS84, "CRS84", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"})
SINGLE = ("limit", "offset", "bbox", "bbox-crs", "filter", "filter-lang", "filter-crs", "crs", "f")
JSON_FORMATS = frozenset({"json", "geojson", "application/json", "application/geo+json"})


class NotAcceptable(InvalidInput):
    """The client accepts none of the media types we can answer with (HTTP 406)."""


@dataclass
class ItemsRequest:
    limit: int
    offset: int = 0
    bbox: BBox | None = None
    filters: list[cql2.Filter] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # what next/self links repeat

    def link_params(self, offset: int) -> dict[str, str]:
        out = {"limit": str(self.limit), **self.kept}
        if offset:
            out["offset"] = str(offset)
        return out


def check_format(f: str | None, accept: str | None) -> None:
    """JSON unless ``f`` or Accept asks for something else (then 400 / 406)."""
    if f is not None and f != "":
        if f.lower() not in JSON_FORMATS:
            raise InvalidInput(f"f: {f!r} is not available; use f=json (GeoJSON for items)")
        return
    if accept and not any(t in accept.lower() for t in ("json", "*/*", "application/*")):
        raise NotAcceptable(f"Accept: only JSON and GeoJSON are available, not {accept!r}")


def parse_limit(text: str | None, cap: int) -> int:
    """Default 10; above ``cap`` (settings.max_features) the cap applies, as OGC asks."""
    if text is None or text == "":
        return min(DEFAULT_LIMIT, cap)
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"limit: {text!r} is not a whole number of at least 1")
    return min(int(text), cap)


def parse_offset(text: str | None) -> int:
    if text is None or text == "":
        return 0
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(f"offset: {text!r} is not a whole number of at least 0")
    return int(text)


def parse_bbox(text: str | None) -> BBox | None:
    """minlon,minlat,maxlon,maxlat in CRS84 (6 numbers: the heights are ignored)."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput(f"bbox: expected 4 comma-separated numbers, got {len(parts)}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(f"bbox: {text!r} is not four numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise InvalidInput("bbox: numbers must be finite")
    minx, miny, maxx, maxy = numbers if len(numbers) == 4 else (*numbers[:2], *numbers[3:5])
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidInput("bbox: longitudes must lie within -180..180")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput("bbox: latitudes must lie within -90..90 (lon,lat order)")
    if minx > maxx:
        raise InvalidInput("bbox: minlon is larger than maxlon (boxes across the antimeridian "
                           "are not supported)")
    if miny > maxy:
        raise InvalidInput("bbox: minlat must not be larger than maxlat")
    return (minx, miny, maxx, maxy)


def _check_crs(name: str, value: str | None) -> None:
    if value and value not in CRS84_NAMES:
        raise InvalidInput(f"{name}: only {CRS84} is supported, not {value!r}")


def _single(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out and key in SINGLE:
            raise InvalidInput(f"{key}: given more than once")
        out[key] = value
    return out


def _filter(args: dict[str, str], collection: Collection) -> list[cql2.Filter]:
    lang = args.get("filter-lang") or FILTER_LANGS[0]
    if lang not in FILTER_LANGS:
        raise InvalidInput(f"filter-lang: {lang!r} is not supported; use cql2-text")
    text = args.get("filter", "").strip()
    if not text:
        return []
    return [cql2.translate(text, collection.queryables())]


def items_request(pairs: Iterable[tuple[str, str]], collection: Collection,
                  cap: int) -> ItemsRequest:
    """The checked parameters of /items, including queryables used as parameters."""
    args = _single(pairs)
    for name in ("bbox-crs", "filter-crs", "crs"):
        _check_crs(name, args.get(name))
    req = ItemsRequest(limit=parse_limit(args.get("limit"), cap),
                       offset=parse_offset(args.get("offset")), bbox=parse_bbox(args.get("bbox")))
    req.filters = _filter(args, collection)
    queryables = collection.queryables()
    for n, (key, value) in enumerate(sorted(args.items())):
        if key in queryables and key != "geometry":
            req.filters.append(cql2.equals(queryables[key], value, f"q{n}_"))
            req.kept[key] = value
    for key in ("bbox", "filter", "filter-lang"):
        if args.get(key):
            req.kept[key] = args[key]
    return req
