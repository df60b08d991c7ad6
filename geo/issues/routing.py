"""Intake routes a report to the grid containing its location (任务分办).

The candidates are the active unified grids within ``near_boundary_m`` of the point, with
their distance and whether they contain it. One grid containing the point and no other
near: routed. Near an edge (another grid within reach), in a gap between grids, or just
outside them: the grid containing it (if any) holds the issue for now and the candidates are
kept for a person to choose. A report on a building goes to the building's grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    grid_id: int
    code: str
    name: str
    community: str
    distance_m: float
    inside: bool


@dataclass(frozen=True)
class Route:
    grid_id: int | None
    community: str | None
    settled: bool
    candidates: tuple[Candidate, ...] = ()

    def candidates_json(self) -> list[dict[str, Any]] | None:
        """What is stored while a person has to choose (None once settled)."""
        if self.settled:
            return None
        return [{**asdict(c), "distance_m": round(c.distance_m, 1)} for c in self.candidates]


def route(candidates: list[Candidate], community: str | None) -> Route:
    """``candidates`` ordered: containing grids first, then by distance."""
    inside = [c for c in candidates if c.inside]
    holder = inside[0] if inside else None
    if holder is not None and len(candidates) == 1:
        return Route(holder.grid_id, holder.community, True)
    if not candidates:
        return Route(None, community, False)
    return Route(holder.grid_id if holder else None,
                 holder.community if holder else community, False, tuple(candidates))


def on_building(grid_id: int | None, community: str | None) -> Route:
    return Route(grid_id, community, grid_id is not None)
