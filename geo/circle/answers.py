"""The service circle's answers as GeoJSON: buildings with their minutes, coverage per area
(on foot beside the straight line), isochrones, gap cells, proposed sites and the network's
pieces. Pure: a worked-out ``DistrictCircle`` in, dicts out (area outlines are passed in by
the caller). Areas are code prefixes (``DistrictCircle.in_area``: a grid code works too)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.circle.district import DistrictCircle, metres_per_minute, minutes
from geo.circle.graph import Snaps
from geo.circle.isochrone import area, reach
from geo.circle.siting import Proposal
from geo.coverage import LEVELS
from geo.h3cells import cells
from geo.heatmap import hexagons
from geo.privacy import suppress_count

Feature = dict[str, Any]
Mask = npt.NDArray[np.bool_]


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


@dataclass(frozen=True)
class Figures:
    """The circle's per-building figures for some buildings (``rows``), as arrays: minutes
    (NaN where no facility is reached) and whether within, per category; the facility
    reached; the count of categories within; a complete basic circle."""

    rows: npt.NDArray[np.int64]
    minutes: dict[str, npt.NDArray[np.float64]]
    within: dict[str, Mask]
    facility: dict[str, npt.NDArray[np.int64]]
    reached: npt.NDArray[np.int64]
    complete: Mask

    @classmethod
    def of(cls, circle: DistrictCircle, kmh: float, rows: npt.NDArray[np.int64]) -> Figures:
        codes = [c.code for c in circle.circle()]
        walk = {c: circle.walk(c) for c in codes}
        mins = {}
        for c in codes:
            m = np.asarray(minutes(walk[c][0][rows], kmh), dtype=np.float64)
            m[~np.isfinite(m)] = np.nan
            mins[c] = np.round(m, 1)
        within = {c: circle.within(c, kmh)[rows] for c in codes}
        reached = np.zeros(len(rows), dtype=np.int64)
        for c in codes:
            reached += within[c]
        return cls(rows, mins, within, {c: walk[c][1][rows] for c in codes}, reached,
                   circle.basic_complete(kmh)[rows])

    def minutes_of(self, k: int) -> dict[str, float | None]:
        return {c: None if np.isnan(m[k]) else float(m[k]) for c, m in self.minutes.items()}


def buildings(circle: DistrictCircle, kmh: float, prefix: str,
              outside: str | None = None) -> dict[str, Any]:
    """Every building (of the area ``prefix``; only those outside the circle of ``outside``
    when given) with its minutes to each category of the circle and whether it is within."""
    keep = circle.in_area(prefix)
    if outside is not None:
        keep &= ~circle.within(outside, kmh)
    f = Figures.of(circle, kmh, np.flatnonzero(keep))
    b = circle.buildings
    features = []
    for k, i in enumerate(f.rows.tolist()):
        features.append({"type": "Feature", "id": int(b.ids[i]),
                         "geometry": _point(b.lon[i], b.lat[i]), "properties": {
            "id": int(b.ids[i]), "households": int(b.extra["households"][i]),
            "grid": b.extra["grid"][i], "community": b.extra["community"][i],
            "on_network": bool(circle.building_snaps.row[i] >= 0),
            "minutes": f.minutes_of(k),
            "facility": {c: int(v[k]) if v[k] >= 0 else None for c, v in f.facility.items()},
            "within": {c: bool(v[k]) for c, v in f.within.items()},
            "basic_complete": bool(f.complete[k])}})
    return {"type": "FeatureCollection", "within": prefix or None, "speed_kmh": kmh,
            "outside": outside, "thresholds": {c.code: c.minutes for c in circle.circle()},
            "features": features}


def _share(households: np.ndarray, mine: np.ndarray, mask: np.ndarray) -> float | None:
    """The share of ``mine``'s households where ``mask`` holds (None without households)."""
    total = int(households[mine].sum())
    return round(int(households[mine][mask[mine]].sum()) / total, 4) if total else None


def _members(circle: DistrictCircle, level: str, prefix: str) -> dict[str, list[int]]:
    """The buildings of ``prefix`` by the area of ``level`` they are in."""
    key = circle.grid if level == "grid" else np.array([c[:LEVELS[level]]
                                                        for c in circle.community])
    out: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(circle.in_area(prefix) & (key != "")).tolist():
        out[str(key[i])].append(i)
    return out


def coverage(circle: DistrictCircle, kmh: float, level: str, prefix: str,
             areas: list[dict[str, Any]], role: str | None, k: int) -> dict[str, Any]:
    """Per area (``areas``: code, name, geometry as GeoJSON text): households and residents
    (residents suppressed below ``k`` for roles that need it, as ``/coverage`` does), and per
    category the households within its threshold on foot and in a straight line, plus the
    households with a complete basic circle and the buildings outside it."""
    households = circle.buildings.extra["households"].astype(np.int64)
    residents = circle.buildings.extra["residents"].astype(np.int64)
    flags = {c.code: (circle.within(c.code, kmh), circle.within(c.code, kmh, straight=True))
             for c in circle.circle()}
    complete = circle.basic_complete(kmh)
    complete_straight = circle.basic_complete(kmh, straight=True)
    members = _members(circle, level, prefix)
    features = []
    for a in areas:
        mine = np.array(members.get(a["code"], []), dtype=np.int64)
        per = {code: {"households_within": int(households[mine][walk[mine]].sum()),
                      "share": _share(households, mine, walk),
                      "share_straight": _share(households, mine, straight)}
               for code, (walk, straight) in flags.items()}
        geometry = a["geometry"]
        features.append({"type": "Feature", "id": a["code"], "geometry": None if geometry is None
                         else shapely.geometry.mapping(shapely.from_geojson(geometry)),
                         "properties": {
            "code": a["code"], "name": a["name"], "level": level, "buildings": len(mine),
            "households": int(households[mine].sum()),
            "residents": suppress_count(int(residents[mine].sum()), role, k),
            "basic_complete_share": _share(households, mine, complete),
            "basic_complete_share_straight": _share(households, mine, complete_straight),
            "buildings_outside_basic": int((~complete[mine]).sum()), "categories": per}})
    return {"type": "FeatureCollection", "level": level, "within": prefix or None,
            "speed_kmh": kmh, "thresholds": {c.code: c.minutes for c in circle.circle()},
            "basic": [c.code for c in circle.circle() if c.group == "basic"],
            "features": features}


def isochrones(circle: DistrictCircle, origin: Snaps, spans: list[int], kmh: float,
               buffer_m: float, prefix: str) -> list[Feature]:
    """One area per time span (largest first, for drawing), with the buildings of the area
    ``prefix`` it reaches and their households."""
    out = []
    mine = circle.in_area(prefix)
    households = circle.buildings.extra["households"]
    for span in sorted(spans, reverse=True):
        metres = span * metres_per_minute(kmh)
        got = reach(circle.graph, origin, metres)
        polygon = area(got.lines(circle.graph), circle.frame, buffer_m)
        near = mine & (circle.graph.from_point_to(origin, circle.building_snaps, metres)
                       <= metres)
        framed = circle.frame.geometries(np.array([polygon], dtype=object))[0]
        out.append({"type": "Feature", "geometry": shapely.geometry.mapping(polygon),
                    "properties": {"minutes": span, "metres": round(metres, 1),
                                   "area_km2": round(framed.area / 1e6, 4),
                                   "streets": len(got.parts), "buildings": int(near.sum()),
                                   "households": int(households[near].sum())}})
    return out


def gaps(circle: DistrictCircle, category: str, kmh: float, prefix: str,
         res: int) -> dict[str, Any]:
    """H3 cells holding buildings outside ``category``'s circle, with their households."""
    outside = np.flatnonzero(circle.in_area(prefix) & ~circle.within(category, kmh))
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


def network(circle: DistrictCircle, district: str, prefix: str) -> dict[str, Any]:
    """The district's walk network: its size, the pieces that do not join the largest one
    (each with a junction to find it by) and the buildings of ``prefix`` off it or on them."""
    graph = circle.graph
    pieces = graph.components()
    snapped = circle.building_snaps.row
    mine = circle.in_area(prefix)
    piece = np.where(snapped >= 0, graph.component[graph.u[np.maximum(snapped, 0)]], -1)
    xy = graph.node_lonlat
    index = {int(n): i for i, n in enumerate(graph.node_ids.tolist())}
    return {"district": district, "junctions": graph.n, "edges": len(graph.length),
            "pieces": len(pieces), "buildings_off_network": int((mine & (snapped < 0)).sum()),
            "buildings_on_minor_pieces": int((mine & (piece > 0)).sum()),
            "minor_pieces": [{"junctions": p.nodes, "edges": p.edges, "node_id": p.node_id,
                              "lon": round(float(xy[index[p.node_id], 0]), 7),
                              "lat": round(float(xy[index[p.node_id], 1]), 7)}
                             for p in pieces[1:]]}
