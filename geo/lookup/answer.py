"""The public lookup: point → street, community, grid, published contacts (phones masked),
building and its head, party organisation, nearest 党群服务中心 along the walk network.

Everything is answered from the in-memory indexes of ``geo.lookup.cache`` (no database round
trip per request; the cache follows the database's change notifications).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pyproj

from geo.errors import NotFound
from geo.lookup.cache import District, LookupCache
from geo.lookup.index import Centre, City, Geoms, Grid, Grids, Network, People, at
from geo.network import Snap
from geo.settings import Settings

_GEOD = pyproj.Geod(ellps="WGS84")


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


def _neighbours(grids: Grids, people: People, point_m: Geoms, near_m: float,
                hit: Any, today: date) -> list[dict[str, Any]]:
    return [{"grid": g.json(), "contacts": people.contacts(g, today), "distance_m": round(d, 1)}
            for g, d in grids.near(point_m, near_m, hit)]


async def _place(cache: LookupCache, city: City, lon: float, lat: float, point: Geoms
                 ) -> tuple[str, Grid | None, District]:
    """The point's community, grid and district. A district's grids are all those that reach
    into the box of its communities, so the first district whose box holds the point and
    whose grids cover it knows its grid; only a point in no grid needs the communities."""
    for code in city.districts_around(lon, lat):
        district = await cache.district(city, code)
        hit = district.grids.covering(point)
        if hit is not None and hit.community_code:
            if hit.community_code[:6] != code:
                district = await cache.district(city, hit.community_code[:6])
            return hit.community_code, hit, district
    community = city.community(point)
    if community is None:
        raise NotFound(f"({lon:.6f}, {lat:.6f}) is outside every community we serve")
    district = await cache.district(city, community[:6])
    return community, district.grids.covering(point), district


async def lookup(cache: LookupCache, settings: Settings, lon: float, lat: float
                 ) -> dict[str, Any]:
    """The whole answer for a WGS84 point (already validated by ``parse_point``)."""
    point = at(lon, lat)
    city = await cache.city()
    community, hit, district = await _place(cache, city, lon, lat, point)
    grids, people, buildings, network = (district.grids, district.people, district.buildings,
                                         district.network)
    today = date.today()
    point_m = grids.metric_point(lon, lat)
    neighbours = _neighbours(grids, people, point_m, settings.near_boundary_m, hit, today)
    b = buildings.covering(point)
    building = None
    if b is not None:
        building = {**buildings.info[b], "head": people.head(buildings.ids[b], today)}
    street = community[:9]
    return {
        "point": {"lon": round(lon, 7), "lat": round(lat, 7)},
        "street": {"code": street, "name": city.names[street]} if street in city.names else None,
        "community": {"code": community, "name": city.names.get(community)},
        "grid": hit.json() if hit else None,
        "contacts": people.contacts(hit, today) if hit else [],
        "building": building,
        "party_org": people.orgs.get(hit.id) if hit else None,
        "service_centre": service_centre(network, network.snapper.snap(point, point_m),
                                         lon, lat, settings.walk_speed_kmh),
        "near_boundary": bool(neighbours),
        "boundary_distance_m": neighbours[0]["distance_m"] if neighbours else None,
        "neighbours": neighbours,
    }
