"""The public lookup: point → street, community, grid, published contacts (phones masked),
building and its head, party organisation, nearest 党群服务中心 along the walk network.

Everything is answered from the in-memory indexes of ``geo.lookup.cache`` (no database round
trip per request; the cache follows the database's change notifications), for a batch of
points at a time (``lookup_many``; ``geo.lookup.batch`` gathers concurrent requests): each
point by the district's cell indexes (``geo.lookup.cells``) when they are built and can say,
the rest with one call of the STRtrees per question for all of them. An
answer is JSON text, joined from pieces encoded once: the grid's and the building's cards
(``geo.lookup.cards``), the centre's fixed members and the route's edges. Whether the centre
is open is asked at the request's time on the sites' clock (``Settings.timezone``) of its
hours parsed once (``geo.hours``); when it is closed, the district's nearest open centre is
named too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cached_property
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from pydantic_core import to_json

from geo import hours
from geo.errors import NotFound
from geo.lookup.cache import District, LookupCache
from geo.lookup.centres import Centre, Network
from geo.lookup.index import NONE, City, Frame, Geoms, Grid
from geo.network import Snap
from geo.settings import Settings

_GEOD = pyproj.Geod(ellps="WGS84")
Answer = bytes | NotFound  # the answer's JSON text
_STATE = {True: b"true", False: b"false", None: b"null"}


def straight_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ellipsoidal (WGS84) distance in metres, as PostGIS geography measures it."""
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def nearest_open(network: Network, lon: float, lat: float, local: datetime) -> bytes:
    """The centre of the district open at ``local`` (naive local time) nearest in a straight
    line, as JSON (its fixed members and ``straight_m``); ``null`` when none is open."""
    found = network.open_centres(local)
    n = len(found.centres)
    if not n:
        return b"null"
    metres = _GEOD.inv(np.full(n, lon), np.full(n, lat), found.lons, found.lats)[2]
    k = int(np.argmin(metres))  # the first of equals: the centres are in key order
    return b"".join((b"{", found.centres[k].json, b',"straight_m":',
                     to_json(round(float(metres[k]), 1)), b"}"))


def _centre_json(network: Network, c: Centre, lon: float, lat: float, walk_m: float | None,
                 route: bytes | None, speed_kmh: float, local: datetime) -> bytes:
    minutes = None if walk_m is None else round(walk_m / (speed_kmh * 1000.0 / 60.0), 1)
    numbers = to_json({"straight_m": round(straight_m(lon, lat, c.site.lon, c.site.lat), 1),
                       "walk_m": None if walk_m is None else round(walk_m, 1),
                       "walk_minutes": minutes})
    is_open = c.open_at(local)
    return b"".join((b"{", c.json, b",", numbers[1:-1], b',"route":',
                     b"null" if route is None else
                     b'{"type":"LineString","coordinates":' + route + b"}",
                     b',"open_now":', _STATE[is_open], b',"nearest_open":',
                     nearest_open(network, lon, lat, local) if is_open is False else b"null",
                     b"}"))


def service_centre(network: Network, snap: Snap | None, lon: float, lat: float,
                   speed_kmh: float, local: datetime | None = None) -> bytes:
    """The centre nearest along the network, as JSON; the straight-line nearest when there is
    no network (or the point's part of it reaches no centre); ``null`` without centres.
    ``open_now`` and, when it is closed, ``nearest_open`` are at ``local``: the request's
    time, naive, in the settings' time zone (None: now in Asia/Shanghai)."""
    if local is None:
        local = datetime.now(hours.DEFAULT_ZONE).replace(tzinfo=None)
    if network.network is not None and snap is not None:
        walk = network.network.nearest(snap, lon, lat)
        if walk is not None:
            return _centre_json(network, network.centres[walk.site.key], lon, lat,
                                walk.distance_m, walk.route_json, speed_kmh, local)
    if not network.centres:
        return b"null"
    nearest = min(network.centres.values(),
                  key=lambda c: (straight_m(lon, lat, c.site.lon, c.site.lat), c.site.key))
    return _centre_json(network, nearest, lon, lat, None, None, speed_kmh, local)


_FAR = b'"near_boundary":false,"boundary_distance_m":null,"neighbours":[]'


def _near_json(district: District, near: list[tuple[Grid, float]], today: date) -> bytes:
    if not near:
        return _FAR
    people = district.people
    neighbours = [{"grid": g.json(), "contacts": people.contacts(g, today),
                   "distance_m": round(d, 1)} for g, d in near]
    return to_json({"near_boundary": True, "boundary_distance_m": neighbours[0]["distance_m"],
                    "neighbours": neighbours})[1:-1]


class _Points(NamedTuple):
    """Some of a batch's points: coordinates, points in lon/lat, the same in the frame."""

    coords: npt.NDArray[np.float64]
    geoms: Geoms
    framed: Geoms

    def take(self, rows: list[int]) -> _Points:
        return _Points(self.coords[rows], self.geoms[rows], self.framed[rows])


def _answer(district: District, settings: Settings, lon: float, lat: float, row: int,
            community: str, near: list[tuple[Grid, float]], building: int, snap: Snap | None,
            today: date, local: datetime) -> bytes:
    """One answer's JSON, joined mostly from ``Cards``: ``row`` is the grid covering the point
    (or NONE), ``building`` the footprint (or NONE), ``snap`` where it meets the network."""
    cards = district.cards
    return b"".join((
        b'{"point":', to_json({"lon": round(lon, 7), "lat": round(lat, 7)}), b",",
        cards.place(row, community, today),
        b',"building":', b"null" if building == NONE else cards.building(building, today),
        b',"service_centre":', service_centre(district.network, snap, lon, lat,
                                               settings.walk_speed_kmh, local),
        b",", _near_json(district, near, today), b"}"))


def _in_district(district: District, settings: Settings, pts: _Points, hits: list[int],
                 communities: list[str], today: date, local: datetime) -> list[bytes]:
    """The answers (JSON) for points whose community lies in ``district`` (``hits``: the row
    of the grid covering each point, or NONE): one shapely call per question for all of
    them, then one answer each."""
    grids = district.grids
    xs, ys = pts.coords[:, 0], pts.coords[:, 1]
    near = grids.near(ys, pts.framed, hits, settings.near_boundary_m)
    inside = district.buildings.covering(pts.geoms)
    snaps = district.network.snapper.snap(pts.geoms, pts.framed)
    out = []
    for k, (lon, lat, row) in enumerate(zip(xs.tolist(), ys.tolist(), hits, strict=True)):
        grid = None if row == NONE else grids.grids[row]
        community = grid.community_code if grid and grid.community_code else communities[k]
        out.append(_answer(district, settings, lon, lat, row, community, near[k], inside[k],
                           snaps[k], today, local))
    return out


def _by_cells(district: District, settings: Settings, code: str, lon: float, lat: float,
              today: date, local: datetime) -> bytes | None:
    """The answer from the district's cell indexes (``geo.lookup.cells``), in plain Python;
    None when they cannot give it (the point then takes the path above), or when the grid
    covering the point belongs to a community of another district."""
    cells = district.cells
    grid_cells, building_cells, edge_cells = (
        cells.grids.value, cells.buildings.value, cells.edges.value)
    if grid_cells is None or building_cells is None or edge_cells is None:
        return None  # still being built
    found = grid_cells.at(lon, lat, settings.near_boundary_m)
    if found is None:
        return None
    row, near = found
    grids = district.grids.grids
    community = grids[row].community_code
    if not community or not community.startswith(code):
        return None
    return _answer(district, settings, lon, lat, row, community,
                   [(grids[r], d) for r, d in near], building_cells.at(lon, lat),
                   edge_cells.snap(lon, lat), today, local)


class _Batch:
    """The points of one call of ``lookup_many`` and the answers found so far."""

    def __init__(self, points: Sequence[tuple[float, float]], zone: ZoneInfo) -> None:
        self.points = points
        self.out: list[Answer | None] = [None] * len(points)
        self.today = date.today()
        # the request's time on the sites' clock (naive, as opening hours are read)
        self.local = datetime.now(zone).replace(tzinfo=None)

    @cached_property
    def coords(self) -> npt.NDArray[np.float64]:
        """The points as an (n, 2) array, for the questions asked of the trees."""
        return np.array(self.points, dtype=np.float64).reshape(-1, 2)

    def by_cells(self, district: District, settings: Settings, code: str,
                 members: list[int]) -> list[int]:
        """Answer what the cell indexes can; the members left over."""
        rest = []
        for i in members:
            lon, lat = self.points[i]
            found = _by_cells(district, settings, code, float(lon), float(lat), self.today,
                              self.local)
            if found is None:
                rest.append(i)
            else:
                self.out[i] = found
        return rest

    def at(self, members: list[int], frame: Frame) -> _Points:
        """The points of ``members``, in lon/lat and in ``frame`` (made in one call)."""
        coords = self.coords if len(members) == len(self.out) else self.coords[members]
        both = shapely.points(np.concatenate((coords, coords * frame.scale)))
        return _Points(coords, both[: len(coords)], both[len(coords):])

    def answer(self, district: District, settings: Settings, members: list[int],
               pts: _Points, hits: list[int], communities: list[str]) -> None:
        answers = _in_district(district, settings, pts, hits, communities, self.today,
                               self.local)
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
    batch = _Batch(points, ZoneInfo(settings.timezone))
    guesses = _group([city.district_at(x, y) for x, y in points])
    unsure = guesses.pop(None, [])
    for code, members in guesses.items():
        assert code is not None
        district = await cache.district(city, code)
        members = batch.by_cells(district, settings, code, members)
        if not members:
            continue
        grids = district.grids.grids
        pts = batch.at(members, district.grids.frame)
        hits = district.grids.covering(pts.geoms)
        sure = [k for k, row in enumerate(hits)
                if row != NONE and (grids[row].community_code or "").startswith(code)]
        if len(sure) < len(members):
            kept = set(sure)
            unsure += [i for k, i in enumerate(members) if k not in kept]
            members, hits, pts = [members[k] for k in sure], [hits[k] for k in sure], \
                pts.take(sure)
        if members:
            batch.answer(district, settings, members, pts, hits,
                         [grids[row].community_code for row in hits])  # type: ignore[misc]
    if unsure:
        await _ask_the_city(cache, city, settings, batch, sorted(unsure))
    return batch.out  # type: ignore[return-value]


async def _ask_the_city(cache: LookupCache, city: City, settings: Settings, batch: _Batch,
                        members: list[int]) -> None:
    communities = city.communities(shapely.points(batch.coords[members]))
    for code, group in _group([c[:6] if c else None for c in communities]).items():
        if code is None:
            for k in group:
                i = members[k]
                lon, lat = batch.coords[i].tolist()
                batch.out[i] = NotFound(f"({lon:.6f}, {lat:.6f}) is outside every community "
                                        "we serve")
            continue
        district = await cache.district(city, code)
        chosen = [members[k] for k in group]
        pts = batch.at(chosen, district.grids.frame)
        batch.answer(district, settings, chosen, pts, district.grids.covering(pts.geoms),
                     [communities[k] for k in group])  # type: ignore[misc]
