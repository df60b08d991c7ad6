"""Check a draft's grids against the grid rules: valid shapes inside their community, no
overlap, no gap, every building in exactly one grid and assigned to it, base grids within the
household range, one piece per grid, dedicated grids typed (DESIGN §2: "横到边、纵到底、不留空白、
不交叉重叠").

Set operations run in lon/lat on the stored vertices, so that two grids sharing an edge share
it exactly; every resulting piece is then projected to the scope's Gauss-Krüger zone and
measured there (tolerances are in m², never in degrees). Each issue carries the lon/lat
geometry of where the problem is, for the editor to draw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric
from geo.plan.cells import covering
from geo.plan.model import DEDICATED_FACILITY, DEDICATED_TYPES, NONE, PlanGrid, Rules, Scope
from geo.plan.shapes import checked_difference

ERROR = "error"
WARNING = "warning"

NO_GRID = -1  # a building assigned to no grid
UNKNOWN_GRID = -2  # a building assigned to a grid key that is not in the scope

Geoms = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

_REASON_POINT = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")


@dataclass(frozen=True)
class PlanIssue:
    rule: str
    severity: str  # "error" blocks activation; "warning" does not
    message: str
    grids: tuple[str, ...]
    geometry: BaseGeometry | None  # lon/lat: where the problem is
    value: float | None = None  # the measured amount (m², households, count)
    buildings: tuple[int, ...] = ()

    def feature(self) -> dict[str, Any]:
        """The issue as a GeoJSON Feature."""
        geometry = None if self.geometry is None or self.geometry.is_empty else mapping(self.geometry)
        return {"type": "Feature", "geometry": geometry,
                "properties": {"rule": self.rule, "severity": self.severity,
                               "message": self.message, "grids": list(self.grids),
                               "buildings": list(self.buildings), "value": self.value}}


def blocking(issues: list[PlanIssue]) -> list[PlanIssue]:
    """The issues that block activating the draft."""
    return [i for i in issues if i.severity == ERROR]


# Helpers shared with geo.plan.metrics.

def polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The valid polygonal part of ``geom`` (empty when there is none): a bow-tie, a stray
    line or a missing geometry must not make the rules or the metrics raise."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid:
        return geom
    fixed = geom if geom.is_valid else shapely.make_valid(geom)
    # make_valid may nest a MultiPolygon inside a GeometryCollection: explode twice.
    parts = shapely.get_parts(shapely.get_parts(fixed))
    polygons = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
    if not polygons:
        return shapely.Polygon()
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def metric_area(geoms: Any, epsg: int) -> Floats:
    """Area in m² of each lon/lat geometry, measured in the Gauss-Krüger zone ``epsg``."""
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return np.zeros(arr.shape)
    return np.asarray(shapely.area(to_metric(arr, epsg)), dtype=np.float64)


def grid_parts(geoms: Geoms, epsg: int) -> tuple[Geoms, Ints, Floats]:
    """The polygon parts of every grid: (parts, index of the grid each came from, m²)."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    return parts, owner, metric_area(parts, epsg)


def assigned_index(scope: Scope) -> Ints:
    """For each building, the position in ``scope.grids`` of the grid it is assigned to
    (``NO_GRID`` / ``UNKNOWN_GRID`` otherwise)."""
    grid = scope.buildings.grid
    out = np.full(len(grid), UNKNOWN_GRID, dtype=np.intp)
    out[grid == NONE] = NO_GRID
    keys = np.array([g.key for g in scope.grids], dtype=np.int64)
    if len(keys):
        order = np.argsort(keys, kind="stable")  # the last grid where two share a key
        at = np.maximum(np.searchsorted(keys, grid, side="right", sorter=order) - 1, 0)
        found = (keys[order[at]] == grid) & (grid != NONE)
        out[found] = order[at][found]
    return out


def grid_sums(assigned: Ints, weights: Any, n_grids: int) -> npt.NDArray[np.int64]:
    """Sum integer ``weights`` (one per building) per grid, by assignment."""
    ok = assigned >= 0
    w = np.asarray(weights, dtype=np.float64)
    sums = np.bincount(assigned[ok], weights=w[ok], minlength=n_grids)[:n_grids]
    return np.rint(sums).astype(np.int64)  # bincount sums weights as floats


# The rules.

@dataclass
class _Draft:
    scope: Scope
    rules: Rules
    codes: list[str]
    geoms: Geoms  # polygonal, valid, lon/lat
    tree: shapely.STRtree
    communities: dict[str, BaseGeometry]  # polygonal, valid

    @property
    def grids(self) -> list[PlanGrid]:
        return self.scope.grids

    @property
    def tol(self) -> float:
        return self.rules.tolerance_m2

    def issue(self, rule: str, severity: str, message: str, grid_idx: Any = (),
              geometry: BaseGeometry | None = None, value: float | None = None,
              buildings: tuple[int, ...] = ()) -> PlanIssue:
        codes = tuple(sorted({self.codes[int(i)] for i in grid_idx}))
        return PlanIssue(rule, severity, message, codes, geometry, value, buildings)


def _prepare(scope: Scope, rules: Rules) -> _Draft:
    geoms = np.empty(len(scope.grids), dtype=object)
    geoms[:] = [polygonal(g.geom) for g in scope.grids]
    communities = {code: polygonal(c) for code, c in scope.communities.items()}
    return _Draft(scope, rules, [g.code for g in scope.grids], geoms, shapely.STRtree(geoms),
                  communities)


def _reason_point(reason: str) -> BaseGeometry | None:
    m = _REASON_POINT.search(reason)
    if m is None:
        return None
    try:
        return Point(float(m.group(1)), float(m.group(2)))
    except ValueError:
        return None


def _invalid(d: _Draft) -> list[PlanIssue]:
    out = []
    for i, g in enumerate(d.grids):
        geom = g.geom
        if geom is None or geom.is_empty:
            out.append(d.issue("invalid_geometry", ERROR, f"grid {g.code} has an empty geometry", [i]))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            out.append(d.issue("invalid_geometry", ERROR,
                               f"grid {g.code} is a {geom.geom_type}, not a polygon", [i], geom))
        elif not shapely.is_valid(geom):
            reason = str(shapely.is_valid_reason(geom))
            where = _reason_point(reason) or geom
            out.append(d.issue("invalid_geometry", ERROR,
                               f"grid {g.code} is not a valid polygon: {reason}", [i], where))
    return out


def _outside(d: _Draft) -> list[PlanIssue]:
    out, known = [], []
    for i, g in enumerate(d.grids):
        if g.community_code in d.communities:
            known.append(i)
        else:
            out.append(d.issue("outside_community", ERROR,
                               f"grid {g.code} belongs to community {g.community_code}, "
                               "which is unknown / not in the draft's scope", [i], d.geoms[i]))
    if not known:
        return out
    idx = np.asarray(known, dtype=np.intp)
    comms = np.empty(len(idx), dtype=object)
    comms[:] = [d.communities[d.grids[i].community_code] for i in known]
    outside = shapely.difference(d.geoms[idx], comms)
    for i, part, area in zip(known, outside, metric_area(outside, d.scope.epsg), strict=True):
        if area > d.tol:
            g = d.grids[i]
            out.append(d.issue("outside_community", ERROR,
                               f"grid {g.code} extends {area:.1f} m² outside its community "
                               f"{g.community_code} (tolerance {d.tol:g} m²)",
                               [i], polygonal(part), float(area)))
    return out


def _overlaps(d: _Draft) -> list[PlanIssue]:
    left, right = d.tree.query(d.geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.intersection(d.geoms[left], d.geoms[right])
    out = []
    for a, b, geom, area in zip(left, right, shared, metric_area(shared, d.scope.epsg), strict=True):
        if area > d.tol:
            first, second = sorted((d.codes[a], d.codes[b]))
            out.append(d.issue("overlap", ERROR,
                               f"grids {first} and {second} overlap by {area:.1f} m² "
                               f"(tolerance {d.tol:g} m²)", [a, b], polygonal(geom), float(area)))
    return out


def _gaps(d: _Draft) -> list[PlanIssue]:
    allowed = polygonal(d.scope.allowed_gaps) if d.scope.allowed_gaps is not None else None
    out = []
    for code in sorted(d.communities):
        # what covers the community: the grids that meet it (the union of a district's
        # grids made each difference an overlay of the whole district)
        covered = shapely.union_all(d.geoms[d.tree.query(d.communities[code],
                                                         predicate="intersects")])
        if allowed is not None:
            covered = shapely.union(covered, allowed)
        rest = polygonal(checked_difference(d.communities[code], covered))
        parts = shapely.get_parts(rest)
        for part, area in zip(parts, metric_area(parts, d.scope.epsg), strict=True):
            if area <= d.tol:
                continue
            # The grids around the gap, for the planner to know which to reshape.
            near = d.tree.query(part, predicate="intersects")
            around = sorted(d.codes[i] for i in near)
            where = f" next to grids {', '.join(around)}" if around else ""
            out.append(d.issue("gap", ERROR,
                               f"gap of {area:.1f} m² in community {code} covered by no grid{where} "
                               f"(tolerance {d.tol:g} m²)", near, part, float(area)))
    return out


def _by_building(b_idx: Ints, g_idx: Ints, wanted: Ints) -> dict[int, list[int]]:
    """The grids each of the buildings ``wanted`` is paired with."""
    keep = np.isin(b_idx, wanted)
    out: dict[int, list[int]] = {}
    for b, g in zip(b_idx[keep].tolist(), g_idx[keep].tolist(), strict=True):
        out.setdefault(b, []).append(g)
    return out


def _buildings(d: _Draft) -> list[PlanIssue]:
    bs = d.scope.buildings
    if not bs:
        return []
    cov_b, cov_g = covering(bs.points, d.geoms)
    covered = np.bincount(cov_b, minlength=len(bs))
    # inside two grids (not on their shared edge): only a building two grids cover can be
    several = np.isin(cov_b, np.flatnonzero(covered >= 2))
    strictly = shapely.within(bs.points[cov_b[several]], d.geoms[cov_g[several]])
    in_b, in_g = cov_b[several][strictly], cov_g[several][strictly]
    assigned = assigned_index(d.scope)
    inside = np.bincount(in_b, minlength=len(bs))
    matches = np.zeros(len(bs), dtype=bool)
    matches[cov_b[assigned[cov_b] == cov_g]] = True
    wrong = np.flatnonzero((assigned == UNKNOWN_GRID) | ((covered > 0) & ~matches))
    twice = np.flatnonzero(inside >= 2)
    lies_in, interior = _by_building(cov_b, cov_g, wrong), _by_building(in_b, in_g, twice)
    out = []
    for i in np.flatnonzero(covered == 0):
        out.append(_unassigned(d, int(i), int(assigned[i])))
    for i in twice:
        out.append(_in_two(d, int(i), interior[int(i)]))
    for i in wrong:
        out.append(_misassigned(d, int(i), int(assigned[i]), lies_in.get(int(i), [])))
    return out


def _codes(d: _Draft, idx: list[int]) -> str:
    return ", ".join(sorted(d.codes[i] for i in idx))


def _unassigned(d: _Draft, i: int, assigned: int) -> PlanIssue:
    b = d.scope.buildings[i]
    grid = f" (assigned to grid {d.codes[assigned]})" if assigned >= 0 else ""
    return d.issue("building_unassigned", ERROR, f"building {b.id} lies in no grid{grid}",
                   [assigned] if assigned >= 0 else [], b.point, buildings=(b.id,))


def _in_two(d: _Draft, i: int, grids: list[int]) -> PlanIssue:
    b = d.scope.buildings[i]
    return d.issue("building_in_two_grids", ERROR,
                   f"building {b.id} lies inside {len(grids)} grids: {_codes(d, grids)}",
                   grids, b.point, float(len(grids)), (b.id,))


def _misassigned(d: _Draft, i: int, assigned: int, covering: list[int]) -> PlanIssue:
    b = d.scope.buildings[i]
    lies = f" but lies in grid {_codes(d, covering)}" if covering else ""
    if assigned == UNKNOWN_GRID:
        text = f"building {b.id} is assigned to grid key {b.grid}, which is not in the draft's scope"
    elif assigned == NO_GRID:
        text = f"building {b.id} is assigned to no grid{lies}"
    else:
        text = f"building {b.id} is assigned to grid {d.codes[assigned]}{lies}"
    grids = [*covering, assigned] if assigned >= 0 else covering
    return d.issue("building_misassigned", ERROR, text, grids, b.point, buildings=(b.id,))


def _households(d: _Draft) -> list[PlanIssue]:
    r = d.rules
    counts = grid_sums(assigned_index(d.scope), d.scope.buildings.households, len(d.grids))
    out = []
    for i, g in enumerate(d.grids):
        n = int(counts[i])
        if g.kind == "base" and not r.households_min <= n <= r.households_max:
            out.append(d.issue("households_out_of_range", WARNING,
                               f"base grid {g.code} holds {n} households, outside the range "
                               f"{r.households_min}–{r.households_max}", [i], d.geoms[i], float(n)))
    return out


def _non_contiguous(d: _Draft) -> list[PlanIssue]:
    parts, owner, areas = grid_parts(d.geoms, d.scope.epsg)
    big = np.bincount(owner, weights=areas > d.tol, minlength=len(d.grids))
    out = []
    for i in np.flatnonzero(big > 1):
        mine = np.flatnonzero(owner == i)
        largest = mine[np.argmax(areas[mine])]
        others = [p for p in mine if p != largest]
        n = int(big[i])
        out.append(d.issue("non_contiguous", ERROR,
                           f"grid {d.codes[i]} is in {n} separate parts above {d.tol:g} m²; "
                           f"besides the largest ({areas[largest]:.1f} m²) they cover "
                           f"{areas[others].sum():.1f} m²",
                           [i], shapely.union_all(parts[others]), float(n)))
    return out


def _dedicated(d: _Draft) -> list[PlanIssue]:
    by_category: dict[str, list[BaseGeometry]] = {}
    for f in d.scope.facilities:
        by_category.setdefault(f.category, []).append(f.point)
    out = []
    for i, g in enumerate(d.grids):
        text = None
        if g.kind == "dedicated" and g.dedicated_type is None:
            text = f"dedicated grid {g.code} has no dedicated type"
        elif g.kind == "dedicated" and g.dedicated_type not in DEDICATED_TYPES:
            text = (f"dedicated grid {g.code} has unknown dedicated type {g.dedicated_type!r} "
                    f"(expected one of {', '.join(DEDICATED_TYPES)})")
        elif g.kind == "base" and g.dedicated_type is not None:
            text = (f"base grid {g.code} has dedicated type {g.dedicated_type!r}; "
                    "only dedicated grids have one")
        if text is not None:
            out.append(d.issue("dedicated_type_missing", ERROR, text, [i], d.geoms[i]))
        elif g.kind == "dedicated" and g.dedicated_type in DEDICATED_FACILITY:
            category = DEDICATED_FACILITY[g.dedicated_type]
            points = np.asarray(by_category.get(category, []), dtype=object)
            if not shapely.covers(d.geoms[i], points).any():
                out.append(d.issue("dedicated_without_facility", WARNING,
                                   f"dedicated {g.dedicated_type} grid {g.code} holds no {category} "
                                   "facility", [i], d.geoms[i]))
    return out


def _order(issue: PlanIssue) -> tuple[Any, ...]:
    return (issue.severity != ERROR, issue.rule, issue.grids, issue.buildings, issue.message)


def validate(scope: Scope, rules: Rules) -> list[PlanIssue]:
    """Every rule's issues: errors first, then warnings; each by rule, then grid code."""
    d = _prepare(scope, rules)
    issues = [*_invalid(d), *_outside(d), *_overlaps(d), *_gaps(d), *_buildings(d),
              *_households(d), *_non_contiguous(d), *_dedicated(d)]
    return sorted(issues, key=_order)
