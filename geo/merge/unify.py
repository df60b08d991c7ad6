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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import shapely
from shapely.geometry.base import BaseGeometry

from geo.plan import blocks
from geo.plan.cells import community_of, locate
from geo.plan.codes import next_codes
from geo.plan.edit import EditResult, _new_keys, _outcome
from geo.plan.model import PlanGrid, Rules, Scope
from geo.plan.propose import propose
from geo.plan.shapes import area_m2, clean, polygons

Source = tuple[str, str, BaseGeometry]  # theme, code, polygon (lon/lat)


def _households(scope: Scope, community: str, shape: BaseGeometry) -> int:
    shapely.prepare(shape)
    return sum(b.households for b in scope.buildings
               if community_of(b, scope) == community and shape.covers(b.point))


def _cut(scope: Scope, rules: Rules, community: str, sources: Sequence[Source]
         ) -> list[tuple[Source, BaseGeometry]]:
    """The sources cut to the community and to what earlier ones and dedicated grids left,
    larger than a sliver."""
    left = clean(shapely.difference(scope.communities[community], shapely.union_all(
        [g.geom for g in scope.grids if g.kind == "dedicated"] or [shapely.Polygon()])))
    out = []
    for source in sources:
        parts = polygons(clean(shapely.intersection(source[2], left)))
        if not parts:
            continue
        piece = max(parts, key=lambda p: p.area)  # one part: a grid is contiguous
        if area_m2(piece, scope.epsg) >= rules.sliver_m2:
            out.append((source, piece))
            left = clean(shapely.difference(left, piece))
    return out


def _absorb(scope: Scope, rules: Rules, community: str, seeds: list[BaseGeometry]
            ) -> tuple[list[BaseGeometry], BaseGeometry]:
    """Seeds grown by the empty pieces of the community's rest; and the rest that remains."""
    taken = shapely.union_all(seeds + [g.geom for g in scope.grids if g.kind == "dedicated"
                                       and g.community_code == community])
    rest = clean(shapely.difference(scope.communities[community], taken))
    keep = []
    for part in polygons(rest):
        if _households(scope, community, part) or not seeds:
            keep.append(part)
            continue
        shared = [shapely.length(shapely.intersection(part.boundary, s.boundary)) for s in seeds]
        best = max(range(len(seeds)), key=lambda i: shared[i])
        if shared[best] > 0:
            seeds[best] = clean(shapely.union(seeds[best], part))
        else:
            keep.append(part)
    return seeds, clean(shapely.union_all(keep) if keep else shapely.Polygon())


def _give_up(scope: Scope, rules: Rules, community: str, seeds: list[BaseGeometry],
             holds: list[int]) -> bool:
    """Give up one seed beside a piece of the rest too small for a grid; False when none
    needs it."""
    _, rest = _absorb(scope, rules, community, list(seeds))
    for part in polygons(rest):
        if _households(scope, community, part) >= rules.households_min:
            continue
        near = [i for i, s in enumerate(seeds) if shapely.length(
            shapely.intersection(part.boundary, s.boundary)) > 0]
        if near:
            drop = min(near, key=lambda i: holds[i])
            del seeds[drop], holds[drop]
            return True
    return False


def seeds(scope: Scope, rules: Rules, community: str, sources: Sequence[Source]
          ) -> list[PlanGrid]:
    """The kept seeds of one community, locked, with codes after its dedicated grids'."""
    shapes, holds = [], []
    for _, piece in _cut(scope, rules, community, sources):
        h = _households(scope, community, piece)
        if rules.households_min <= h <= rules.households_max:
            shapes.append(piece)
            holds.append(h)
    while _give_up(scope, rules, community, shapes, holds):
        pass
    shapes, _ = _absorb(scope, rules, community, shapes)
    used = {g.code for g in scope.grids if g.kind == "dedicated"}
    codes = next_codes(community, used, len(shapes))
    return [PlanGrid(key=0, code=code, name=f"第{int(code[12:])}网格", kind="base",
                     dedicated_type=None, community_code=community, geom=shape, locked=True)
            for code, shape in zip(codes, shapes, strict=True)]


def unify(sources: Sequence[Source], network: BaseGeometry | None = None, seed: int = 0
          ) -> Callable[[Scope, Rules], EditResult]:
    """The edit that replaces a scope's base grids by unified ones made from ``sources``
    (the priority layers' grids, in priority order)."""

    def operation(scope: Scope, rules: Rules) -> EditResult:
        kept = [g for g in scope.grids if g.kind == "dedicated"]
        made = [s for c in sorted(scope.communities) for s in seeds(scope, rules, c, sources)]
        keys = _new_keys(scope, len(made))
        made = [replace(g, key=k) for g, k in zip(made, keys, strict=True)]
        seeded = replace(scope, grids=kept + made, buildings=[
            replace(b, grid=g) for b, g in zip(scope.buildings, locate(
                scope.buildings, kept + made).values(), strict=True)])
        result = propose(seeded, rules, network=network, seed=seed)
        tree = shapely.STRtree([o.geom for o in scope.grids])
        grids = [replace(g, locked=False, lineage=blocks.lineage(
            g.geom, scope.grids, tree, rules.tolerance_m2, scope.epsg)) if g.key < 0 else g
                 for g in result.grids]
        moved = {b: g for b, g in result.assignment.items() if g is not None}
        return _outcome(scope, grids, moved=moved)

    return operation
