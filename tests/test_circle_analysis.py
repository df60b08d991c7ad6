"""Isochrones against networkx distances sampled along every edge, and siting against brute
force on small cases (geo.circle.isochrone, geo.circle.siting)."""

from __future__ import annotations

from itertools import combinations

import networkx as nx
import numpy as np
import psycopg
import pytest
import shapely

from geo.circle import siting
from geo.circle.district import DistrictCircle, metres_per_minute
from geo.circle.graph import Graph
from geo.circle.isochrone import area, reach
from geo.circle.siting import (
    Coverage,
    greedy,
    node_coverage,
    point_coverage,
    propose,
    solve,
    useful,
)
from geo.db.queries.circle import read_circle
from geo.errors import InvalidInput
from tests.test_circle_engine import oracle

SAMPLES = np.linspace(0.0, 1.0, 21)


@pytest.fixture(scope="module")
def demo(demo_url: str) -> DistrictCircle:
    with psycopg.connect(demo_url) as conn:
        return read_circle(conn, "520602")


def node_distances(graph: Graph, origin_row: int, t: float, off: float) -> np.ndarray:
    g = nx.Graph()
    rows, cols, data = graph.network_arcs()
    g.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), data.tolist(), strict=True))
    length = float(graph.length[origin_row])
    g.add_edge("o", int(graph.u[origin_row]), weight=off + t * length)
    g.add_edge("o", int(graph.v[origin_row]), weight=off + (1 - t) * length)
    found = nx.single_source_dijkstra_path_length(g, "o")
    return np.array([found.get(i, np.inf) for i in range(graph.n)])


@pytest.mark.parametrize("minutes", [5, 15])
def test_an_isochrone_holds_exactly_the_reachable_parts_of_streets(
        demo: DistrictCircle, minutes: int) -> None:
    graph = demo.graph
    origin = demo.building_snaps.take([len(demo.buildings) // 2])
    metres = minutes * metres_per_minute(4.0)
    got = reach(graph, origin, metres)
    d = node_distances(graph, int(origin.row[0]), float(origin.t[0]), float(origin.offset[0]))
    length = graph.length[:, None]
    # every sample point along every edge: its true distance from the origin
    true = np.minimum(d[graph.u][:, None] + SAMPLES * length,
                      d[graph.v][:, None] + (1 - SAMPLES) * length)
    r0 = int(origin.row[0])
    true[r0] = np.minimum(true[r0], origin.offset[0] + np.abs(SAMPLES - origin.t[0])
                          * graph.length[r0])
    inside = np.zeros_like(true, dtype=bool)
    fractions = SAMPLES
    for row, intervals in got.parts.items():
        for a, b in intervals:
            inside[row] |= (fractions >= a - 1e-9) & (fractions <= b + 1e-9)
    clear = np.abs(true - metres) > 1e-6  # samples not on the boundary itself
    assert np.array_equal(inside[clear], (true <= metres)[clear])
    assert 20 < inside.any(axis=1).sum() < len(graph.length)
    # the area: every reachable sample inside; unreachable samples well away from the
    # reached streets outside
    polygon = area(got.lines(graph), demo.frame, 25.0)
    assert polygon.is_valid and polygon.geom_type in ("Polygon", "MultiPolygon")
    lon = np.array([c[0, 0] + SAMPLES * (c[-1, 0] - c[0, 0]) for c in graph.edges.coords])
    lat = np.array([c[0, 1] + SAMPLES * (c[-1, 1] - c[0, 1]) for c in graph.edges.coords])
    straight = np.array([len(c) == 2 for c in graph.edges.coords])[:, None] & clear
    points = shapely.points(lon, lat)
    shapely.prepare(polygon)
    assert shapely.intersects(polygon, points[inside & straight]).all()
    reached = demo.frame.geometries(np.array(got.lines(graph), dtype=object))
    far = shapely.distance(shapely.union_all(reached),
                           demo.frame.points(np.column_stack([lon.ravel(), lat.ravel()])))
    away = (far.reshape(lon.shape) > 30.0) & straight
    assert away.any() and not shapely.intersects(polygon, points[away]).any()


def test_siting_among_supplied_places_equals_brute_force(demo: DistrictCircle) -> None:
    """Ten candidate places, k = 3; coverage from a networkx oracle, every set of three tried."""
    community = demo.buildings.extra["community"].astype(str)
    prefix = sorted(set(community))[3]
    mine = np.flatnonzero(np.char.startswith(community, prefix))
    rng = np.random.default_rng(11)
    spots = demo.buildings.coords[rng.choice(mine, 10, replace=False)] + 0.0004
    proposals, uncovered, exact = propose(demo, "market", 3, 4.0, prefix, candidates=spots)
    assert exact
    demand = np.flatnonzero(uncovered)
    assert len(demand) > 20
    weights = demo.buildings.extra["households"][demand].astype(np.float64)
    radius = 10 * metres_per_minute(4.0)
    places = Graph(demo.graph.edges, demo.snap(spots))
    covers = np.array([oracle(places, [c], demo.building_snaps.take(demand)) <= radius
                       for c in range(10)])
    best = max(weights[covers[list(chosen)].any(axis=0)].sum()
               for chosen in combinations(range(10), 3))
    assert sum(p.households for p in proposals) == round(best) > 0
    # listed most first, each with what it adds
    gains = [p.households for p in proposals]
    assert gains == sorted(gains, reverse=True)
    ours = point_coverage(demo.graph, demo.snap(spots), demo.building_snaps.take(demand), radius)
    assert np.array_equal(ours.matrix.toarray() > 0, covers)


def test_siting_among_junctions_equals_brute_force_over_the_useful_ones(
        demo: DistrictCircle) -> None:
    community = demo.buildings.extra["community"].astype(str)
    prefix = sorted(set(community))[0]
    uncovered = (~demo.within("supermarket", 3.0) & np.char.startswith(community, prefix)
                 & (demo.building_snaps.row >= 0))
    demand = np.flatnonzero(uncovered)
    weights = demo.buildings.extra["households"][demand].astype(np.float64)
    coverage = node_coverage(demo.graph, demo.building_snaps.take(demand),
                             15 * metres_per_minute(3.0))
    keep = useful(coverage)
    assert 3 < len(keep) < 400
    chosen, exact = solve(coverage, weights, 2)
    assert exact
    best = max(coverage.households(np.array(pair), weights)
               for pair in combinations(keep.tolist(), 2))
    assert coverage.households(chosen, weights) == best
    # dropping the dominated candidates lost nothing: any junction pair does no better
    every = np.flatnonzero(np.diff(coverage.matrix.indptr) > 0)
    sample = np.random.default_rng(5).choice(every, min(len(every), 60), replace=False)
    assert max(Coverage(coverage.matrix).households(np.array(pair), weights)
               for pair in combinations(sample.tolist(), 2)) <= best


def test_siting_past_its_time_limit_answers_greedily_and_says_so(demo: DistrictCircle) -> None:
    community = demo.buildings.extra["community"].astype(str)
    mine = np.flatnonzero(np.char.startswith(community, sorted(set(community))[0])
                          & ~demo.within("market", 4.0) & (demo.building_snaps.row >= 0))
    weights = demo.buildings.extra["households"][mine].astype(np.float64)
    coverage = node_coverage(demo.graph, demo.building_snaps.take(mine),
                             10 * metres_per_minute(4.0))
    exact, proven = solve(coverage, weights, 3)
    rushed, proven_rushed = solve(coverage, weights, 3, time_limit=0.0)
    assert proven and not proven_rushed and len(rushed) == 3
    first = greedy(coverage, weights, 1)
    assert coverage.households(first, weights) == max(
        coverage.households(np.array([c]), weights) for c in range(coverage.matrix.shape[0]))
    assert coverage.households(exact, weights) >= coverage.households(rushed, weights) > 0


def test_siting_refuses_an_area_too_large_to_weigh(demo: DistrictCircle,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siting, "MAX_DEMAND", 50)
    with pytest.raises(InvalidInput, match="choose a street or a community"):
        propose(demo, "market", 3, 4.0, "520602")
