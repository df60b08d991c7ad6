"""The partition at the heart of the auto-proposal (geo.plan.propose): the sites of a piece
of a community divided into k contiguous regions of households within range, compact, cut
along streets (the search of steps 3–7 in geo.plan.propose's module doc: grid count, seeds,
growth, local search, repair)."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.plan import blocks
from geo.plan.blocks import Ground, SiteGraph, Sites
from geo.plan.model import Rules
from geo.plan.spread import spread_seeds

__all__ = ["grid_count", "partition"]

# Outside the range, each household costs OUT_OF_RANGE · (target + its distance outside):
# even one household out outweighs any compactness gain, so the range always comes first.
OUT_OF_RANGE = 100.0
STREET_CUT = 0.25  # a boundary along a street costs a quarter of one through a block
COMPACTNESS = 1.0  # scales λ (see 6. above)
MAX_PASSES = 60
CHAIN_REGIONS = 40  # how far (in regions) a chain may reach
# The re-divisions may visit REDIVIDE_SITES sites per site of the piece (at least
# REDIVIDE_MIN): enough for a few dozen local re-divisions, a bound on the time.
REDIVIDE_SITES = 3
REDIVIDE_MIN = 10_000
REPAIR_RINGS = 4
REPAIR_TRIES = 2  # other seeds (the generator moves on) for the same rings


# ---------------------------------------------------------------- the grid count

def grid_count(total: int, sites: int, rules: Rules) -> int:
    """How many grids to make of ``total`` households on ``sites`` sites: the count whose mean
    is nearest the target, moved into [ceil(total / max), floor(total / min)] (the counts that
    put the mean in range); when no count does, the one whose mean lies closest to the range.
    Never more grids than sites, never fewer than one."""
    if total <= 0 or sites <= 1:
        return 1
    lo_h, hi_h = rules.households_min, rules.households_max
    fewest = math.ceil(total / hi_h)
    most = math.floor(total / lo_h) if lo_h > 0 else sites
    near = (math.floor(total / rules.households_target), math.ceil(total / rules.households_target))
    ideal = min((c for c in near if c >= 1), key=lambda c: (abs(total / c - rules.households_target), c))
    if fewest <= most:
        k = min(max(ideal, fewest), most)
    else:
        def miss(c: int) -> float:
            return max(0.0, lo_h - total / c, total / c - hi_h)
        k = min((c for c in (most, fewest) if c >= 1), key=lambda c: (miss(c), c))
    return max(1, min(k, sites))


# ---------------------------------------------------------------- the partition

def _out(h: float, rules: Rules) -> float:
    """How far h households lie outside the range."""
    return max(0.0, rules.households_min - h, h - rules.households_max)


@dataclass(frozen=True)
class _Cost:
    rules: Rules
    lam: float  # per metre of cut

    def balance(self, h: float) -> float:
        out, target = _out(h, self.rules), self.rules.households_target
        return (h - target) ** 2 + OUT_OF_RANGE * out * (target + out)


def partition(found: Ground, sites: Sites, rules: Rules, seed: int) -> tuple[list[int], int]:
    """Region of every site and the number of regions, piece by piece of the site graph
    (a region never spans two pieces: it could not be one polygon)."""
    count, piece = found.components()
    labels = np.full(len(sites), -1, dtype=np.intp)
    rng = np.random.default_rng(seed)
    k_total = 0
    for c in range(count):
        idx = np.flatnonzero(piece == c)
        graph = blocks.site_graph(found, sites, idx, STREET_CUT)
        k = grid_count(sum(graph.w), len(idx), rules)
        labels[idx] = np.asarray(_regions(graph, k, rules, rng)) + k_total
        k_total += k
    return labels.tolist(), k_total


def _regions(graph: SiteGraph, k: int, rules: Rules, rng: np.random.Generator,
             repair: bool = True) -> list[int]:
    n = len(graph.w)
    if k <= 1:
        return [0] * n
    seeds = spread_seeds(graph.xy, np.asarray(graph.w, dtype=np.float64), k, rng)
    cuts = [c for row in graph.nbrs for _, c, _ in row]
    mean_cut = max(float(np.mean(cuts)), 1e-9) if cuts else 1.0
    extent = np.ptp(graph.xy, axis=0)
    radius = math.sqrt(max(float(extent[0] * extent[1]), mean_cut**2) / (math.pi * k))
    labels = _grow(graph, seeds, radius)
    # λ per metre of cut: moving a typical site (w households) for balance, which lengthens
    # the boundary by ~2 typical edges, has to gain more than 2 · w · width/4.
    width = rules.households_max - rules.households_min
    cost = _Cost(rules, COMPACTNESS * max(float(np.mean(graph.w)), 1.0) * width / 4 / mean_cut)
    _improve(graph, labels, k, cost)
    if repair:
        _repair(graph, labels, k, rules, rng)
    return labels


def _repair(graph: SiteGraph, labels: list[int], k: int, rules: Rules, rng: np.random.Generator) -> None:
    """Regions still out of range after the local search sit in a local minimum: single moves
    cannot pass households on through neighbours that are in range themselves. First a site
    is passed along a chain of adjacent regions (_chain); a region that no chain helps is
    divided again from scratch together with the regions around it (_redivide), within a
    budget of sites. Each step is kept only when fewer households are out of range."""
    budget = max(REDIVIDE_SITES * len(labels), REDIVIDE_MIN)
    stuck: set[int] = set()  # regions no chain helps (until a re-division changes the scene)
    while budget > 0:
        bad = _out_of_range(graph, labels, k, rules)
        fresh = [r for r in bad if r not in stuck]
        if fresh:
            if not _chain(graph, labels, k, fresh[0], rules):
                stuck.add(fresh[0])
            continue
        for r in bad:
            spent, better = _redivide(graph, labels, r, rules, rng, budget)
            budget -= spent
            if better or budget <= 0:
                break
        else:
            return
        stuck.clear()


def _out_of_range(graph: SiteGraph, labels: list[int], k: int, rules: Rules) -> list[int]:
    """The regions out of range, but for single sites above the maximum: nothing helps those."""
    sums = np.bincount(labels, weights=graph.w, minlength=k)
    sizes = np.bincount(labels, minlength=k)
    bad = (sums < rules.households_min) | ((sums > rules.households_max) & (sizes > 1))
    return np.flatnonzero(bad).tolist()


def _tally(graph: SiteGraph, labels: list[int], k: int) -> tuple[list[list[int]], list[int]]:
    """The sites and the households of each region."""
    members: list[list[int]] = [[] for _ in range(k)]
    for v, lab in enumerate(labels):
        members[lab].append(v)
    return members, [sum(graph.w[v] for v in m) for m in members]


def _chain(graph: SiteGraph, labels: list[int], k: int, r: int, rules: Rules) -> bool:
    """Pass one site at a time along a path of adjacent regions: towards r when it holds too
    few households, away from it when too many. The regions within CHAIN_REGIONS of r are
    tried nearest first; the first path that lowers the households out of range is kept."""
    members, sums = _tally(graph, labels, k)
    low = sums[r] < rules.households_min
    parent = {r: r}
    queue = [r]
    for x in queue:
        for y in sorted(graph.regions_around(labels, members[x]) - set(parent)):
            parent[y] = x
            queue.append(y)
            if not _can_end(graph, members, sums, y, x, low, rules):
                continue
            path = [y]
            while path[-1] != r:
                path.append(parent[path[-1]])
            trial = _pass_along(graph, labels, members, sums, path if low else path[::-1], rules)
            if trial is not None:
                labels[:] = trial
                return True
            if len(queue) >= CHAIN_REGIONS:
                return False
    return False


def _can_end(graph: SiteGraph, members: list[list[int]], sums: list[int], y: int, x: int, low: bool,
             rules: Rules) -> bool:
    """Whether y can end a chain next to x: give x its lightest site and stay in range (the
    chain feeds a region too low), or take x's lightest site and stay in range."""
    if low:
        return sums[y] - min(graph.w[v] for v in members[y]) >= rules.households_min
    return sums[y] + min(graph.w[v] for v in members[x]) <= rules.households_max


def _pass_along(graph: SiteGraph, labels: list[int], members: list[list[int]], sums: list[int],
                flow: list[int], rules: Rules) -> list[int] | None:
    """Labels after each region of ``flow`` gave the next one a site touching it (the site
    that leaves the giver nearest the range, then the target, without splitting it); None when
    a region has no such site or nothing improves."""
    trial = labels[:]
    h = {x: sums[x] for x in flow}
    own = {x: set(members[x]) for x in flow}
    for giver, taker in itertools.pairwise(flow):
        touching = [v for v in sorted(own[giver]) if any(trial[u] == taker for u, _, _ in graph.nbrs[v])]
        touching.sort(key=lambda v: (_out(h[giver] - graph.w[v], rules),
                                     abs(h[giver] - graph.w[v] - rules.households_target)))
        site = next((v for v in touching if len(own[giver]) > 1 and graph.stays_connected(trial, v)), None)
        if site is None:
            return None
        trial[site] = taker
        own[giver].discard(site)
        own[taker].add(site)
        h[giver] -= graph.w[site]
        h[taker] += graph.w[site]
    gain = sum(_out(sums[x], rules) - _out(h[x], rules) for x in flow)
    return trial if gain > 0 else None


def _redivide(graph: SiteGraph, labels: list[int], r: int, rules: Rules, rng: np.random.Generator,
              budget: int) -> tuple[int, bool]:
    """Divide region r and 1, 2, … REPAIR_RINGS rings of regions around it again (once their
    mean is in range), as many regions as before: (sites divided, whether it was kept)."""
    lo, hi = rules.households_min, rules.households_max
    members, sums = _tally(graph, labels, max(labels) + 1)
    groups = [[r]]
    for _ in range(REPAIR_RINGS):
        groups.append(sorted(graph.regions_around(labels, (v for x in groups[-1] for v in members[x]))))
    spent = 0
    for group in [g for g in groups[1:] for _ in range(REPAIR_TRIES)]:
        before = [sums[x] for x in group]
        if not lo * len(group) <= sum(before) <= hi * len(group):
            continue
        idx = sorted(v for x in group for v in members[x])
        if spent + len(idx) > budget:
            return spent, False
        spent += len(idx)
        again = _regions(graph.restrict(idx), len(group), rules, rng, repair=False)
        after = np.bincount(again, weights=[graph.w[v] for v in idx], minlength=len(group)).tolist()
        if sum(_out(h, rules) for h in after) < sum(_out(h, rules) for h in before):
            for v, lab in zip(idx, again, strict=True):
                labels[v] = group[lab]
            return spent, True
    return spent, False


def _grow(graph: SiteGraph, seeds: Sequence[int], street_detour: float) -> list[int]:
    n, k = len(graph.w), len(seeds)
    labels = [-1] * n
    households = [0] * k
    fronts: list[list[tuple[float, int]]] = [[] for _ in range(k)]
    sx, sy = graph.xy[:, 0].tolist(), graph.xy[:, 1].tolist()

    def take(v: int, r: int) -> None:
        labels[v] = r
        households[r] += graph.w[v]
        cx, cy = sx[seeds[r]], sy[seeds[r]]
        for u, _, street in graph.nbrs[v]:
            if labels[u] < 0:
                d = math.hypot(sx[u] - cx, sy[u] - cy) + (street_detour if street else 0.0)
                heapq.heappush(fronts[r], (d, u))

    for r, s in enumerate(seeds):
        take(s, r)
    queue = [(households[r], r) for r in range(k)]
    heapq.heapify(queue)
    while queue:
        _, r = heapq.heappop(queue)
        front = fronts[r]
        while front and labels[front[0][1]] >= 0:
            heapq.heappop(front)
        if not front:
            continue  # enclosed: the region stops growing
        take(heapq.heappop(front)[1], r)
        heapq.heappush(queue, (households[r], r))
    return labels


def _improve(graph: SiteGraph, labels: list[int], k: int, cost: _Cost) -> None:
    households = [0] * k
    size = [0] * k
    for v, r in enumerate(labels):
        households[r] += graph.w[v]
        size[r] += 1
    for _ in range(MAX_PASSES):
        moves = 0
        for v in range(len(labels)):
            to = _best_move(graph, labels, households, size, cost, v)
            if to is None or not graph.stays_connected(labels, v):
                continue
            a = labels[v]
            labels[v] = to
            households[a] -= graph.w[v]
            households[to] += graph.w[v]
            size[a] -= 1
            size[to] += 1
            moves += 1
        if not moves:
            break


def _best_move(graph: SiteGraph, labels: list[int], households: list[int], size: list[int],
               cost: _Cost, v: int) -> int | None:
    a = labels[v]
    if size[a] <= 1:
        return None
    own = 0.0
    other: dict[int, float] = {}
    for u, c, _ in graph.nbrs[v]:
        if labels[u] == a:
            own += c
        else:
            other[labels[u]] = other.get(labels[u], 0.0) + c
    if not other:
        return None
    w = graph.w[v]
    leave = cost.balance(households[a] - w) - cost.balance(households[a])
    best, gain = None, -1e-9
    for b, shared in other.items():
        delta = leave + cost.balance(households[b] + w) - cost.balance(households[b]) \
            + cost.lam * (own - shared)
        if delta < gain:
            best, gain = b, delta
    return best
