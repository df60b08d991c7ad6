"""一刻钟便民服务圈 budgets of DESIGN §7, each next to peers measured in the same run.

    .venv/bin/python bench/circle.py [--scale 100000] [--rounds 3]

1. Nearest facility of every category for every building, on the demo city (a bench
   database of its own with the demo loaded) and on a synthetic network of ``--scale``
   junctions (a jittered street lattice round the demo district with some streets missing,
   one building and a facility mix like the demo's per junction). For each category:
   - ours: one multi-source Dijkstra from the category's facilities (scipy), buildings on
     their partial edges (``geo.circle.graph``);
   - networkx: ``multi_source_dijkstra_path_length`` on the same graph with the same
     virtual facility nodes, buildings placed the same way;
   - pandana (PyPI): contraction hierarchies, facilities and buildings at their nearest
     junction (its model; the difference to ours is what partial edges change).
   Printed: the median time per category, and the largest difference of each peer to ours.
   Budget: ≤ 50 ms per category at 100k junctions.
2. Siting on the demo city: k = 5 new sites for a category, ours (scipy's HiGHS on the
   reduced problem) next to spopt's MCLP (PyPI; PuLP's CBC) on the same coverage; the
   households each covers must be equal (both are exact).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._demo_db import demo_database  # noqa: E402
from geo.circle.district import Category, DistrictCircle, Places, metres_per_minute  # noqa: E402
from geo.circle.graph import Graph  # noqa: E402
from geo.circle.siting import Coverage, node_coverage, solve  # noqa: E402
from geo.db.queries.circle import read_circle  # noqa: E402
from geo.importers.osm import geodesic_lengths  # noqa: E402
from geo.network import Edges  # noqa: E402

CATEGORIES = ["convenience_store", "market", "pharmacy", "supermarket", "clinic"]
PANDANA_REACH_M = 3000.0
CENTRE = (109.20, 27.73)


def synthetic(junctions: int, seed: int = 2026) -> DistrictCircle:
    """A street lattice of about ``junctions`` junctions, jittered, with 8 % of its streets
    missing; buildings and facilities scattered over it."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(junctions)))
    step = 75.0 / 111_000  # about 75 m, in degrees of latitude
    ky = np.cos(np.radians(CENTRE[1]))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), axis=-1).reshape(-1, 2)
    xy = (grid - side / 2) * step + rng.normal(0, step / 8, grid.shape)
    lon, lat = CENTRE[0] + xy[:, 0] / ky, CENTRE[1] + xy[:, 1]
    ids = np.arange(side * side).reshape(side, side)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(len(a)) > 0.08
    a, b = a[keep], b[keep]
    coords = [np.array([[lon[i], lat[i]], [lon[j], lat[j]]]) for i, j in zip(a, b, strict=True)]
    edges = Edges(np.arange(1, len(a) + 1), a.astype(np.int64), b.astype(np.int64),
                  geodesic_lengths(coords), coords)
    box_lo, box_hi = np.array([lon.min(), lat.min()]), np.array([lon.max(), lat.max()])
    n = side * side
    where = rng.uniform(box_lo, box_hi, size=(n, 2))
    buildings = Places(np.arange(1, n + 1), where[:, 0], where[:, 1],
                       {"households": rng.integers(10, 120, n),
                        "community": np.array(["520602001001"] * n, dtype=object)})
    share = {"convenience_store": 0.044, "market": 0.005, "pharmacy": 0.016,
             "supermarket": 0.005, "clinic": 0.006}
    kinds = np.concatenate([[c] * max(1, int(n * s)) for c, s in share.items()])
    spots = rng.uniform(box_lo, box_hi, size=(len(kinds), 2))
    facilities = Places(np.arange(1, len(kinds) + 1), spots[:, 0], spots[:, 1],
                        {"category": kinds.astype(object)})
    minutes = {"convenience_store": 5, "market": 10, "pharmacy": 10}
    return DistrictCircle(edges, [Category(c, c, "basic", minutes.get(c, 15)) for c in share],
                          facilities, buildings)


def ours(circle: DistrictCircle, code: str, rounds: int) -> tuple[float, np.ndarray]:
    times, metres = [], np.zeros(0)
    for _ in range(rounds):
        t = time.perf_counter()
        metres, _ = circle.graph.nearest(circle.of_category[code], circle.building_snaps)
        times.append(time.perf_counter() - t)
    return min(times), metres


def networkx_graph(graph: Graph) -> nx.Graph:
    g = nx.Graph()
    rows, cols, data = graph.network_arcs()
    g.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), data.tolist(), strict=True))
    f = graph.facilities
    for k in np.flatnonzero(graph.on_network).tolist():
        length = float(graph.length[f.row[k]])
        node = ("f", k)
        g.add_edge(node, int(graph.u[f.row[k]]), weight=f.offset[k] + f.t[k] * length)
        g.add_edge(node, int(graph.v[f.row[k]]), weight=f.offset[k] + (1 - f.t[k]) * length)
    return g


def with_networkx(g: nx.Graph, circle: DistrictCircle, code: str) -> tuple[float, np.ndarray]:
    graph = circle.graph
    t = time.perf_counter()
    sources = [("f", k) for k in circle.of_category[code].tolist() if graph.on_network[k]]
    found = nx.multi_source_dijkstra_path_length(g, sources)
    dist = np.array([found.get(i, np.inf) for i in range(graph.n)])
    # each building through either end of its edge, plus the part walked and its offset
    f, b = graph.facilities, circle.building_snaps
    row = np.where(b.row >= 0, b.row, 0)
    length = graph.edges.length_m[row]
    metres = np.minimum(dist[graph.u[row]] + b.t * length, dist[graph.v[row]]
                        + (1 - b.t) * length) + b.offset
    # a facility on a building's own edge, reached along the edge
    on_edge: dict[int, list[int]] = {}
    for k in circle.of_category[code].tolist():
        if graph.on_network[k]:
            on_edge.setdefault(int(f.row[k]), []).append(k)
    for i in np.flatnonzero(np.isin(b.row, list(on_edge))).tolist():
        r = int(b.row[i])
        for k in on_edge[r]:
            direct = b.offset[i] + f.offset[k] + abs(b.t[i] - f.t[k]) * graph.length[r]
            metres[i] = min(metres[i], direct)
    metres[b.row < 0] = np.inf
    return time.perf_counter() - t, metres


def with_pandana(circle: DistrictCircle, codes: list[str]) -> dict[str, tuple[float, np.ndarray]]:
    import pandana
    graph = circle.graph
    xy = graph.node_lonlat
    rows, cols, data = graph.network_arcs()
    one_way = rows < cols
    nodes = pd.Index(np.arange(graph.n))
    net = pandana.Network(pd.Series(xy[:, 0], index=nodes), pd.Series(xy[:, 1], index=nodes),
                          pd.Series(rows[one_way]), pd.Series(cols[one_way]),
                          pd.DataFrame({"metres": data[one_way]}), twoway=True)
    t = time.perf_counter()
    net.precompute(PANDANA_REACH_M)
    print(f"   pandana precompute ({PANDANA_REACH_M:.0f} m): {time.perf_counter() - t:.2f} s")
    homes = net.get_node_ids(circle.buildings.lon, circle.buildings.lat).to_numpy()
    out = {}
    for code in codes:
        mine = circle.of_category[code]
        net.set_pois(code, PANDANA_REACH_M, 1, circle.facilities.lon[mine],
                     circle.facilities.lat[mine])
        t = time.perf_counter()
        found = net.nearest_pois(PANDANA_REACH_M, code, num_pois=1)
        elapsed = time.perf_counter() - t
        by_node = np.full(graph.n, np.inf)
        by_node[found.index.to_numpy()] = found[1].to_numpy()
        metres = by_node[homes]
        metres[metres >= PANDANA_REACH_M] = np.inf
        out[code] = (elapsed, metres)
    return out


def largest_difference(a: np.ndarray, b: np.ndarray, reach: float = np.inf) -> float:
    both = np.isfinite(a) & np.isfinite(b) & (a < reach) & (b < reach)
    return float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0


def bench_nearest(label: str, circle: DistrictCircle, rounds: int) -> float:
    graph = circle.graph
    print(f"\n{label}: {graph.n:,} junctions, {len(graph.length):,} edges, "
          f"{len(circle.buildings):,} buildings, {len(circle.facilities):,} facilities")
    t = time.perf_counter()
    g = networkx_graph(graph)
    print(f"   networkx graph built in {time.perf_counter() - t:.2f} s")
    pandas = with_pandana(circle, CATEGORIES)
    rows, worst = [], 0.0
    for code in CATEGORIES:
        mine, metres = ours(circle, code, rounds)
        theirs, nx_metres = with_networkx(g, circle, code)
        pd_time, pd_metres = pandas[code]
        rows.append((mine, theirs, pd_time))
        worst = max(worst, mine)
        nx_diff = largest_difference(metres, nx_metres) * 100
        pd_diff = largest_difference(metres, pd_metres, PANDANA_REACH_M)
        print(f"   {code:18s} ours {mine * 1000:7.1f} ms   networkx {theirs * 1000:8.1f} ms "
              f"(max diff {nx_diff:.3f} cm)   pandana {pd_time * 1000:6.1f} ms "
              f"(max diff {pd_diff:.0f} m)")
    med = [statistics.median(r[i] for r in rows) * 1000 for i in range(3)]
    print(f"   median per category: ours {med[0]:.1f} ms, networkx {med[1]:.1f} ms "
          f"({med[1] / med[0]:.0f}× ours), pandana {med[2]:.1f} ms ({med[2] / med[0]:.1f}× ours)")
    return worst


def bench_siting(circle: DistrictCircle, code: str, k: int) -> None:
    import pulp
    from spopt.locate import MCLP

    radius = circle.categories[code].minutes * metres_per_minute(4.0)  # type: ignore[operator]
    uncovered = np.flatnonzero(~circle.within(code, 4.0) & (circle.building_snaps.row >= 0))
    weights = circle.buildings.extra["households"][uncovered].astype(np.float64)
    coverage = node_coverage(circle.graph, circle.building_snaps.take(uncovered), radius)
    t = time.perf_counter()
    chosen, exact = solve(coverage, weights, k)
    mine = time.perf_counter() - t
    ours_covered = coverage.households(chosen, weights)
    used = np.flatnonzero(np.diff(coverage.matrix.indptr) > 0)  # candidates covering anyone
    cost = np.where(coverage.matrix[used].toarray().T > 0, 0.0, 2.0)  # points × candidates
    t = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, weights, service_radius=1.0, p_facilities=k)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = time.perf_counter() - t
    sites = [used[j] for j, clients in enumerate(model.fac2cli) if len(clients)]
    spopt_covered = Coverage(coverage.matrix).households(np.array(sites), weights)
    print(f"\nsiting on the demo city: {code}, k = {k}, {len(uncovered):,} buildings outside "
          f"its {circle.categories[code].minutes}-minute circle "
          f"({weights.sum():,.0f} households), {len(used):,} useful junctions")
    proof = "proven best" if exact else "NOT proven best (time limit)"
    print(f"   ours (HiGHS, reduced): {ours_covered:,.0f} households covered in {mine:.2f} s, "
          f"{proof}")
    print(f"   spopt MCLP (CBC):      {spopt_covered:,.0f} households covered in {theirs:.2f} s")
    print(f"   equal: {'yes' if abs(ours_covered - spopt_covered) < 0.5 else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="junctions of the synthetic network")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="reload the bench database")
    args = parser.parse_args()
    with psycopg.connect(demo_database("circle", args.fresh)) as conn:
        demo = read_circle(conn, "520602")
    bench_nearest("demo city (520602)", demo, args.rounds)
    t = time.perf_counter()
    big = synthetic(args.scale)
    print(f"\n(synthetic network built and snapped in {time.perf_counter() - t:.1f} s)")
    worst = bench_nearest(f"synthetic network (--scale {args.scale:,})", big, args.rounds)
    print(f"   budget ≤ 50 ms per category at {args.scale:,} junctions: "
          f"{'met' if worst <= 0.05 else 'MISSED'} (slowest {worst * 1000:.1f} ms)")
    bench_siting(demo, "market", 5)


if __name__ == "__main__":
    main()
