"""The auto-proposal (自动划分): a partition of a community's buildings into base grids of
rules.households_min–households_max households, contiguous, compact, cut along streets.

Method, per community (and per piece of it, when kept grids cut it apart):

1. Kept as they are: dedicated grids and locked grids, with their buildings and their ground.
   The rest of the community (the *free* ground) and its buildings are divided anew.
2. Ground (geo.plan.blocks): buildings at one point form a site; each site's Voronoi cell is
   drawn inside its street block, and two sites are neighbours when they are Delaunay
   neighbours (metrics.building_edges) whose cells share an edge. A neighbour pair on two
   sides of a street line is a *street edge*: the grids may cross streets (a block can hold
   more or fewer households than a grid), they prefer not to. Where the blocks would cut
   the graph into more pieces than plain cells do, plain cells are used (contiguity first).
3. The number of grids k puts the mean total/k inside the range (grid_count).
4. Seeds: recursive bisection of the sites by households in a frame turned by a random
   angle (geo.plan.spread), so that seeds follow the households.
5. Growth: the region with the fewest households takes its nearest unassigned neighbouring
   site (nearest to its seed); crossing a street counts as a detour of one grid radius, so a
   region fills its own block before it crosses.
6. Local search: a boundary site moves to an adjacent region when that lowers
       Σ (h − target)² + OUT_OF_RANGE · Σ out · (target + out) + λ · cut
   (out: how far h lies outside the range; cut: the length of the boundaries between regions,
   a street boundary counting STREET_CUT of its length: the perimeter Polsby-Popper
   penalises), never disconnecting or emptying a region.
7. Repair of regions still out of range: sites passed along chains of regions, or a region
   and its neighbours divided again (_repair).
8. Grid shape: the union of the cells of its sites, with cut-off cell parts and empty blocks
   handed to the grid they share the longest edge with (how the edits absorb slivers; the
   kept grids take nothing). Codes: the community's smallest codes that the kept grids do not
   hold, in reading order (west→east, north→south); names 第N网格 after the code.

Steps 3–7 are the partition (geo.plan.partition); this module cuts the ground, runs it per
community (in worker processes, geo.plan.parallel) and makes the grids of its regions.

Everything is deterministic for a given ``seed`` (numpy's default_rng; fixed visiting orders).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidInput
from geo.plan import blocks, parcels
from geo.plan.blocks import Ground, Sites
from geo.plan.cells import by_community, community_scopes, first_covering, locate_keys
from geo.plan.codes import next_codes, reading_order
from geo.plan.edit import EditResult, _new_keys, _outcome, _replaced
from geo.plan.model import NONE, Buildings, PlanGrid, Rules, Scope, grouped
from geo.plan.parallel import apart
from geo.plan.partition import grid_count, partition
from geo.plan.shapes import area_m2, checked_difference, clean

__all__ = ["Plan", "assembled", "grid_count", "made_of", "plan", "propose"]


@dataclass
class Plan:
    """One community divided: what a worker process sends back."""

    community: str
    kept: list[PlanGrid]
    removed: set[int]
    shapes: list[BaseGeometry]  # the new grids, in reading order
    members: list[list[int]]  # building ids of each new grid
    to_kept: dict[int, int]  # buildings standing in a kept grid → that grid


def propose(scope: Scope, rules: Rules, community: str | None = None,
            network: BaseGeometry | None = None, seed: int = 0) -> EditResult:
    """Divide ``community`` (every community of the scope when None) anew into base grids,
    keeping its dedicated and locked grids as they are; ``network`` (lines in lon/lat, e.g.
    the walk edges) is where boundaries should run. Old base grids are removed, new ones get
    negative keys, lineage = the removed grids they overlap. See the module doc for the
    method."""
    if rules.households_min < 0 or rules.households_max < max(rules.households_min, 1):
        raise InvalidInput(f"rules: households range {rules.households_min}–{rules.households_max} is empty")
    if community is not None and community not in scope.communities:
        raise InvalidInput(f"community: {community} is not in this draft's scope")
    codes = [community] if community is not None else sorted(scope.communities)
    streets = blocks.Streets(network) if network is not None else None
    homes = by_community(scope, scope.buildings.take(scope.buildings.usable()))
    parts = community_scopes(scope, codes, homes)
    plans = apart(_plan_apart, [(part, rules, streets.near(part.communities[part.code])
                                 if streets is not None else None, seed) for part in parts],
                  sizes=[len(part.buildings) for part in parts])
    return assembled(scope, rules, plans)


def assembled(scope: Scope, rules: Rules, plans: Sequence[Plan]) -> EditResult:
    """The edit the ``plans`` of the scope's communities make: their new grids (negative
    keys, lineage = the removed grids they overlap), and every building of a plan assigned."""
    keys = iter(_new_keys(scope, sum(len(p.shapes) for p in plans)))
    made: list[PlanGrid] = []
    moved: dict[int, int] = {}
    for p in plans:
        old = [g for g in scope.grids if g.key in p.removed]
        grids, assigned = made_of(p, [next(keys) for _ in p.shapes], blocks.lineages(
            p.shapes, old, rules.tolerance_m2, scope.epsg))
        made += grids
        moved.update(assigned)
    removed = set().union(*(p.removed for p in plans))
    return _outcome(scope, _replaced(scope, {}, drop=removed, add=made), moved)


def made_of(p: Plan, keys: Sequence[int], lineages: Sequence[tuple[int, ...]]
            ) -> tuple[list[PlanGrid], dict[int, int]]:
    """A plan's new grids (with ``keys`` and ``lineages``; codes: the community's smallest
    that its kept grids do not hold), and its buildings' grids: the new grid they are
    members of, or the kept grid they stand in."""
    codes = next_codes(p.community, {g.code for g in p.kept}, len(p.shapes))
    grids = [PlanGrid(key=key, code=code, name=f"第{int(code[12:])}网格", kind="base",
                      dedicated_type=None, community_code=p.community, geom=shape,
                      lineage=parents)
             for shape, code, key, parents in zip(p.shapes, codes, keys, lineages, strict=True)]
    moved: dict[int, int] = {}
    for grid, members in zip(grids, p.members, strict=True):
        moved.update(dict.fromkeys(members, grid.key))
    return grids, moved | p.to_kept


def _plan_apart(part: Scope, rules: Rules, lines: BaseGeometry | None, seed: int) -> Plan:
    """``plan`` of a community's part of the scope (``cells.community_scopes``), as a worker
    process runs it: ``lines`` are the streets around it."""
    streets = blocks.Streets(lines) if lines is not None else None
    return plan(part, rules, part.code, streets, seed, part.buildings)


def plan(scope: Scope, rules: Rules, community: str, streets: blocks.Streets | None,
         seed: int, homes: Buildings) -> Plan:
    """``community`` divided anew (its dedicated and locked grids kept): ``homes`` are its
    buildings, those assigned to a kept grid staying there."""
    mine = [g for g in scope.grids if g.community_code == community]
    kept = [g for g in mine if g.kind == "dedicated" or g.locked]
    kept_keys = {g.key for g in kept}
    bound = scope.communities[community]
    free = clean(checked_difference(bound, shapely.union_all([g.geom for g in kept]))) if kept \
        else clean(bound)
    loose = homes.take(~np.isin(homes.grid, list(kept_keys)))
    standing = locate_keys(loose.points, kept)
    in_kept = dict(zip(loose.ids[standing != NONE].tolist(),
                       standing[standing != NONE].tolist(), strict=True))
    loose = loose.take(standing == NONE)
    out = Plan(community, kept, {g.key for g in mine} - kept_keys, [], [], in_kept)
    if area_m2(free, scope.epsg) <= rules.tolerance_m2:
        return out
    sites = blocks.sites_of(loose, scope.epsg)
    if not len(sites):
        out.shapes = blocks.pieces(free, rules.tolerance_m2, scope.epsg)
        out.members = [[] for _ in out.shapes]
        return out
    many = parcels.needed(sites, grid_count(int(sites.households.sum()), len(sites), rules))
    if many:
        found, sites, labels, k = _on_parcels(free, sites, community, scope.epsg, streets,
                                              rules, seed)
    else:
        found = blocks.ground(free, sites, community, scope.epsg, streets)
        labels, k = partition(found, sites, rules, seed)
    shapes, alone = blocks.shapes_of(labels, k, found, scope.epsg)
    members = sites.members(labels, k)
    # Ground enclosed by kept grids touches no new grid: it becomes a grid of its own rather
    # than a gap (an error) or a detached part of another grid (also an error).
    for piece in blocks.pieces(shapely.union_all(alone), rules.tolerance_m2, scope.epsg) if alone else []:
        shapes.append(piece)
        members.append([])
    if many:  # a parcel's building may stand in another grid: it goes where it stands
        members = _where_they_stand(members, shapes, loose)
    order = reading_order(shapes)
    out.shapes = [shapes[i] for i in order]
    out.members = [members[i] for i in order]
    return out


def _on_parcels(free: BaseGeometry, sites: Sites, community: str, epsg: int,
                streets: blocks.Streets | None, rules: Rules, seed: int
                ) -> tuple[Ground, Sites, list[int], int]:
    """The partition of ``sites`` gathered into parcels: the coarsest parcels (parcels.SHARES)
    that leave no region out of range, else the ones that leave the fewest."""
    best: tuple[int, Ground, Sites, list[int], int] | None = None
    for share in parcels.SHARES:
        found, gathered = parcels.gathered(free, sites, community, epsg, streets, rules, seed,
                                           share)
        labels, k = partition(found, gathered, rules, seed)
        h = np.bincount(labels, weights=gathered.households, minlength=k)
        out = int(((h < rules.households_min) | (h > rules.households_max)).sum())
        if best is None or out < best[0]:
            best = (out, found, gathered, labels, k)
        if not out:
            break
    assert best is not None
    return best[1:]


def _where_they_stand(members: list[list[int]], shapes: list[BaseGeometry],
                      buildings: Buildings) -> list[list[int]]:
    """Each building of ``members`` moved to the shape that covers it (the first on a shared
    edge; kept where none does)."""
    ids = np.fromiter(itertools.chain.from_iterable(members), dtype=np.int64)
    region = np.repeat(np.arange(len(members)), [len(m) for m in members])
    at = buildings.positions(ids)
    if len(ids) and shapes:
        first = first_covering(buildings.points[at], shapes)  # on a shared edge, the first
        region[first >= 0] = first[first >= 0]
    return [ids[at].tolist() for at in grouped(region, len(members))]
