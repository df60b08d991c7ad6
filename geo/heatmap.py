"""Heat maps of residents, party members, volunteers and resident issues on H3 hexagons:
what a request may ask for, and the GeoJSON answer (hexagon outlines made in one vectorised
call). The counting is ``geo.db.queries.heatmap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from h3ronpy.vector import cells_to_wkb_polygons

from geo.db.queries.heatmap import LAYERS as PEOPLE_LAYERS
from geo.errors import InvalidInput
from geo.h3cells import RESOLUTIONS
from geo.resources import ISSUES

CHINA_TZ = timezone(timedelta(hours=8))  # a date without a time is a day in China (no DST)
LAYER_ZH = {"residents": "常住人口", "party_members": "党员", "volunteers": "志愿者",
            "issues": "民情"}
LAYERS = (*PEOPLE_LAYERS, "issues")
assert set(LAYER_ZH) == set(LAYERS)
STATUSES = next(f.choices or () for f in ISSUES.fields if f.name == "status")


@dataclass(frozen=True)
class HeatQuery:
    layer: str
    res: int
    categories: list[str] | None = None
    statuses: list[str] | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    @classmethod
    def parse(cls, layer: str, res: int, category: str | None = None,
              status: str | None = None, since: str | None = None,
              until: str | None = None) -> HeatQuery:
        """Validated request parameters (422 naming the bad one). ``from``/``to`` are dates
        (whole days in China time, ``to`` included) or ISO date-times."""
        if layer not in LAYERS:
            raise InvalidInput(f"layer: {layer!r} is not one of {', '.join(LAYERS)}")
        if res not in RESOLUTIONS:
            raise InvalidInput(f"res: {res} is not one of {', '.join(map(str, RESOLUTIONS))}")
        filters = {"category": category, "status": status, "from": since, "to": until}
        if layer != "issues" and any(filters.values()):
            used = ", ".join(k for k, v in filters.items() if v)
            raise InvalidInput(f"{used}: filters apply to the issues layer only")
        statuses = _listed(status)
        for s in statuses or ():
            if s not in STATUSES:
                raise InvalidInput(f"status: {s!r} is not one of {', '.join(STATUSES)}")
        start, end = _moment(since, "from", False), _moment(until, "to", True)
        if start and end and end <= start:
            raise InvalidInput("to: must be after from")
        return cls(layer, res, _listed(category), statuses, start, end)


def _listed(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


def _moment(value: str | None, name: str, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), CHINA_TZ)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date (YYYY-MM-DD) or an ISO "
                           "date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def hexagons(cells: list[int]) -> list[Any]:
    """Each cell's outline as a GeoJSON Polygon's coordinates (lon, lat; closed ring)."""
    if not cells:
        return []
    wkb = pa.array(cells_to_wkb_polygons(np.array(cells, dtype=np.int64).view(np.uint64)))
    polygons = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    coords, which = shapely.get_coordinates(polygons, return_index=True)
    rings = np.split(np.round(coords, 7), np.flatnonzero(np.diff(which)) + 1)
    return [[ring.tolist()] for ring in rings]


def collection(rows: list[tuple[int, int]], query: HeatQuery, within: str,
               floor: int) -> dict[str, Any]:
    """The GeoJSON answer: one hexagon per cell with its count (cells below ``floor``,
    the caller's suppression floor, were left out by the query)."""
    cells = [c for c, _ in rows]
    features = [{"type": "Feature", "id": format(c, "x"),
                 "geometry": {"type": "Polygon", "coordinates": ring},
                 "properties": {"cell": format(c, "x"), "count": n}}
                for (c, n), ring in zip(rows, hexagons(cells), strict=True)]
    counts = [n for _, n in rows]
    return {"type": "FeatureCollection", "layer": query.layer, "layer_zh": LAYER_ZH[query.layer],
            "res": query.res, "within": within or None,
            "filters": {"category": query.categories, "status": query.statuses,
                        "from": query.since.isoformat() if query.since else None,
                        "to": query.until.isoformat() if query.until else None},
            "min_count_shown": floor, "total": sum(counts), "max": max(counts, default=0),
            "features": features}
