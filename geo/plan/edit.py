"""The planner's edits of a draft: split, merge, reshape, move buildings, dedicated grids and
renumbering. Each takes the Scope and Rules, returns an EditResult and never mutates its input.

Geometric edits run in lon/lat, so a neighbour that is not touched keeps exactly its vertices
along the shared edge; areas, lengths and tolerances are measured in the scope's Gauss-Krüger
zone (shapes.area_m2 & co.). After an edit, the small parts it left behind are absorbed by a
neighbour (slivers.absorb_slivers) and the buildings of the grids it changed are re-assigned
by geometry (cells.locate), except for move_buildings, whose assignment is the edit itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
import shapely.ops
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric
from geo.errors import InvalidInput
from geo.plan.cells import building_cells, community_of, locate
from geo.plan.codes import next_codes, reading_order, renumber
from geo.plan.model import DEDICATED_TYPES, Buildings, PlanBuilding, PlanGrid, Rules, Scope
from geo.plan.shapes import (
    EDGE_MIN_M,
    NOISE_M2,
    area_m2,
    areas_m2,
    clean,
    degrees_for_metres,
    drawn,
    polygons,
    shared_edge_m,
    snap_to,
    union,
)
from geo.plan.slivers import Absorbed, absorb_slivers

__all__ = ["Absorbed", "EditResult", "absorb_slivers", "dedicated", "merge", "move_buildings",
           "renumber_community", "reshape", "split"]


@dataclass
class EditResult:
    grids: list[PlanGrid]  # every grid of the scope after the edit
    assignment: dict[int, int | None]  # building id → grid key, for every building of the scope
    changed: set[int] = field(default_factory=set)  # existing grids whose geometry/attributes changed
    created: set[int] = field(default_factory=set)  # new grids (negative keys)
    removed: set[int] = field(default_factory=set)  # grids that no longer exist


# ---------------------------------------------------------------- shared steps

def _grid(scope: Scope, key: int, param: str = "key") -> PlanGrid:
    try:
        return scope.grid(key)
    except KeyError:
        raise InvalidInput(f"{param}: no grid {key} in this draft's scope") from None


def _new_keys(scope: Scope, n: int) -> list[int]:
    """Keys for new grids: below every existing key and below zero (saved rows are positive)."""
    start = min([g.key for g in scope.grids] + [0]) - 1
    return [start - i for i in range(n)]


def _outcome(scope: Scope, grids: list[PlanGrid], moved: Mapping[int, int] | None = None) -> EditResult:
    """Compare with the scope and assign buildings. ``moved`` None: buildings of the changed,
    removed and created grids are located by geometry. Otherwise ``moved`` is the assignment
    edit; other buildings keep theirs unless their grid's geometry no longer covers them (a
    sliver around them went to a neighbour), and are then located."""
    old = {g.key: g for g in scope.grids}
    grids = [_restored(g, old.get(g.key)) for g in grids]
    new = {g.key: g for g in grids}
    removed, created = set(old) - set(new), set(new) - set(old)
    changed = {k for k in set(old) & set(new) if new[k] != old[k]}
    buildings = scope.buildings
    assignment = buildings.assignment()
    lost = np.isin(buildings.grid, list(changed | removed))
    if moved is None:
        redo = _covered(buildings, [new[k] for k in changed | created])
        stale = np.flatnonzero(lost | redo)
    else:
        assignment.update(moved)
        free = np.flatnonzero(lost & ~np.isin(buildings.ids, np.fromiter(moved, dtype=np.int64,
                                                                         count=len(moved))))
        stale = free[[int(g) in removed or not new[int(g)].geom.covers(p) for g, p in zip(
            buildings.grid[free].tolist(), buildings.points[free], strict=True)]] \
            if len(free) else free
    assignment.update(locate(buildings.take(stale), grids))
    return EditResult(grids, assignment, changed, created, removed)


def _restored(grid: PlanGrid, before: PlanGrid | None) -> PlanGrid:
    """The grid as it was when an edit gave it back the same shape with its vertices in
    another order (a clip or union of an untouched shape): not a change, and the stored
    vertices are kept."""
    if before is None or grid == before or replace(grid, geom=before.geom) != before:
        return grid
    return before if shapely.equals(grid.geom, before.geom) else grid


def _covered(buildings: Buildings, grids: list[PlanGrid]) -> npt.NDArray[np.bool_]:
    """Which buildings the ``grids`` cover."""
    out = np.zeros(len(buildings), dtype=bool)
    if grids and len(buildings):
        shape = shapely.union_all([g.geom for g in grids])
        out[:] = shapely.covers(shape, buildings.points)
    return out


def _settle(scope: Scope, rules: Rules, grids: list[PlanGrid], touched: Iterable[int],
            moved: Mapping[int, int] | None = None) -> EditResult:
    absorbed = absorb_slivers(grids, rules, scope.epsg, touched)
    return _outcome(scope, absorbed.grids, moved)


def _replaced(scope: Scope, updates: Mapping[int, PlanGrid], drop: Collection[int] = (),
              add: Iterable[PlanGrid] = ()) -> list[PlanGrid]:
    """The scope's grids in their order, with ``updates`` swapped in, ``drop`` left out and
    ``add`` appended."""
    kept = [updates.get(g.key, g) for g in scope.grids if g.key not in drop]
    return kept + list(add)


def _fit(scope: Scope, rules: Rules, geom: BaseGeometry, community: str,
         skip: int | None = None) -> BaseGeometry:
    """Snap a drawn polygon onto nearby grid edges and the community boundary, clip it to the
    community and make it valid."""
    bound = scope.communities.get(community)
    if bound is None:
        raise InvalidInput(f"community: {community} is not in this draft's scope")
    # GEOS snaps in the lon/lat plane, so rules.snap_m is converted to degrees at the
    # community's latitude (the larger of the two degree values: at least snap_m every way).
    tol = degrees_for_metres(rules.snap_m, bound.centroid.y)
    refs = [g.geom for g in scope.grids
            if g.key != skip and not g.geom.is_empty and shapely.dwithin(g.geom, geom, tol)]
    snapped = snap_to(geom, [*refs, bound], tol)
    return clean(shapely.intersection(snapped, bound))


def _carve(scope: Scope, shape: BaseGeometry, skip: int | None = None) -> dict[int, PlanGrid]:
    """Grids that lose what ``shape`` covers (overlaps below NOISE_M2 are float noise)."""
    out: dict[int, PlanGrid] = {}
    for g in scope.grids:
        if g.key == skip or not shapely.intersects(g.geom, shape):
            continue
        if area_m2(clean(shapely.intersection(g.geom, shape)), scope.epsg) > NOISE_M2:
            out[g.key] = g.with_geom(clean(shapely.difference(g.geom, shape)))
    return out


def _big_enough(shape: BaseGeometry, rules: Rules, epsg: int, param: str) -> None:
    area = area_m2(shape, epsg)
    if area < rules.sliver_m2:
        raise InvalidInput(f"{param}: the grid would be {area:.0f} m², smaller than "
                           f"sliver_m2 ({rules.sliver_m2:g} m²)")


# ---------------------------------------------------------------- split

def split(scope: Scope, rules: Rules, key: int, line: Any) -> EditResult:
    """Split grid ``key`` along ``line``. Every piece is a new grid with lineage (key,); the
    first in reading order keeps the code and name, the others take the next free codes and
    the name + "（分2）", "（分3）", …. Pieces smaller than rules.sliver_m2 are absorbed like
    any sliver, and at least two pieces of that size are required (a line that only nicks a
    corner is refused rather than turned into a re-keyed copy of the grid)."""
    grid = _grid(scope, key)
    if not isinstance(line, BaseGeometry) or line.geom_type not in ("LineString", "MultiLineString"):
        kind = line.geom_type if isinstance(line, BaseGeometry) else type(line).__name__
        raise InvalidInput(f"line: must be a LineString, got {kind}")
    pieces = polygons(shapely.ops.split(grid.geom, line))
    big = [a for a in areas_m2(pieces, scope.epsg) if a >= rules.sliver_m2]
    if len(pieces) <= len(polygons(grid.geom)) or len(big) < 2:
        raise InvalidInput(f"line: does not cut grid {grid.code} into two or more pieces "
                           f"(each at least sliver_m2 = {rules.sliver_m2:g} m²)")
    keys = _new_keys(scope, len(pieces))
    order = reading_order(pieces)
    made = [replace(grid, key=k, geom=pieces[i], lineage=(grid.key,), version=1, locked=False)
            for k, i in zip(keys, order, strict=True)]
    absorbed = absorb_slivers(_replaced(scope, {}, drop={key}, add=made), rules, scope.epsg, keys)
    return _outcome(scope, _label_pieces(scope, absorbed.grids, grid, set(keys)))


def _label_pieces(scope: Scope, grids: list[PlanGrid], source: PlanGrid,
                  pieces: set[int]) -> list[PlanGrid]:
    made = [g for g in grids if g.key in pieces]
    order = [made[i] for i in reading_order([g.geom for g in made])]
    codes = next_codes(source.community_code, {g.code for g in scope.grids}, len(order) - 1)
    labels = {order[0].key: (source.code, source.name)}
    for n, (g, code) in enumerate(zip(order[1:], codes, strict=True), start=2):
        labels[g.key] = (code, f"{source.name}（分{n}）")
    return [replace(g, code=labels[g.key][0], name=labels[g.key][1]) if g.key in labels else g
            for g in grids]


# ---------------------------------------------------------------- merge

def merge(scope: Scope, rules: Rules, keys: Iterable[int]) -> EditResult:
    """Merge two or more grids of one community, connected through shared edges, into one new
    grid with the smallest code and that grid's name; lineage = the merged keys (sorted)."""
    chosen = [_grid(scope, k, "keys") for k in dict.fromkeys(keys)]
    if len(chosen) < 2:
        raise InvalidInput("keys: give two or more grids to merge")
    first = min(chosen, key=lambda g: g.code)
    for g in chosen:
        if g.community_code != first.community_code:
            raise InvalidInput(f"keys: grids {first.code} and {g.code} are in different "
                               f"communities ({first.community_code}, {g.community_code})")
    _check_connected(chosen, scope.epsg)
    types = {g.dedicated_type for g in chosen}
    all_dedicated = all(g.kind == "dedicated" for g in chosen) and len(types) == 1
    merged = PlanGrid(
        key=_new_keys(scope, 1)[0], code=first.code, name=first.name,
        kind="dedicated" if all_dedicated else "base",
        dedicated_type=first.dedicated_type if all_dedicated else None,
        community_code=first.community_code, geom=union([g.geom for g in chosen], scope.epsg),
        lineage=tuple(sorted(g.key for g in chosen)))
    grids = _replaced(scope, {}, drop={g.key for g in chosen}, add=[merged])
    return _settle(scope, rules, grids, {merged.key})


def _check_connected(chosen: list[PlanGrid], epsg: int) -> None:
    """The grids must form one piece through shared edges (> EDGE_MIN_M, measured in metres);
    grids meeting only at a corner do not count."""
    metric = [to_metric(g.geom, epsg) for g in chosen]
    reached, frontier = {0}, [0]
    while frontier:
        i = frontier.pop()
        for j in range(len(chosen)):
            if j not in reached and shared_edge_m(metric[i], metric[j]) > EDGE_MIN_M:
                reached.add(j)
                frontier.append(j)
    if len(reached) < len(chosen):
        inside = ", ".join(sorted(chosen[i].code for i in reached))
        outside = ", ".join(sorted(g.code for i, g in enumerate(chosen) if i not in reached))
        raise InvalidInput(f"keys: grids {inside} and {outside} do not share an edge")


# ---------------------------------------------------------------- reshape

def reshape(scope: Scope, rules: Rules, key: int, geom: Any) -> EditResult:
    """Give grid ``key`` a new geometry, snapped onto its neighbours' edges and the community
    boundary within rules.snap_m, clipped to its community. Neighbours lose what it now covers.
    Ground the grid gives up is NOT handed to anyone: which neighbour should take it is the
    planner's call, so it stays a gap that the validator reports until they decide."""
    grid = _grid(scope, key)
    shape = _fit(scope, rules, drawn(geom, "geom"), grid.community_code, skip=key)
    if shape.is_empty:
        raise InvalidInput(f"geom: does not overlap community {grid.community_code} of grid {grid.code}")
    _big_enough(shape, rules, scope.epsg, "geom")
    updates = _carve(scope, shape, skip=key)
    updates[key] = grid.with_geom(shape)
    return _settle(scope, rules, _replaced(scope, updates), updates)


# ---------------------------------------------------------------- dedicated grids

def dedicated(scope: Scope, rules: Rules, geom: Any, dedicated_type: str, name: str,
              community: str | None = None) -> EditResult:
    """Create a dedicated grid (专属网格) from ``geom``: snapped like a reshape, clipped to one
    community (``community``, or the one holding the largest part of geom) and carved out of
    the grids it overlaps. Whatever lies outside that community is simply left out, however
    large: a grid lies in exactly one community, and the planner sees the clipped result."""
    if dedicated_type not in DEDICATED_TYPES:
        raise InvalidInput(f"dedicated_type: {dedicated_type!r} is not one of {', '.join(DEDICATED_TYPES)}")
    if not name or not str(name).strip():
        raise InvalidInput("name: is empty")
    shape = drawn(geom, "geom")
    code = community if community is not None else _largest_community(scope, shape)
    if code not in scope.communities:
        raise InvalidInput(f"community: {code} is not in this draft's scope")
    shape = _fit(scope, rules, shape, code)
    if shape.is_empty:
        raise InvalidInput(f"geom: does not overlap community {code}")
    _big_enough(shape, rules, scope.epsg, "geom")
    carved = _carve(scope, shape)
    made = PlanGrid(key=_new_keys(scope, 1)[0], code=next_codes(code, {g.code for g in scope.grids}, 1)[0],
                    name=str(name).strip(), kind="dedicated", dedicated_type=dedicated_type,
                    community_code=code, geom=shape, lineage=tuple(sorted(carved)))
    grids = _replaced(scope, carved, add=[made])
    return _settle(scope, rules, grids, {*carved, made.key})


def _largest_community(scope: Scope, shape: BaseGeometry) -> str:
    best: tuple[float, str] | None = None
    for code, bound in sorted(scope.communities.items()):
        if not shapely.intersects(bound, shape):
            continue
        area = area_m2(clean(shapely.intersection(bound, shape)), scope.epsg)
        if area > 0.0 and (best is None or area > best[0]):
            best = (area, code)
    if best is None:
        raise InvalidInput("geom: does not overlap any community of this draft")
    return best[1]


# ---------------------------------------------------------------- move buildings

def move_buildings(scope: Scope, rules: Rules, building_ids: Iterable[int], target_key: int) -> EditResult:
    """Assign buildings to grid ``target_key`` and move the ground under them with them: the
    Voronoi cell of each moved building, within its current grid, passes to the target. For an
    unassigned building the uncovered part of its cell is taken (assigning it fills the gap
    it stood in)."""
    target = _grid(scope, target_key, "target_key")
    moved = _moved_buildings(scope, building_ids, target)
    cells = building_cells(scope)
    by_donor: dict[int | None, list[BaseGeometry]] = {}
    known = {g.key for g in scope.grids}
    for b in moved:
        donor = b.grid if b.grid in known else None
        if donor != target.key:
            by_donor.setdefault(donor, []).append(cells[b.id])
    updates: dict[int, PlanGrid] = {}
    gained: list[BaseGeometry] = []
    for donor, donor_cells in by_donor.items():
        region = shapely.union_all(donor_cells)
        if donor is None:
            gained.append(clean(shapely.difference(region, shapely.union_all([g.geom for g in scope.grids]))))
            continue
        grid = scope.grid(donor)
        gained.append(clean(shapely.intersection(region, grid.geom)))
        updates[donor] = grid.with_geom(clean(shapely.difference(grid.geom, gained[-1])))
    updates[target.key] = target.with_geom(union([target.geom, *gained], scope.epsg))
    return _settle(scope, rules, _replaced(scope, updates), updates,
                   moved={b.id: target.key for b in moved})


def _moved_buildings(scope: Scope, building_ids: Iterable[int], target: PlanGrid) -> list[PlanBuilding]:
    ids = list(dict.fromkeys(building_ids))
    if not ids:
        raise InvalidInput("building_ids: give at least one building")
    at = scope.buildings.positions(ids)
    missing = [i for i, p in zip(ids, at.tolist(), strict=True) if p < 0]
    if missing:
        raise InvalidInput(f"building_ids: {', '.join(map(str, missing))} are not in this draft's scope")
    moved = list(scope.buildings.take(at))
    elsewhere = [b.id for b in moved if community_of(b, scope) != target.community_code]
    if elsewhere:
        raise InvalidInput(f"building_ids: {', '.join(map(str, elsewhere))} are not in community "
                           f"{target.community_code} of grid {target.code}")
    return moved


# ---------------------------------------------------------------- renumbering

def renumber_community(scope: Scope, rules: Rules, community: str) -> EditResult:
    """Codes 001, 002, … in reading order for the grids of ``community``; nothing else moves."""
    if community not in scope.communities and all(g.community_code != community for g in scope.grids):
        raise InvalidInput(f"community: {community} is not in this draft's scope")
    codes = renumber(scope.grids, community)
    updates = {g.key: replace(g, code=codes[g.key]) for g in scope.grids
               if g.key in codes and codes[g.key] != g.code}
    return _outcome(scope, _replaced(scope, updates), moved={})
