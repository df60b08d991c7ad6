"""What a planner edits: the grids, buildings and facilities of a draft's scope, as plain
dataclasses over shapely geometries (no database, no HTTP).

Geometries are in WGS84 lon/lat, as stored: edits (split, merge, union, difference) run in
lon/lat so that a grid's shared edge with an untouched neighbour keeps exactly the same
vertices. Every measure (areas, lengths, tolerances in m², compactness) is taken in the
district's CGCS2000 Gauss-Krüger zone (``Scope.epsg``; DESIGN §3), never in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.settings import Settings

DEDICATED_TYPES = ("school", "hospital", "market", "enterprise", "business_district",
                   "industrial_park", "other")
# A dedicated grid of these types should hold a facility of the matching category.
DEDICATED_FACILITY = {"school": "school", "hospital": "hospital", "market": "market"}


@dataclass(frozen=True)
class PlanGrid:
    key: int  # the grid's row id; new grids made by an edit get negative keys until saved
    code: str  # 12-digit community code + 3-digit sequence
    name: str
    kind: str  # "base" | "dedicated"
    dedicated_type: str | None
    community_code: str
    geom: BaseGeometry  # Polygon or MultiPolygon, lon/lat
    lineage: tuple[int, ...] = ()  # the grids (row ids) it came from
    version: int = 1
    locked: bool = False  # the auto-proposal keeps it as it is

    def with_geom(self, geom: BaseGeometry) -> PlanGrid:
        return replace(self, geom=geom)


@dataclass(frozen=True)
class PlanBuilding:
    id: int
    point: BaseGeometry  # lon/lat
    households: int
    grid: int | None  # the key of the grid it is assigned to
    has_head: bool = False  # a current 楼栋长
    community_code: str | None = None


@dataclass(frozen=True)
class PlanFacility:
    id: int
    category: str
    point: BaseGeometry  # lon/lat


@dataclass(frozen=True)
class Rules:
    """The planning rules (from settings; every figure configurable)."""

    households_min: int = 300
    households_max: int = 500
    tolerance_m2: float = 1.0  # overlaps and gaps smaller than this are not problems
    sliver_m2: float = 200.0  # pieces smaller than this merge into a neighbour
    snap_m: float = 2.0  # a reshaped edge this close to a neighbour or the community snaps

    @property
    def households_target(self) -> float:
        return (self.households_min + self.households_max) / 2.0

    @classmethod
    def from_settings(cls, s: Settings, **override: Any) -> Rules:
        values: dict[str, Any] = {"households_min": s.household_min, "households_max": s.household_max,
                  "tolerance_m2": s.plan_tolerance_m2, "sliver_m2": s.plan_sliver_m2,
                  "snap_m": s.plan_snap_m}
        values.update({k: v for k, v in override.items() if v is not None})
        return cls(**values)


@dataclass
class Scope:
    """The community or street a draft covers, with everything inside it."""

    code: str  # community (12) or street (9) code
    epsg: int  # Gauss-Krüger zone for measuring
    communities: dict[str, BaseGeometry]  # code → polygon, lon/lat
    grids: list[PlanGrid]
    buildings: list[PlanBuilding] = field(default_factory=list)
    facilities: list[PlanFacility] = field(default_factory=list)
    allowed_gaps: BaseGeometry | None = None  # water, parks: gaps there are not problems

    def grid(self, key: int) -> PlanGrid:
        for g in self.grids:
            if g.key == key:
                return g
        raise KeyError(key)
