"""The service circle's answers as GeoJSON: buildings with their minutes, coverage per area
(on foot beside the straight line), isochrones, gap cells and proposed sites. Pure: a
worked-out ``DistrictCircle`` in, dicts out (area outlines are passed in by the caller)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import shapely

from geo.circle.district import DistrictCircle, metres_per_minute
from geo.circle.graph import Snaps
from geo.circle.isochrone import area, reach
from geo.circle.siting import Proposal
from geo.coverage import LEVELS
from geo.h3cells import cells
from geo.heatmap import hexagons

Feature = dict[str, Any]


def _in(circle: DistrictCircle, prefix: str) -> np.ndarray:
    community = circle.buildings.extra["community"].astype(str)
    return np.char.startswith(community, prefix)


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def _minutes(metres: float, kmh: float) -> float | None:
    return round(metres / metres_per_minute(kmh), 1) if math.isfinite(metres) else None


def buildings(circle: DistrictCircle, kmh: float, prefix: str,
              outside: str | None = None) -> dict[str, Any]:
    """Every building (of the area ``prefix``; only those outside the circle of ``outside``
    when given) with its minutes to each category of the circle and whether it is within."""
    keep = _in(circle, prefix)
    if outside is not None:
        keep &= ~circle.within(outside, kmh)
    circle_codes = [c.code for c in circle.circle()]
    walk = {c: circle.walk(c) for c in circle_codes}
    within = {c: circle.within(c, kmh) for c in circle_codes}
    complete = circle.basic_complete(kmh)
    b = circle.buildings
    features = []
    for i in np.flatnonzero(keep).tolist():
        features.append({"type": "Feature", "id": int(b.ids[i]),
                         "geometry": _point(b.lon[i], b.lat[i]), "properties": {
            "id": int(b.ids[i]), "households": int(b.extra["households"][i]),
            "grid": b.extra["grid"][i], "community": b.extra["community"][i],
            "on_network": bool(circle.building_snaps.row[i] >= 0),
            "minutes": {c: _minutes(walk[c][0][i], kmh) for c in circle_codes},
            "facility": {c: int(walk[c][1][i]) if walk[c][1][i] >= 0 else None
                         for c in circle_codes},
            "within": {c: bool(within[c][i]) for c in circle_codes},
            "basic_complete": bool(complete[i])}})
    return {"type": "FeatureCollection", "within": prefix or None, "speed_kmh": kmh,
            "outside": outside, "thresholds": {c.code: c.minutes for c in circle.circle()},
            "features": features}


def _share(households: np.ndarray, mine: np.ndarray, mask: np.ndarray) -> float | None:
    """The share of ``mine``'s households where ``mask`` holds (None without households)."""
    total = int(households[mine].sum())
    return round(int(households[mine][mask[mine]].sum()) / total, 4) if total else None


def coverage(circle: DistrictCircle, kmh: float, level: str, prefix: str,
             areas: list[dict[str, Any]]) -> dict[str, Any]:
    """Per area (``areas``: code, name, geometry as GeoJSON text): households and residents,
    and per category the households within its threshold on foot and in a straight line,
    plus the households with a complete basic circle and the buildings outside it."""
    b = circle.buildings
    keep = _in(circle, prefix)
    key = (b.extra["grid"] if level == "grid" else
           np.array([c[:LEVELS[level]] if c else None for c in b.extra["community"]],
                    dtype=object))
    households = b.extra["households"].astype(np.int64)
    residents = b.extra["residents"].astype(np.int64)
    flags = {c.code: (circle.within(c.code, kmh), circle.within(c.code, kmh, straight=True))
             for c in circle.circle()}
    complete = circle.basic_complete(kmh)
    complete_straight = circle.basic_complete(kmh, straight=True)
    members: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(keep).tolist():
        if key[i] is not None:
            members[str(key[i])].append(i)
    features = []
    for a in areas:
        mine = np.array(members.get(a["code"], []), dtype=np.int64)
        hh = int(households[mine].sum())
        per = {code: {"households_within": int(households[mine][walk[mine]].sum()),
                      "share": _share(households, mine, walk),
                      "share_straight": _share(households, mine, straight)}
               for code, (walk, straight) in flags.items()}
        features.append({"type": "Feature", "id": a["code"],
                         "geometry": None if a["geometry"] is None else
                         shapely.geometry.mapping(shapely.from_geojson(a["geometry"])),
                         "properties": {
            "code": a["code"], "name": a["name"], "level": level, "buildings": len(mine),
            "households": hh, "residents": int(residents[mine].sum()),
            "basic_complete_share": _share(households, mine, complete),
            "basic_complete_share_straight": _share(households, mine, complete_straight),
            "buildings_outside_basic": int((~complete[mine]).sum()), "categories": per}})
    return {"type": "FeatureCollection", "level": level, "within": prefix or None,
            "speed_kmh": kmh, "thresholds": {c.code: c.minutes for c in circle.circle()},
            "basic": [c.code for c in circle.circle() if c.group == "basic"],
            "features": features}


def isochrones(circle: DistrictCircle, origin: Snaps, spans: list[int], kmh: float,
               buffer_m: float) -> list[Feature]:
    """One area per time span (largest first, for drawing), with what it reaches."""
    out = []
    for span in sorted(spans, reverse=True):
        metres = span * metres_per_minute(kmh)
        got = reach(circle.graph, origin, metres)
        polygon = area(got.lines(circle.graph), circle.frame, buffer_m)
        near = circle.graph.from_point_to(origin, circle.building_snaps, metres) <= metres
        framed = circle.frame.geometries(np.array([polygon], dtype=object))[0]
        out.append({"type": "Feature", "geometry": shapely.geometry.mapping(polygon),
                    "properties": {"minutes": span, "metres": round(metres, 1),
                                   "area_km2": round(framed.area / 1e6, 4),
                                   "streets": len(got.parts),
                                   "buildings": int(near.sum()),
                                   "households": int(circle.buildings.extra["households"][
                                       near].sum())}})
    return out


def gaps(circle: DistrictCircle, category: str, kmh: float, prefix: str,
         res: int) -> dict[str, Any]:
    """H3 cells holding buildings outside ``category``'s circle, with their households."""
    outside = np.flatnonzero(_in(circle, prefix) & ~circle.within(category, kmh))
    b = circle.buildings
    found = cells(b.lon[outside], b.lat[outside], res)
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for c, h in zip(found.tolist(), b.extra["households"][outside].tolist(), strict=True):
        totals[c][0] += 1
        totals[c][1] += int(h)
    order = sorted(totals)
    features = [{"type": "Feature", "id": format(c, "x"),
                 "geometry": {"type": "Polygon", "coordinates": ring},
                 "properties": {"cell": format(c, "x"), "buildings": totals[c][0],
                                "households": totals[c][1]}}
                for c, ring in zip(order, hexagons(order), strict=True)]
    return {"type": "FeatureCollection", "category": category, "res": res,
            "within": prefix or None, "speed_kmh": kmh,
            "buildings_outside": len(outside),
            "households_outside": int(b.extra["households"][outside].sum()),
            "features": features}


def proposals(found: list[Proposal], uncovered_households: int, category: str,
              k: int) -> dict[str, Any]:
    added = sum(p.households for p in found)
    return {"type": "FeatureCollection", "category": category, "k": k,
            "households_outside_before": uncovered_households,
            "households_added": added, "households_outside_after": uncovered_households - added,
            "features": [{"type": "Feature", "geometry": _point(p.lon, p.lat), "properties": {
                "rank": n, "candidate": p.candidate, "households": p.households,
                "buildings": p.buildings}} for n, p in enumerate(found, 1)]}

