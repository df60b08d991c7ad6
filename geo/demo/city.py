"""Compose the demo city's geography: blocks → grids → communities → streets, buildings,
facilities, departmental grid layers and the walk network, all in metric coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.ops import unary_union

from geo.demo import names
from geo.demo.lattice import Lattice, WalkNetwork, bilinear, build_lattice, build_walk_network
from geo.demo.partition import bisect, reading_order, split_counts

HOUSEHOLDS_PER_GRID = 405
DEDICATED = [("school", "第一中学"), ("school", "实验小学"), ("hospital", "人民医院"),
             ("market", "农贸市场"), ("market", "综合市场")]


@dataclass
class Area:
    code: str
    name: str
    level: str
    parent: str | None
    geom: shapely.Geometry
    blocks: np.ndarray


@dataclass
class Grid:
    code: str
    name: str
    community: str
    kind: str
    dedicated_type: str | None
    geom: shapely.Geometry
    blocks: np.ndarray


@dataclass
class Building:
    address: str
    compound: int
    households: int
    residents: int
    floors: int
    footprint: Polygon
    block: int


@dataclass
class Facility:
    category: str
    name: str
    address: str
    phone: str
    hours: str
    off_hours: bool
    floor_area: float | None
    point: shapely.Point
    block: int


@dataclass
class City:
    district_code: str
    epsg: int
    lattice: Lattice
    households: np.ndarray
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    compounds: list[tuple[str, int]] = field(default_factory=list)  # name, block
    buildings: list[Building] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    layers: dict[str, list[tuple[str, str, shapely.Geometry]]] = field(default_factory=dict)
    network: WalkNetwork | None = None
    facility_names: dict[str, int] = field(default_factory=dict)
    block_community: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    block_grid: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    road_names: tuple[list[str], list[str]] = ([], [])


def _union(lat: Lattice, cells: np.ndarray) -> shapely.Geometry:
    return unary_union([lat.blocks[c] for c in cells])


def block_households(rng: np.random.Generator, lat: Lattice, total: int) -> np.ndarray:
    """Dense in the centre and along a second centre, sparse at the edge; some blocks empty."""
    centres = np.array([b.centroid.coords[0] for b in lat.blocks])
    c0 = centres.mean(axis=0)
    c1 = c0 + np.array([1800.0, 900.0])
    d = np.minimum(np.linalg.norm(centres - c0, axis=1), 1.3 * np.linalg.norm(centres - c1, axis=1))
    density = np.exp(-((d / 2600.0) ** 2)) + 0.08
    raw = density * rng.lognormal(0.0, 0.45, len(centres))
    raw[rng.random(len(centres)) < 0.06] = 0.0  # parks, water, vacant land
    hh = raw / raw.sum() * total
    hh = np.minimum(hh, 330)
    hh = hh / hh.sum() * total
    return np.round(hh).astype(int)


def _order_codes(items: list, centroid_xy: np.ndarray, band: float, prefix: str) -> list[str]:
    order = reading_order(centroid_xy, band)
    codes = [""] * len(items)
    for seq, idx in enumerate(order, start=1):
        codes[idx] = f"{prefix}{seq:03d}"
    return codes


def make_areas(rng: np.random.Generator, city: City, n_streets: int, n_comms: int,
               n_base_grids: int) -> None:
    lat, hh = city.lattice, city.households
    weight = hh.astype(float) + 4.0
    all_cells = np.arange(len(lat.blocks))
    street_parts = bisect(all_cells, lat.ij, weight, n_streets)
    geoms = [_union(lat, p) for p in street_parts]
    xy = np.array([g.centroid.coords[0] for g in geoms])
    codes = _order_codes(street_parts, xy, 1500.0, city.district_code)
    street_names = names.unique_words(rng, [s[:-2] for s in names.STREETS], n_streets, "街道")
    comm_counts = split_counts(n_comms, np.array([weight[p].sum() for p in street_parts]))
    comm_names = iter(names.unique_words(rng, names.PLACE_WORDS, n_comms, "社区"))
    comm_parts: list[tuple[str, np.ndarray]] = []
    for k, (part, code) in enumerate(zip(street_parts, codes, strict=True)):
        city.streets.append(Area(code, street_names[k], "street", city.district_code, geoms[k], part))
        cparts = bisect(part, lat.ij, weight, int(comm_counts[k]))
        cgeoms = [_union(lat, c) for c in cparts]
        cxy = np.array([g.centroid.coords[0] for g in cgeoms])
        for ccode, cpart, cgeom in zip(_order_codes(cparts, cxy, 700.0, code), cparts, cgeoms,
                                       strict=True):
            city.communities.append(Area(ccode, next(comm_names), "community", code, cgeom, cpart))
            comm_parts.append((ccode, cpart))
    city.communities.sort(key=lambda a: a.code)
    city.streets.sort(key=lambda a: a.code)
    _make_grids(city, n_base_grids, weight)


def _make_grids(city: City, n_base: int, weight: np.ndarray) -> None:
    lat = city.lattice
    counts = split_counts(n_base, np.array([weight[c.blocks].sum() for c in city.communities]))
    city.block_community = np.zeros(len(lat.blocks), int)
    pending: list[tuple[Area, list[np.ndarray]]] = []
    for ci, (comm, k) in enumerate(zip(city.communities, counts, strict=True)):
        city.block_community[comm.blocks] = ci
        pending.append((comm, bisect(comm.blocks, lat.ij, weight, int(k))))
    dedicated = _carve_dedicated(city, pending)
    city.block_grid = np.zeros(len(lat.blocks), int)
    for comm, parts in pending:
        entries: list[tuple[str, str | None, np.ndarray, str]] = [("base", None, p, "") for p in parts]
        entries += [("dedicated", t, np.array([b]), label) for (c, t, b, label) in dedicated
                    if c == comm.code]
        geoms = [_union(lat, e[2]) for e in entries]
        xy = np.array([g.centroid.coords[0] for g in geoms])
        for code, (kind, dtype, cells, label), g in zip(
                _order_codes(entries, xy, 300.0, comm.code), entries, geoms, strict=True):
            seq = int(code[-3:])
            name = f"{comm.name}{label}专属网格" if kind == "dedicated" else f"{comm.name}第{seq}网格"
            city.block_grid[cells] = len(city.grids)
            city.grids.append(Grid(code, name, comm.code, kind, dtype, g, cells))


def _carve_dedicated(city: City, pending: list[tuple[Area, list[np.ndarray]]]
                     ) -> list[tuple[str, str, int, str]]:
    """Take single blocks out of base grids for schools, hospitals and markets, keeping the
    remaining grid contiguous and spreading them over different communities."""
    lat, hh = city.lattice, city.households
    out: list[tuple[str, str, int, str]] = []
    want = list(DEDICATED) * max(1, len(city.communities) // 43)
    used: set[str] = set()
    order = sorted(range(len(pending)), key=lambda i: -len(pending[i][0].blocks))
    for ci in order[::3]:
        if not want:
            break
        comm, parts = pending[ci]
        if comm.code in used:
            continue
        for pi, part in enumerate(parts):
            if len(part) < 3:
                continue
            cand = part[np.argmin(hh[part])]
            rest = part[part != cand]
            if _union(lat, rest).geom_type == "Polygon":
                dtype, label = want.pop(0)
                hh[cand] = 0
                parts[pi] = rest
                out.append((comm.code, dtype, int(cand), label))
                used.add(comm.code)
                break
    return out


def departmental_layers(rng: np.random.Generator, city: City, scale: int) -> None:
    """综治 splits streets its own way, 城管 cuts by area, 应急 ignores the roads entirely."""
    lat = city.lattice
    weight = city.households.astype(float) + 4.0
    zz: list[shapely.Geometry] = []
    zz_counts = split_counts(150 * scale, np.array([weight[s.blocks].sum() for s in city.streets]))
    for street, k in zip(city.streets, zz_counts, strict=True):
        zz += [_union(lat, p) for p in bisect(street.blocks, lat.ij, weight, int(k), prefer=1)]
    ones = np.ones(len(lat.blocks))
    cg = [_union(lat, p) for p in bisect(np.arange(len(lat.blocks)), lat.ij, ones, 80 * scale,
                                          prefer=0)]
    outline = unary_union(lat.blocks)
    minx, miny, maxx, maxy = outline.bounds
    pts = shapely.MultiPoint(np.column_stack([rng.uniform(minx, maxx, 70 * scale),
                                              rng.uniform(miny, maxy, 70 * scale)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=outline.envelope))
    yj = [c.intersection(outline) for c in cells]
    yj = [g for g in yj if not g.is_empty and g.area > 1.0]
    for theme, prefix, geoms in (("综治", "ZZ", zz), ("城管", "CG", cg), ("应急", "YJ", yj)):
        xy = np.array([g.centroid.coords[0] for g in geoms])
        order = reading_order(xy, 800.0)
        city.layers[theme] = [
            (f"{prefix}{seq:04d}", f"{theme}网格{seq}", geoms[i]) for seq, i in
            enumerate(order, start=1)
        ]


def build_city(rng: np.random.Generator, district_code: str, district_metric: shapely.Geometry,
               center: tuple[float, float], epsg: int, scale: int) -> City:
    from geo.demo.buildings import place_buildings, place_facilities

    f = np.sqrt(scale)
    lat = build_lattice(rng, center, round(32 * f), round(26 * f), district_metric)
    col_names = names.unique_words(rng, names.ROAD_WORDS, lat.nx + 1, "路")
    row_names = names.unique_words(rng, names.ROAD_WORDS, lat.ny + 1, "大道")
    hh = block_households(rng, lat, HOUSEHOLDS_PER_GRID * 197 * scale)
    city = City(district_code, epsg, lat, hh, road_names=(col_names, row_names))
    make_areas(rng, city, 7 * scale, 43 * scale, 192 * scale)
    place_buildings(rng, city)
    place_facilities(rng, city, scale)
    departmental_layers(rng, city, scale)
    city.network = build_walk_network(lat, col_names, row_names)
    return city


def point_in_block(lat: Lattice, block: int, u: float, v: float) -> shapely.Point:
    i, j = lat.ij[block]
    x, y = bilinear(lat.quad(int(i), int(j)), u, v)
    return shapely.Point(float(x), float(y))
