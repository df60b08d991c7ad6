"""The public lookup: point → street, community, grid, published contacts (phones masked),
building and its head, party organisation, nearest 党群服务中心 along the walk network.

Everything is answered from the in-memory indexes of ``geo.lookup.cache`` (no database round
trip per request; the cache follows the database's change notifications), for a batch of
points at a time (``lookup_many``; ``geo.lookup.batch`` gathers concurrent requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj

from geo.errors import NotFound
from geo.lookup.cache import District, LookupCache
from geo.lookup.index import NONE, Centre, City, Geoms, Network, points_at
from geo.network import Snap
from geo.settings import Settings

_GEOD = pyproj.Geod(ellps="WGS84")
Answer = dict[str, Any] | NotFound


def straight_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ellipsoidal (WGS84) distance in metres, as PostGIS geography measures it."""
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _centre_json(c: Centre, lon: float, lat: float, walk_m: float | None,
                 route: list[list[float]] | None, speed_kmh: float) -> dict[str, Any]:
    minutes = None if walk_m is None else round(walk_m / (speed_kmh * 1000.0 / 60.0), 1)
    return {"name": c.name, "address": c.address, "opening_hours": c.opening_hours,
            "lon": c.site.lon, "lat": c.site.lat,
            "straight_m": round(straight_m(lon, lat, c.site.lon, c.site.lat), 1),
            "walk_m": None if walk_m is None else round(walk_m, 1), "walk_minutes": minutes,
            "route": None if route is None else {"type": "LineString", "coordinates": route}}


def service_centre(network: Network, snap: Snap | None, lon: float, lat: float,
                   speed_kmh: float) -> dict[str, Any] | None:
    """The centre nearest along the network; the straight-line nearest when there is no
    network (or the point's part of it reaches no centre)."""
    if network.network is not None and snap is not None:
        walk = network.network.nearest(snap, lon, lat)
        if walk is not None:
            return _centre_json(network.centres[walk.site.key], lon, lat, walk.distance_m,
                                walk.route, speed_kmh)
    if not network.centres:
        return None
    nearest = min(network.centres.values(),
                  key=lambda c: (straight_m(lon, lat, c.site.lon, c.site.lat), c.site.key))
    return _centre_json(nearest, lon, lat, None, None, speed_kmh)


def _in_district(city: City, district: District, settings: Settings,
                 xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], points: Geoms,
                 communities: list[str], today: date) -> list[dict[str, Any]]:
    """The answers for points whose community lies in ``district``: one shapely call per
    question for all of them, then one dictionary each."""
    grids, people, buildings, network = (district.grids, district.people, district.buildings,
                                         district.network)
    hits = grids.covering(points)
    points_m = grids.metric(xs, ys)
    near = grids.near(points_m, hits, settings.near_boundary_m)
    inside = buildings.covering(points)
    snaps = network.snapper.snap(points, points_m)
    out = []
    for k, row in enumerate(hits):
        lon, lat = float(xs[k]), float(ys[k])
        hit = None if row == NONE else grids.grids[row]
        community = hit.community_code if hit and hit.community_code else communities[k]
        neighbours = [{"grid": g.json(), "contacts": people.contacts(g, today),
                       "distance_m": round(d, 1)} for g, d in near[k]]
        building = None
        if inside[k] != NONE:
            b = inside[k]
            building = {**buildings.info[b], "head": people.head(buildings.ids[b], today)}
        street = community[:9]
        out.append({
            "point": {"lon": round(lon, 7), "lat": round(lat, 7)},
            "street": ({"code": street, "name": city.names[street]}
                       if street in city.names else None),
            "community": {"code": community, "name": city.names.get(community)},
            "grid": hit.json() if hit else None,
            "contacts": people.contacts(hit, today) if hit else [],
            "building": building,
            "party_org": people.orgs.get(hit.id) if hit else None,
            "service_centre": service_centre(network, snaps[k], lon, lat,
                                             settings.walk_speed_kmh),
            "near_boundary": bool(neighbours),
            "boundary_distance_m": neighbours[0]["distance_m"] if neighbours else None,
            "neighbours": neighbours,
        })
    return out


async def lookup_many(cache: LookupCache, settings: Settings,
                      points: Sequence[tuple[float, float]]) -> list[Answer]:
    """The answers for WGS84 points (already validated by ``parse_point``), in order; a point
    outside every community gets its NotFound in its place."""
    city = await cache.city()
    coords = np.array(points, dtype=np.float64).reshape(-1, 2)
    xs, ys = coords[:, 0], coords[:, 1]
    geoms = points_at(coords)
    communities = city.communities(geoms)
    out: list[Answer | None] = [None] * len(points)
    by_district: dict[str, list[int]] = {}
    for i, code in enumerate(communities):
        if code is None:
            out[i] = NotFound(f"({xs[i]:.6f}, {ys[i]:.6f}) is outside every community we serve")
        else:
            by_district.setdefault(code[:6], []).append(i)
    today = date.today()
    for code, members in by_district.items():
        district = await cache.district(city, code)
        found = [c for i in members if (c := communities[i]) is not None]
        if len(members) < len(points):
            sel = np.array(members, dtype=np.intp)
            answers = _in_district(city, district, settings, xs[sel], ys[sel], geoms[sel],
                                   found, today)
        else:  # the common case: every point in one district
            answers = _in_district(city, district, settings, xs, ys, geoms, found, today)
        for i, answer in zip(members, answers, strict=True):
            out[i] = answer
    return out  # type: ignore[return-value]

