"""The public lookup: point → street, community, grid, published contacts (phones masked),
building and its head, party organisation, nearest 党群服务中心 along the walk network.

One database round trip for the geographic part (``geo.db.queries.lookup``); the walk to
the service centre comes from a per-district network kept in memory (``WalkNetworks``),
rebuilt when its data version changes (checked at most every ``check_seconds``).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyproj
from psycopg import AsyncConnection

from geo.crs import CHINA_EXTENT, normalize_crs, to_wgs84
from geo.db.queries import lookup as q
from geo.db.queries import network as nq
from geo.errors import InvalidInput, NotFound
from geo.network import Snap, WalkNetwork
from geo.privacy import mask_phone
from geo.settings import Settings

ROLE_ZH = {"grid_worker_full": "专职网格员", "grid_worker_part": "兼职网格员",
           "grid_leader": "网格长", "grid_assistant": "网格协管员", "building_head": "楼栋长"}
ORG_ZH = {"grid_branch": "网格党支部", "grid_group": "网格党小组", "building_group": "楼栋党小组",
          "community_committee": "社区大党委", "street_working_committee": "街道大工委",
          "unit_branch": "单位党支部", "alliance": "党建联盟"}
_GEOD = pyproj.Geod(ellps="WGS84")
_M_PER_DEG_LAT = 110_574.0  # the smallest metres per degree of latitude (at the equator)


# -- input ------------------------------------------------------------------------------

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
    gx, gy = to_wgs84(x, y, c)
    wx, wy = float(gx), float(gy)
    if not (math.isfinite(wx) and math.isfinite(wy)):
        raise InvalidInput(f"lon, lat: ({x}, {y}) cannot be converted from {c}")
    w, s, e, n = CHINA_EXTENT
    if not (w <= wx <= e and s <= wy <= n):
        raise InvalidInput(f"lon, lat: ({wx:.6f}, {wy:.6f}) is outside China; this service "
                           "covers Chinese communities only")
    return wx, wy


# -- the walk networks, one per district ------------------------------------------------

@dataclass
class DistrictNetwork:
    version: str
    checked: float
    network: WalkNetwork | None  # None: the district has no walk edges
    centres: dict[int, nq.Centre]


class WalkNetworks:
    """Per-district walk networks with their nearest-centre solution, kept in memory.

    The data version (edges and centres of the district) is compared at most every
    ``check_seconds``; a change rebuilds the district's network, so an edit shows up within
    that time. Builds are serialised per district; readers never see a half-built network."""

    def __init__(self, check_seconds: float = 5.0) -> None:
        self.check_seconds = check_seconds
        self._districts: dict[str, DistrictNetwork] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, conn: AsyncConnection, district: str) -> DistrictNetwork:
        current = self._districts.get(district)
        if current is not None and time.monotonic() - current.checked < self.check_seconds:
            return current
        lock = self._locks.setdefault(district, asyncio.Lock())
        async with lock:
            current = self._districts.get(district)
            now = time.monotonic()
            if current is not None and now - current.checked < self.check_seconds:
                return current
            version = await nq.version(conn, district)
            if current is not None and current.version == version:
                current.checked = now
                return current
            built = await self._build(conn, district, version)
            self._districts[district] = built
            return built

    @staticmethod
    async def _build(conn: AsyncConnection, district: str, version: str) -> DistrictNetwork:
        edges = await nq.load_edges(conn, district)
        centres = await nq.load_centres(conn, district)
        # Dijkstra is CPU work: keep the event loop free for other requests meanwhile.
        network = (await asyncio.to_thread(WalkNetwork, edges, [c.site for c in centres])
                   if len(edges.ids) else None)
        return DistrictNetwork(version, time.monotonic(), network, {c.site.key: c for c in centres})


# -- the answer -------------------------------------------------------------------------

def _phone(personal: str | None, work: str | None) -> tuple[str | None, bool]:
    """A work number is public; a personal number only masked (138****5678)."""
    if work:
        return work, False
    masked = mask_phone(personal)
    return masked, masked is not None


def _contacts(raw: list[list[Any]] | None) -> list[dict[str, Any]]:
    out = []
    for role, name, personal, work in raw or []:
        phone, masked = _phone(personal, work)
        out.append({"role": role, "role_zh": ROLE_ZH.get(role, role), "name": name,
                    "phone": phone, "phone_is_masked": masked})
    return out


def _grid(raw: list[Any]) -> dict[str, Any]:
    code, name, kind, households = raw[:4]
    return {"code": code, "name": name, "kind": kind, "households": households}


def _building(raw: list[Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    address, compound, households, head = raw
    out: dict[str, Any] = {"address": address, "compound": compound, "households": households,
                           "head": None}
    if head is not None:
        phone, masked = _phone(head[1], head[2])
        out["head"] = {"name": head[0], "role_zh": ROLE_ZH["building_head"], "phone": phone,
                       "phone_is_masked": masked}
    return out


def straight_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ellipsoidal (WGS84) distance in metres, as PostGIS geography measures it."""
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _centre_json(c: nq.Centre, lon: float, lat: float, walk_m: float | None,
                 route: list[list[float]] | None, speed_kmh: float) -> dict[str, Any]:
    minutes = None if walk_m is None else round(walk_m / (speed_kmh * 1000.0 / 60.0), 1)
    return {"name": c.name, "address": c.address, "opening_hours": c.opening_hours,
            "lon": c.site.lon, "lat": c.site.lat,
            "straight_m": round(straight_m(lon, lat, c.site.lon, c.site.lat), 1),
            "walk_m": None if walk_m is None else round(walk_m, 1), "walk_minutes": minutes,
            "route": None if route is None else {"type": "LineString", "coordinates": route}}


def service_centre(district: DistrictNetwork, snap: list[Any] | None, lon: float, lat: float,
                   speed_kmh: float) -> dict[str, Any] | None:
    """The centre nearest along the network; the straight-line nearest when there is no
    network (or the point's part of it reaches no centre)."""
    if district.network is not None and snap is not None:
        walk = district.network.nearest(Snap(int(snap[0]), float(snap[1]), float(snap[2])),
                                        lon, lat)
        if walk is not None:
            return _centre_json(district.centres[walk.site.key], lon, lat, walk.distance_m,
                                walk.route, speed_kmh)
    if not district.centres:
        return None
    nearest = min(district.centres.values(),
                  key=lambda c: (straight_m(lon, lat, c.site.lon, c.site.lat), c.site.key))
    return _centre_json(nearest, lon, lat, None, None, speed_kmh)


def _near_box(lat: float, metres: float) -> tuple[float, float]:
    """A degree box that surely contains every point within ``metres`` (feeds the index only;
    the distance itself is measured on the ellipsoid)."""
    dlat = metres / _M_PER_DEG_LAT * 1.01
    dlon = dlat / max(math.cos(math.radians(abs(lat) + dlat)), 1e-6)
    return dlon, dlat


async def lookup(conn: AsyncConnection, networks: WalkNetworks, settings: Settings,
                 lon: float, lat: float) -> dict[str, Any]:
    """The whole answer for a WGS84 point (already validated by ``parse_point``)."""
    dlon, dlat = _near_box(lat, settings.near_boundary_m)
    found = await q.find(conn, lon, lat, settings.near_boundary_m, dlon, dlat)
    if found.community_code is None:
        raise NotFound(f"({lon:.6f}, {lat:.6f}) is outside every community we serve")
    district = await networks.get(conn, found.community_code[:6])
    neighbours = [{"grid": _grid(n), "contacts": _contacts(n[4]), "distance_m": round(n[5], 1)}
                  for n in found.neighbours]
    street = found.street
    return {
        "point": {"lon": round(lon, 7), "lat": round(lat, 7)},
        "street": {"code": street[0], "name": street[1]} if street else None,
        "community": {"code": found.community_code, "name": found.community_name},
        "grid": _grid(found.grid) if found.grid else None,
        "contacts": _contacts(found.grid[4]) if found.grid else [],
        "building": _building(found.building),
        "party_org": ({"name": found.party_org[0], "kind": found.party_org[1],
                       "kind_zh": ORG_ZH.get(found.party_org[1], found.party_org[1])}
                      if found.party_org else None),
        "service_centre": service_centre(district, found.snap, lon, lat, settings.walk_speed_kmh),
        "near_boundary": bool(neighbours),
        "boundary_distance_m": neighbours[0]["distance_m"] if neighbours else None,
        "neighbours": neighbours,
    }
