"""多网合一: the unified grids of a draft's scope, made from the departmental layers.

An edit (``geo.plan.drafts.edit`` applies it, so the result is a draft that goes through the
planner's validation and activation):

1. Seeds: the grids of the priority layers, in order, cut to each community (a unified grid
   nests in one community) and to what earlier seeds and the dedicated grids left (the
   largest part where that cut leaves several: a grid is contiguous). A seed
   whose households lie within the range is kept as it is: the priority layer's boundaries
   survive where they satisfy the rules.
2. Ground a seed would leave empty (slivers along the community boundary, bits between the
   layers) goes to the seed it shares the longest edge with.
3. Where the rest of a community holds too few households for a grid of its own, the seed
   beside it with the fewest households is given up to it, until every piece of the rest can
   make grids in range (or no seed borders it).
4. The rest is divided by the auto-proposal (``geo.plan.propose``): households within range,
   contiguous, compact, on streets; its seeds and the dedicated grids stay as they are.
   Ground it did not reach (an empty piece between seeds) goes to the new grid sharing the
   longest edge with it, and new grids are numbered in reading order.

Each community goes through all four steps on its own, in a worker process
(``geo.plan.parallel.apart``), given only its part of the scope; the caller gathers the new
grids of all of them into one edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import to_metric
from geo.plan import blocks
from geo.plan.cells import by_community, community_scopes, locate
from geo.plan.codes import next_codes, reading_order
from geo.plan.edit import EditResult, _new_keys, _outcome
from geo.plan.model import NONE, Buildings, PlanBuilding, PlanGrid, Rules, Scope
from geo.plan.parallel import apart
from geo.plan.propose import made_of, plan
from geo.plan.shapes import (
    EDGE_MIN_M,
    area_m2,
    checked_difference,
    clean,
    polygons,
    shared_edge_m,
    welded,
)

Source = tuple[str, str, BaseGeometry]  # theme, code, polygon (lon/lat)
SNAP_DEG = 1e-7  # about 1 cm


class Homes:
    """The buildings of one community, indexed once: the households a shape covers are asked
    for every seed, rest and piece of it."""

    def __init__(self, mine: Sequence[PlanBuilding]) -> None:
        columns = Buildings.of(mine)
        self.households = columns.households
        self.tree = shapely.STRtree(columns.points)

    def within(self, shape: BaseGeometry) -> int:
        return int(self.households[self.tree.query(shape, predicate="covers")].sum())


def _in_range(h: int, rules: Rules) -> bool:
    return rules.households_min <= h <= rules.households_max


def divisible(h: int, rules: Rules) -> bool:
    """Whether ``h`` households can make grids in range: some k with k·min ≤ h ≤ k·max
    (no households at all: nothing to make)."""
    if h == 0:
        return True
    k = -(-h // rules.households_max)  # the fewest grids that hold h
    return k * rules.households_min <= h


def _cut(scope: Scope, rules: Rules, community: str, homes: Homes, sources: Sequence[Source]
          ) -> list[tuple[BaseGeometry, int]]:
    """The sources, in priority order, cut to the community and to what the dedicated grids
    and the sources kept before them left (the largest part: a grid is contiguous), kept
    when larger than a sliver and their households lie in range. A source that is not kept
    leaves its ground to the sources after it: a lower layer's grid can stand where the
    priority grid could not."""
    left = clean(checked_difference(scope.communities[community], shapely.union_all(
        [g.geom for g in scope.grids if g.kind == "dedicated"] or [shapely.Polygon()])))
    out = []
    for source in sources:
        parts = polygons(clean(shapely.intersection(source[2], left)))
        if not parts:
            continue
        piece = max(parts, key=lambda p: p.area)
        if area_m2(piece, scope.epsg) < rules.sliver_m2:
            continue
        h = homes.within(piece)
        if _in_range(h, rules):
            out.append((piece, h))
            left = clean(checked_difference(left, piece))
    return out


def _edge_m(scope: Scope, a: BaseGeometry, b: BaseGeometry) -> float:
    """The length in metres of the edge two pieces share (in the Gauss-Krüger zone)."""
    return shared_edge_m(to_metric(a, scope.epsg), to_metric(b, scope.epsg))


def _absorb(scope: Scope, community: str, homes: Homes, seeds: list[BaseGeometry]
            ) -> tuple[list[BaseGeometry], BaseGeometry]:
    """Seeds grown by the empty pieces of the community's rest; and the rest that remains."""
    taken = shapely.union_all(seeds + [g.geom for g in scope.grids if g.kind == "dedicated"
                                       and g.community_code == community])
    rest = clean(checked_difference(scope.communities[community], taken))
    keep = []
    for part in polygons(rest):
        if homes.within(part) or not seeds:
            keep.append(part)
            continue
        shared = [_edge_m(scope, part, s) for s in seeds]
        best = max(range(len(seeds)), key=lambda i: shared[i])
        if shared[best] >= EDGE_MIN_M:
            seeds[best] = _joined(seeds[best], part, scope.epsg)
        else:
            keep.append(part)
    return seeds, clean(shapely.union_all(keep) if keep else shapely.Polygon())


def _joined(a: BaseGeometry, b: BaseGeometry, epsg: int) -> BaseGeometry:
    """Two pieces that share an edge as one: ``b`` snapped onto ``a`` first (≈ 1 cm), so
    that edges a float's width apart do not leave a hairline between two parts; where the
    union still leaves one, it is welded (``shapes.welded``)."""
    return welded([a, shapely.snap(b, a, SNAP_DEG)], epsg)


def _fill_gaps(scope: Scope, rules: Rules, grids: list[PlanGrid]
               ) -> tuple[list[PlanGrid], dict[int, int]]:
    """Ground of a community that no grid took (an empty piece between seeds the
    auto-proposal did not reach) goes to the new grid sharing the longest edge with it; so do
    the buildings standing on it (building id → grid key)."""
    out = list(grids)
    joined: list[tuple[BaseGeometry, int]] = []
    for community, bound in scope.communities.items():
        mine = [i for i, g in enumerate(out) if g.community_code == community]
        gap = clean(checked_difference(bound, shapely.union_all([out[i].geom for i in mine])))
        for part in polygons(gap):
            if area_m2(part, scope.epsg) <= rules.tolerance_m2:
                continue
            new = [i for i in mine if out[i].key < 0]
            shared = {i: _edge_m(scope, part, out[i].geom) for i in new}
            best = max(shared, key=lambda i: shared[i], default=None)
            if best is not None and shared[best] >= EDGE_MIN_M:
                out[best] = out[best].with_geom(_joined(out[best].geom, part, scope.epsg))
                joined.append((part, out[best].key))
    return out, _standing(scope, joined)


def _standing(scope: Scope, pieces: list[tuple[BaseGeometry, int]]) -> dict[int, int]:
    """The buildings standing on ``pieces`` (shape, grid key): building id → that key."""
    if not pieces:
        return {}
    piece, building = shapely.STRtree(scope.buildings.points).query(
        np.array([p for p, _ in pieces], dtype=object), predicate="covers")
    ids = scope.buildings.ids[building].tolist()
    return {b: pieces[p][1] for p, b in zip(piece.tolist(), ids, strict=True)}


def _give_up(scope: Scope, rules: Rules, community: str, homes: Homes,
             seeds: list[BaseGeometry], holds: list[int]) -> bool:
    """Give up one seed beside a piece of the rest whose households cannot make grids in
    range; False when none needs it."""
    _, rest = _absorb(scope, community, homes, list(seeds))
    for part in polygons(rest):
        if divisible(homes.within(part), rules):
            continue
        near = [i for i, s in enumerate(seeds) if _edge_m(scope, part, s) >= EDGE_MIN_M]
        if near:
            drop = min(near, key=lambda i: holds[i])
            del seeds[drop], holds[drop]
            return True
    return False


def seeds(scope: Scope, rules: Rules, community: str, sources: Sequence[Source],
          homes: Homes) -> list[PlanGrid]:
    """The kept seeds of one community, locked, with codes after its dedicated grids'."""
    kept = _cut(scope, rules, community, homes, sources)
    shapes, holds = [p for p, _ in kept], [h for _, h in kept]
    while _give_up(scope, rules, community, homes, shapes, holds):
        pass
    shapes, _ = _absorb(scope, community, homes, shapes)
    used = {g.code for g in scope.grids if g.kind == "dedicated"}
    codes = next_codes(community, used, len(shapes))
    return [PlanGrid(key=0, code=code, name=f"第{int(code[12:])}网格", kind="base",
                     dedicated_type=None, community_code=community, geom=shape, locked=True)
            for code, shape in zip(codes, shapes, strict=True)]


def _numbered(grids: list[PlanGrid], kept: list[PlanGrid]) -> dict[int, str]:
    """Codes for the new grids (seeds and the proposal's), in reading order within each
    community, after the codes the dedicated grids keep."""
    out: dict[int, str] = {}
    for community in sorted({g.community_code for g in grids}):
        new = [g for g in grids if g.key < 0 and g.community_code == community]
        taken = {g.code for g in kept if g.community_code == community}
        codes = next_codes(community, taken, len(new))
        for code, i in zip(codes, reading_order([g.geom for g in new]), strict=True):
            out[new[i].key] = code
    return out


@dataclass
class _Merged:
    """One community merged: what a worker process sends back."""

    grids: list[PlanGrid]  # its new grids (seeds and the proposal's), keys below its part's
    moved: dict[int, int]  # its buildings → their new grid's key, or a dedicated grid's


def _merged(part: Scope, rules: Rules, sources: Sequence[Source], lines: BaseGeometry | None,
            seed: int) -> _Merged:
    """A community's part of the scope (``cells.community_scopes``) merged, as a worker
    process runs it: steps 1–4 of the module doc, and its new grids' lineage and codes. Its
    buildings start unassigned: each goes to the dedicated grid or seed it stands in, else
    to a new grid of the proposal."""
    code = part.code
    made = seeds(part, rules, code, sources, Homes(part.buildings))
    made = [replace(g, key=k) for g, k in zip(made, _new_keys(part, len(made)), strict=True)]
    dedicated = [g for g in part.grids if g.kind == "dedicated"]
    seeded = replace(part, grids=dedicated + made)
    homes = part.buildings.take(part.buildings.usable())
    streets = blocks.Streets(lines) if lines is not None else None
    found = plan(seeded, rules, code, streets, seed, homes.with_grids(np.full(len(homes), NONE)))
    new, moved = made_of(found, _new_keys(seeded, len(found.shapes)), [()] * len(found.shapes))
    filled, standing = _fill_gaps(part, rules, [g for g in dedicated if g.community_code == code]
                                  + made + new)
    fresh = [g for g in filled if g.key < 0]
    fresh = [replace(g, locked=False, lineage=lineage) for g, lineage in zip(fresh, blocks.lineages(
        [g.geom for g in fresh], part.grids, rules.tolerance_m2, part.epsg), strict=True)]
    codes = _numbered(fresh, dedicated)
    fresh = [replace(g, code=codes[g.key], name=f"第{int(codes[g.key][12:])}网格") for g in fresh]
    return _Merged(fresh, moved | standing)


def unify(sources: Sequence[Source], network: BaseGeometry | None = None, seed: int = 0
          ) -> Callable[[Scope, Rules], EditResult]:
    """The edit that replaces a scope's base grids by unified ones made from ``sources``
    (the priority layers' grids, in priority order)."""

    def operation(scope: Scope, rules: Rules) -> EditResult:
        index = shapely.STRtree([s[2] for s in sources])
        streets = blocks.Streets(network) if network is not None else None

        def near(c: str) -> list[Source]:  # the sources meeting c, in priority order
            hit = index.query(scope.communities[c], predicate="intersects")
            return [sources[i] for i in sorted(hit.tolist())]

        parts = community_scopes(scope, sorted(scope.communities), by_community(scope))
        done = apart(_merged, [(part, rules, near(part.code), streets.near(
            part.communities[part.code]) if streets is not None else None, seed)
            for part in parts], sizes=[len(part.buildings) for part in parts])
        return _gathered(scope, done)

    return operation


def _gathered(scope: Scope, done: list[_Merged]) -> EditResult:
    """The edit the merged communities make together: their new grids with keys below the
    scope's, beside the dedicated grids; a building no community holds (in none of the
    scope's) goes to the grid it stands in."""
    grids = [g for g in scope.grids if g.kind == "dedicated"]
    keys = iter(_new_keys(scope, sum(len(m.grids) for m in done)))
    moved: dict[int, int] = {}
    for m in done:
        key = {g.key: next(keys) for g in m.grids}
        grids += [replace(g, key=key[g.key]) for g in m.grids]
        moved.update({b: key.get(g, g) for b, g in m.moved.items()})
    held = np.isin(scope.buildings.ids, np.fromiter(moved, dtype=np.int64, count=len(moved)))
    if not held.all():
        found = locate(scope.buildings.take(~held), grids)
        moved.update({b: g for b, g in found.items() if g is not None})
    return _outcome(scope, grids, moved=moved)
