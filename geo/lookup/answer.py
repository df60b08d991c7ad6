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
                 hits: list[int], communities: list[str], today: date) -> list[dict[str, Any]]:
    """The answers for points whose community lies in ``district`` (``hits``: the row of the
    grid covering each point, or NONE): one shapely call per question for all of them,
    then one dictionary each."""
    grids, people, buildings, network = (district.grids, district.people, district.buildings,
                                         district.network)
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


class _Batch:
    """The points of one call of ``lookup_many`` and the answers found so far."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        coords = np.array(points, dtype=np.float64).reshape(-1, 2)
        self.xs, self.ys = coords[:, 0], coords[:, 1]
        self.geoms = points_at(coords)
        self.out: list[Answer | None] = [None] * len(coords)
        self.today = date.today()

    def of(self, members: list[int]) -> Geoms:
        return self.geoms if len(members) == len(self.out) else self.geoms[members]

    def answer(self, city: City, district: District, settings: Settings, members: list[int],
               hits: list[int], communities: list[str]) -> None:
        if len(members) == len(self.out):  # the common case: every point at once
            xs, ys, geoms = self.xs, self.ys, self.geoms
        else:
            sel = np.array(members, dtype=np.intp)
            xs, ys, geoms = self.xs[sel], self.ys[sel], self.geoms[sel]
        answers = _in_district(city, district, settings, xs, ys, geoms, hits, communities,
                               self.today)
        for i, answer in zip(members, answers, strict=True):
            self.out[i] = answer


def _group(keys: Sequence[str | None]) -> dict[str | None, list[int]]:
    groups: dict[str | None, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return groups


async def lookup_many(cache: LookupCache, settings: Settings,
                      points: Sequence[tuple[float, float]]) -> list[Answer]:
    """The answers for WGS84 points (already validated by ``parse_point``), in order; a point
    outside every community gets its NotFound in its place.

    Most points are answered by a guess: the district whose box holds the point, where the
    grid covering it names its community. The others (no grid there, or a grid of another
    district) ask the city which community covers them, then that community's district."""
    city = await cache.city()
    batch = _Batch(points)
    guesses = _group([city.district_at(x, y)
                      for x, y in zip(batch.xs.tolist(), batch.ys.tolist(), strict=True)])
    unsure = guesses.pop(None, [])
    for code, members in guesses.items():
        assert code is not None
        district = await cache.district(city, code)
        grids = district.grids.grids
        hits = district.grids.covering(batch.of(members))
        sure = [k for k, row in enumerate(hits)
                if row != NONE and (grids[row].community_code or "").startswith(code)]
        if len(sure) < len(members):
            unsure += [i for k, i in enumerate(members) if k not in set(sure)]
            members, hits = [members[k] for k in sure], [hits[k] for k in sure]
        if members:
            batch.answer(city, district, settings, members, hits,
                         [grids[row].community_code for row in hits])  # type: ignore[misc]
    if unsure:
        await _ask_the_city(cache, city, settings, batch, sorted(unsure))
    return batch.out  # type: ignore[return-value]


async def _ask_the_city(cache: LookupCache, city: City, settings: Settings, batch: _Batch,
                        members: list[int]) -> None:
    communities = city.communities(batch.of(members))
    for code, group in _group([c[:6] if c else None for c in communities]).items():
        if code is None:
            for k in group:
                i = members[k]
                batch.out[i] = NotFound(f"({batch.xs[i]:.6f}, {batch.ys[i]:.6f}) is outside "
                                        "every community we serve")
            continue
        district = await cache.district(city, code)
        chosen = [members[k] for k in group]
        batch.answer(city, district, settings, chosen,
                     district.grids.covering(batch.of(chosen)),
                     [communities[k] for k in group])  # type: ignore[misc]
