"""What a planner edits: the grids, buildings and facilities of a draft's scope, as plain
dataclasses over shapely geometries (no database, no HTTP).

Geometries are in WGS84 lon/lat, as stored: edits (split, merge, union, difference) run in
lon/lat so that a grid's shared edge with an untouched neighbour keeps exactly the same
vertices. Every measure (areas, lengths, tolerances in m², compactness) is taken in the
district's CGCS2000 Gauss-Krüger zone (``Scope.epsg``; DESIGN §3), never in degrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import shapely
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


Ints = npt.NDArray[np.int64]
NONE = 0  # the grid key of a building assigned to none (saved keys > 0, new keys < 0)


class Buildings(Sequence[PlanBuilding]):
    """The buildings of a scope as columns. A district holds 10⁵ of them: a Python object
    apiece, and a Python step apiece in every stage of a merge, would cost more than the
    stages' own work. Reads as a sequence of PlanBuilding (made on demand) for the code that
    handles a few; the stages that handle all of them use the columns."""

    __slots__ = ("_order", "community", "grid", "has_head", "households", "ids", "points",
                 "residents")

    def __init__(self, ids: Any, points: Any, households: Any, grid: Any,
                 has_head: Any = None, community: Any = None, residents: Any = None) -> None:
        n = len(ids)
        self.ids: Ints = np.asarray(ids, dtype=np.int64)
        self.points = _objects(points, n)  # lon/lat Points (None where there is none)
        self.households: Ints = np.asarray(households, dtype=np.int64)
        self.grid: Ints = np.asarray(grid, dtype=np.int64)  # NONE: assigned to no grid
        self.has_head = np.zeros(n, dtype=bool) if has_head is None \
            else np.asarray(has_head, dtype=bool)
        self.community = _objects(community, n)  # recorded community code, or None
        self.residents: Ints = np.zeros(n, dtype=np.int64) if residents is None \
            else np.asarray(residents, dtype=np.int64)
        self._order: Ints | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as plain arrays: the points as coordinates, the community codes as indices
        into their distinct values (a worker process is sent a community's buildings; a
        Python object apiece took 0.8 s for a district)."""
        located = ~shapely.is_missing(self.points)
        codes, community = np.unique(self.community.astype(str), return_inverse=True)
        return (_from_arrays, (self.ids, shapely.get_coordinates(self.points[located]), located,
                               self.households, self.grid, self.has_head, codes,
                               community.reshape(-1), self.community == None,  # noqa: E711
                               self.residents))

    @classmethod
    def of(cls, items: Iterable[PlanBuilding]) -> Buildings:
        if isinstance(items, Buildings):
            return items
        rows = list(items)
        return cls([b.id for b in rows], [b.point for b in rows], [b.households for b in rows],
                   [NONE if b.grid is None else b.grid for b in rows],
                   [b.has_head for b in rows], [b.community_code for b in rows])

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> PlanBuilding: ...
    @overload
    def __getitem__(self, i: slice) -> Buildings: ...

    def __getitem__(self, i: int | slice) -> PlanBuilding | Buildings:
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        g = int(self.grid[i])
        return PlanBuilding(int(self.ids[i]), self.points[i], int(self.households[i]),
                            None if g == NONE else g, bool(self.has_head[i]), self.community[i])

    def __iter__(self) -> Iterator[PlanBuilding]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[PlanBuilding]) -> Buildings:
        more = Buildings.of(other)
        return Buildings(*(np.concatenate([getattr(self, c), getattr(more, c)]) for c in
                           ("ids", "points", "households", "grid", "has_head", "community",
                            "residents")))

    def take(self, idx: Any) -> Buildings:
        """The buildings at ``idx`` (positions, or a mask)."""
        return Buildings(self.ids[idx], self.points[idx], self.households[idx], self.grid[idx],
                         self.has_head[idx], self.community[idx], self.residents[idx])

    def with_grids(self, grid: Any) -> Buildings:
        """The same buildings assigned to ``grid`` (one key per building, NONE for none)."""
        out = self.take(slice(None))
        out.grid = np.asarray(grid, dtype=np.int64)
        return out

    def usable(self) -> npt.NDArray[np.bool_]:
        """Which buildings have a point to place them by."""
        return (shapely.get_type_id(self.points) == 0) & ~shapely.is_empty(self.points)

    def positions(self, ids: Any) -> Ints:
        """The position of each of ``ids`` (-1 for an id not here)."""
        want = np.asarray(ids, dtype=np.int64)
        if not len(self):
            return np.full(len(want), -1, dtype=np.int64)
        if self._order is None:
            self._order = np.argsort(self.ids, kind="stable")
        at = np.minimum(np.searchsorted(self.ids, want, sorter=self._order), len(self) - 1)
        found = self._order[at]
        return np.where(self.ids[found] == want, found, -1)

    def assignment(self) -> dict[int, int | None]:
        """Building id → grid key (None for none)."""
        return {b: None if g == NONE else g
                for b, g in zip(self.ids.tolist(), self.grid.tolist(), strict=True)}

    def assigned(self, assignment: Mapping[int, int | None]) -> Ints:
        """The grid keys ``assignment`` gives the buildings (their own where it is silent)."""
        grid = self.grid.copy()
        if assignment:
            ids = np.fromiter(assignment.keys(), dtype=np.int64, count=len(assignment))
            keys = np.fromiter((NONE if g is None else g for g in assignment.values()),
                               dtype=np.int64, count=len(assignment))
            at = self.positions(ids)
            grid[at[at >= 0]] = keys[at >= 0]
        return grid


def grouped(labels: Any, k: int) -> list[Ints]:
    """The positions holding each label 0 … k−1 of ``labels``, each in their order."""
    label = np.asarray(labels, dtype=np.int64)
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(k + 1)).tolist()
    return [order[bounds[i]:bounds[i + 1]] for i in range(k)]


def _from_arrays(ids: Any, xy: Any, located: Any, households: Any, grid: Any, has_head: Any,
                 codes: Any, community: Any, no_community: Any, residents: Any) -> Buildings:
    points = np.full(len(ids), None, dtype=object)
    points[located] = shapely.points(xy)
    recorded = codes[community].astype(object)
    recorded[no_community] = None
    return Buildings(ids, points, households, grid, has_head, recorded, residents)


def _objects(values: Any, n: int) -> npt.NDArray[np.object_]:
    out = np.empty(n, dtype=object)
    if values is not None:
        out[:] = values if isinstance(values, np.ndarray) else list(values)
    return out


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
    buildings: Buildings = field(default_factory=lambda: Buildings.of([]))
    facilities: list[PlanFacility] = field(default_factory=list)
    allowed_gaps: BaseGeometry | None = None  # water, parks: gaps there are not problems

    def __post_init__(self) -> None:
        self.buildings = Buildings.of(self.buildings)

    def grid(self, key: int) -> PlanGrid:
        for g in self.grids:
            if g.key == key:
                return g
        raise KeyError(key)
