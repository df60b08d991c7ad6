"""Buildings (with households) and service facilities placed inside the demo blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import Polygon

from geo.demo import names
from geo.demo.lattice import bilinear
from geo.hours import off_hours

if TYPE_CHECKING:
    from geo.demo.city import City

HIGH = np.array([64, 72, 88, 96, 112, 128])
MID = np.array([24, 30, 36, 42, 48, 60])
LOW = np.array([6, 8, 10, 12, 16])
SETBACK_UV = 0.09  # keep footprints off the roads and the cross lanes


def _sizes(rng: np.random.Generator, total: int) -> np.ndarray:
    pool = HIGH if total >= 220 else MID if total >= 70 else LOW
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(int(rng.choice(pool)))
    excess = sum(sizes) - total
    sizes[-1] -= excess
    if sizes[-1] < 4 and len(sizes) > 1:
        last = sizes.pop()
        sizes[-1] += last
    return np.array([s for s in sizes if s > 0])


def _floors(rng: np.random.Generator, households: int) -> int:
    if households >= 60:
        return int(np.clip(households // 4 + rng.integers(-2, 3), 12, 33))
    if households >= 20:
        return int(rng.integers(6, 12))
    return int(rng.integers(2, 6))


def _cells(n: int) -> tuple[int, int]:
    cols = 2
    while cols * cols < n:
        cols += 2
    rows = 2
    while cols * rows < n:
        rows += 2
    return cols, rows


def _footprint(quad: np.ndarray, u: float, v: float, du: float, dv: float) -> Polygon:
    us = np.array([u - du, u + du, u + du, u - du])
    vs = np.array([v - dv, v - dv, v + dv, v + dv])
    return Polygon(bilinear(quad, us, vs))


def place_buildings(rng: np.random.Generator, city: City) -> None:
    from geo.demo.city import Building

    lat = city.lattice
    row_names = city.road_names[1]
    used_compounds: set[str] = set()
    for b, total in enumerate(city.households):
        if total <= 0:
            continue
        i, j = (int(x) for x in lat.ij[b])
        quad = lat.quad(i, j)
        sizes = _sizes(rng, int(total))
        cols, rows = _cells(len(sizes))
        slots = rng.permutation(cols * rows)[: len(sizes)]
        halves = 2 if len(sizes) >= 8 else 1
        compound_ids = []
        for _ in range(halves):
            nm = _compound_name(rng, used_compounds)
            city.compounds.append((nm, b))
            compound_ids.append(len(city.compounds) - 1)
        road = row_names[j % len(row_names)]
        number = 2 * i + 1 + 100 * (j % 3)
        per_compound = [0] * halves
        for size, slot in zip(sizes, slots, strict=True):
            cu, cv = slot % cols, slot // cols
            u = SETBACK_UV + (1 - 2 * SETBACK_UV) * (cu + 0.5) / cols
            v = SETBACK_UV + (1 - 2 * SETBACK_UV) * (cv + 0.5) / rows
            du = 0.28 * (1 - 2 * SETBACK_UV) / cols
            dv = 0.2 * (1 - 2 * SETBACK_UV) / rows
            half = 0 if halves == 1 or u < 0.5 else 1
            per_compound[half] += 1
            cname = city.compounds[compound_ids[half]][0]
            addr = f"{road}{number + 2 * half}号{cname}{per_compound[half]}栋"
            residents = round(size * rng.uniform(2.4, 3.1))
            city.buildings.append(Building(
                addr, compound_ids[half], int(size), residents, _floors(rng, int(size)),
                _footprint(quad, u, v, du, dv), b))


def _compound_name(rng: np.random.Generator, used: set[str]) -> str:
    for _ in range(1000):
        nm = str(rng.choice(names.PLACE_WORDS)) + str(rng.choice(names.COMPOUND_SUFFIX))
        if nm not in used:
            used.add(nm)
            return nm
        nm2 = nm[:-2] + str(rng.choice(["一期", "二期", "三期", "东区", "西区"])) + nm[-2:]
        if nm2 not in used:
            used.add(nm2)
            return nm2
    raise RuntimeError("ran out of compound names")


# category, count at scale 1, opening hours (OpenStreetMap opening_hours syntax, see
# geo.hours), floor area range (m²) or None
FACILITY_PLAN: list[tuple[str, int, str, tuple[int, int] | None]] = [
    ("party_service_center", 28, "Mo-Fr 08:30-17:30", (400, 1500)),
    ("discussion_room", 40, "We 19:00-21:00", (30, 80)),
    ("new_sector_station", 40, "24/7", (40, 120)),
    ("points_exchange", 34, "09:00-21:00", None),
    ("convenience_store", 150, "07:00-23:00", None),
    ("market", 15, "06:00-19:00", (800, 4000)),
    ("pharmacy", 55, "08:00-22:00", None),
    ("breakfast", 70, "06:00-10:30", None),
    ("supermarket", 18, "08:00-22:00", (500, 3000)),
    ("parcel_station", 45, "08:00-21:00", None),
    ("laundry", 20, "08:30-20:30", None),
    ("hairdresser", 40, "09:00-21:00", None),
    ("housekeeping", 10, "08:00-18:00", None),
    ("repair", 15, "08:00-19:00", None),
    ("clinic", 22, "08:00-17:30", (150, 600)),
    ("elderly_care", 18, "08:00-18:00", (200, 900)),
    ("kindergarten", 30, "Mo-Fr 07:30-17:30", (800, 3000)),
    ("fitness", 16, "06:00-22:00", None),
    ("school", 10, "Mo-Fr 07:30-17:30", None),
    ("hospital", 3, "24/7", None),
]
LABEL = {"party_service_center": "党群服务中心", "discussion_room": "小区说事室",
         "new_sector_station": "新兴领域党建驿站", "points_exchange": "积分兑换站",
         "convenience_store": "便利店", "market": "农贸市场", "pharmacy": "大药房",
         "breakfast": "早餐店", "supermarket": "超市", "parcel_station": "快递驿站",
         "laundry": "洗衣店", "hairdresser": "美发店", "housekeeping": "家政服务部",
         "repair": "维修部", "clinic": "社区卫生服务站", "elderly_care": "日间照料中心",
         "kindergarten": "幼儿园", "fitness": "全民健身中心", "school": "学校", "hospital": "医院"}


def place_facilities(rng: np.random.Generator, city: City, scale: int) -> None:
    """Facilities follow households, with an under-served edge so the service circle has gaps."""
    from geo.demo.city import point_in_block

    lat, hh = city.lattice, city.households
    centres = np.array([bl.centroid.coords[0] for bl in lat.blocks])
    d = np.linalg.norm(centres - centres.mean(axis=0), axis=1)
    w = (hh + 1.0) ** 1.2 * np.where(d > np.percentile(d, 80), 0.15, 1.0)
    w = w / w.sum()
    row_names = city.road_names[1]
    for grid in city.grids:  # dedicated grids hold their own institution
        if grid.kind == "dedicated":
            b = int(grid.blocks[0])
            cat = {"school": "school", "hospital": "hospital", "market": "market"}[grid.dedicated_type or ""]
            _add(city, rng, cat, b, grid.name.replace("专属网格", ""), point_in_block(lat, b, 0.5, 0.5))
    centre_comms = sorted(city.communities, key=lambda c: -hh[c.blocks].sum())[: 28 * scale]
    for comm in centre_comms:
        b = int(comm.blocks[np.argmax(hh[comm.blocks])])
        _add(city, rng, "party_service_center", b, f"{comm.name}党群服务中心",
             point_in_block(lat, b, 0.5, 0.06))
    for cat, count, _hours, _area in FACILITY_PLAN:
        if cat == "party_service_center":
            continue
        for b in rng.choice(len(lat.blocks), count * scale, p=w):
            u, v = (float(x) for x in rng.uniform(0.05, 0.95, 2))
            if rng.random() < 0.5:
                v = 0.04
            name = f"{row_names[int(lat.ij[b][1]) % len(row_names)][:-2]}{LABEL[cat]}"
            _add(city, rng, cat, int(b), name, point_in_block(lat, int(b), u, v))


def _add(city: City, rng: np.random.Generator, cat: str, block: int, name: str,
         point: shapely.Point) -> None:
    from geo.demo.city import Facility

    plan = {p[0]: p for p in FACILITY_PLAN}[cat]
    area_range = plan[3]
    area = float(rng.integers(*area_range)) if area_range else None
    hours = _centre_hours(plan[2], rng.random()) if cat == "party_service_center" else plan[2]
    row = city.road_names[1][int(city.lattice.ij[block][1]) % len(city.road_names[1])]
    addr = f"{row}{int(rng.integers(1, 400))}号"
    phone = f"0856-52{int(rng.integers(0, 100000)):05d}"
    same = city.facility_names.get(name, 0)
    city.facility_names[name] = same + 1
    city.facilities.append(Facility(cat, name + (f"（{same + 1}店）" if same else ""), addr, phone,
                                    hours, off_hours(hours), area, point, block))


def _centre_hours(weekdays: str, draw: float) -> str:
    """A 党群服务中心's hours from one random draw (one, as before, so the rest of the city
    stays the same for a seed): 错时服务 evenings for 60 %, Saturday mornings for half of
    those and half of the rest, weekday office hours only for the last 20 %. In OSM syntax
    the evening joins the weekday rule: a second "; Mo-Fr …" rule would replace the day
    hours instead of adding to them."""
    evening, saturday = draw < 0.6, 0.3 <= draw < 0.8
    return weekdays + (",18:00-21:00" if evening else "") + ("; Sa 09:00-12:00" if saturday else "")
