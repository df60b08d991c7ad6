"""One district's 一刻钟便民服务圈 in memory: its network, facilities and buildings snapped
once, and per category the walking distance from every building to the nearest facility
(one multi-source pass each, ``geo.circle.graph``) beside the straight-line distance.

Distances are metres; minutes follow from a walking speed (``minutes``), so the profiles
(default 4.0 km/h, elderly 3.0 km/h) share the same passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely import STRtree

from geo.circle.graph import Floats, Graph, Ints, Snaps
from geo.errors import InvalidInput
from geo.lookup.index import EdgeSnapper, Frame, points_at
from geo.network import Edges


def metres_per_minute(kmh: float) -> float:
    return kmh * 1000.0 / 60.0


def minutes(metres: Floats, kmh: float) -> Floats:
    return metres / metres_per_minute(kmh)


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    group: str  # basic | quality | party | public
    minutes: int | None  # the circle's threshold; None: not part of the circle


@dataclass(frozen=True)
class Places:
    """Points with ids (buildings or facilities), as parallel arrays."""

    ids: Ints
    lon: Floats
    lat: Floats
    extra: dict[str, npt.NDArray[Any]] = field(default_factory=dict)  # households, category …

    @property
    def coords(self) -> Floats:
        return np.column_stack([self.lon, self.lat]) if len(self.ids) else np.zeros((0, 2))

    def __len__(self) -> int:
        return len(self.ids)


def frame_of(edges: Edges, *places: Places) -> Frame:
    parts = [np.concatenate(edges.coords)] if len(edges.ids) else []
    parts += [p.coords for p in places if len(p)]
    every = np.concatenate(parts) if parts else np.array([[116.4, 39.9]])
    return Frame.of((*every.min(axis=0), *every.max(axis=0)))


def snap(snapper: EdgeSnapper, rows: dict[int, int], coords: Floats) -> Snaps:
    """Each point's snap as ``Snaps`` (edge rows of ``Edges``)."""
    found = snapper.snap(points_at(coords), snapper.frame.points(coords)) if len(coords) else []
    row = np.array([rows[s.edge_id] if s else -1 for s in found], dtype=np.int64)
    t = np.array([s.fraction if s else 0.0 for s in found], dtype=np.float64)
    off = np.array([s.offset_m if s else 0.0 for s in found], dtype=np.float64)
    return Snaps(row, t, off)


class DistrictCircle:
    """The network, the facilities by category and the buildings, snapped once; distances
    per category worked out on first use and kept."""

    def __init__(self, edges: Edges, categories: list[Category], facilities: Places,
                 buildings: Places) -> None:
        self.categories = {c.code: c for c in categories}
        self.facilities, self.buildings = facilities, buildings
        self.frame = frame_of(edges, facilities, buildings)
        snapper = EdgeSnapper.build(edges, self.frame)
        self.snapper = snapper
        self.rows = {int(e): i for i, e in enumerate(edges.ids)}
        self.graph = Graph(edges, snap(snapper, self.rows, facilities.coords))
        self.building_snaps = snap(snapper, self.rows, buildings.coords)
        kinds = facilities.extra.get("category", np.array([], dtype=object))
        self.of_category = {code: np.flatnonzero(kinds == code) for code in self.categories}
        self._walk: dict[str, tuple[Floats, Ints]] = {}
        self._straight: dict[str, Floats] = {}
        self.community = buildings.extra.get("community", np.array([], dtype=object)
                                             ).astype(str)
        self.grid = np.array([g or "" for g in buildings.extra.get("grid", [])], dtype=str)

    def in_area(self, prefix: str) -> npt.NDArray[np.bool_]:
        """Buildings in the area ``prefix``: a district, street or community code (or a
        prefix of one) by the building's community, a grid code (15 digits, beginning with
        its community's) by the building's grid."""
        if len(prefix) > 12:
            return np.char.startswith(self.grid, prefix)
        return np.char.startswith(self.community, prefix)

    def category(self, code: str) -> Category:
        """A category of the circle (with a walking threshold); 422 naming the known ones."""
        found = self.categories.get(code)
        if found is None or found.minutes is None:
            known = ", ".join(c.code for c in self.circle())
            raise InvalidInput(f"category: {code!r} is not a category of the circle ({known})")
        return found

    def snap(self, coords: Floats) -> Snaps:
        return snap(self.snapper, self.rows, np.asarray(coords, dtype=np.float64).reshape(-1, 2))

    def walk(self, category: str) -> tuple[Floats, Ints]:
        """Every building's walking metres to the nearest facility of ``category`` (inf for
        none reachable) and that facility's id (-1)."""
        if category not in self._walk:
            metres, position = self.graph.nearest(self.of_category[category],
                                                  self.building_snaps)
            ids = np.where(position >= 0, self.facilities.ids[np.maximum(position, 0)], -1)
            self._walk[category] = (metres, ids)
        return self._walk[category]

    def straight(self, category: str) -> Floats:
        """Every building's straight-line metres to the nearest facility of ``category``."""
        if category not in self._straight:
            mine = self.of_category[category]
            if not len(mine) or not len(self.buildings):
                self._straight[category] = np.full(len(self.buildings), np.inf)
            else:
                tree = STRtree(self.frame.points(self.facilities.coords[mine]))
                points = self.frame.points(self.buildings.coords)
                _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
                self._straight[category] = np.asarray(dist, dtype=np.float64)
        return self._straight[category]

    def circle(self) -> list[Category]:
        """The categories with a threshold (part of the 15-minute circle)."""
        return [c for c in self.categories.values() if c.minutes is not None]

    def within(self, category: str, kmh: float, straight: bool = False) -> npt.NDArray[np.bool_]:
        """Which buildings reach ``category`` within its threshold at ``kmh``."""
        limit = self.categories[category].minutes
        if limit is None:
            raise ValueError(f"{category} has no walking threshold")
        metres = self.straight(category) if straight else self.walk(category)[0]
        return metres <= limit * metres_per_minute(kmh)

    def basic_complete(self, kmh: float, straight: bool = False) -> npt.NDArray[np.bool_]:
        """Buildings within the threshold of every basic (基本保障类) category."""
        done = np.ones(len(self.buildings), dtype=bool)
        for c in self.circle():
            if c.group == "basic":
                done &= self.within(c.code, kmh, straight)
        return done

