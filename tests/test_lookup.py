"""The public lookup over real HTTP against the demo city, with cases picked by SQL."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import networkx as nx
import numpy as np
import psycopg
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo.crs import from_metric, from_wgs84, metric_epsg, to_metric
from geo.lookup import service_centre, straight_m
from geo.lookup.centres import Network
from geo.lookup.index import Frame
from geo.network import Edges, Site, Snap, WalkNetwork
from geo.privacy import mask_phone
from geo.settings import Settings
from tests.conftest import eventually, serve

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ACTIVE = ("SELECT g.id, g.code, g.geom FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
          "WHERE l.theme = 'unified' AND l.status = 'active'")


@pytest.fixture(scope="module")
def api(test_settings: Settings) -> Iterator[httpx.Client]:
    """The app without the rate limit (these tests make a few hundred lookups)."""
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def get(api: httpx.Client, lon: float, lat: float, crs: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"lon": repr(lon), "lat": repr(lat)}
    if crs:
        params["crs"] = crs
    r = api.get("/api/v1/lookup", params=params)
    assert r.status_code == 200, r.text
    assert not MOBILE.search(r.text), "an unmasked mobile number left the lookup"
    body: dict[str, Any] = r.json()
    return body


def published_contacts(conn: psycopg.Connection, code: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT r.role, p.name FROM role_assignments r JOIN people p ON p.id = r.person_id "
        "JOIN grids g ON g.id = r.grid_id JOIN grid_layers l ON l.id = g.layer_id "
        "WHERE g.code = %s AND l.status = 'active' AND l.theme = 'unified' AND r.published "
        "AND r.role IN ('grid_worker_full', 'grid_worker_part', 'grid_leader', 'grid_assistant') "
        "AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to >= current_date)",
        (code,)).fetchall()]


def interior(conn: psycopg.Connection, min_radius_m: float = 120.0) -> tuple[str, float, float]:
    """The centre of the largest circle inside a grid: far from every edge."""
    row = conn.execute(
        f"SELECT code, ST_X(c), ST_Y(c) FROM (SELECT a.code, ST_Transform((ST_MaximumInscribedCircle("
        f"ST_Transform(a.geom, 4545))).center, 4326) AS c, (ST_MaximumInscribedCircle("
        f"ST_Transform(a.geom, 4545))).radius AS r FROM ({ACTIVE}) a) x "
        "WHERE r > %s ORDER BY code LIMIT 1", (min_radius_m,)).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_interior_point_of_a_known_grid(api: httpx.Client, conn: psycopg.Connection) -> None:
    code, lon, lat = interior(conn)
    body = get(api, lon, lat)
    assert body["grid"]["code"] == code
    assert body["community"]["code"] == code[:12] and body["street"]["code"] == code[:9]
    assert body["community"]["name"] and body["street"]["name"]
    assert body["near_boundary"] is False and body["neighbours"] == []
    expected = published_contacts(conn, code)
    assert sorted((c["role"], c["name"]) for c in body["contacts"]) == sorted(expected)
    assert all(c["phone"] for c in body["contacts"])
    org = conn.execute("SELECT po.name FROM party_orgs po JOIN grids g ON g.id = po.grid_id "
                       "WHERE g.code = %s AND po.kind = 'grid_branch'", (code,)).fetchone()
    if org:
        assert body["party_org"]["name"] == org[0]
    centre = body["service_centre"]
    assert centre["name"].endswith("党群服务中心")
    assert centre["walk_m"] >= centre["straight_m"] > 0
    assert centre["walk_minutes"] == pytest.approx(centre["walk_m"] / (4000 / 60), abs=0.06)


def test_contacts_prefer_the_work_phone_and_mask_the_rest(api: httpx.Client,
                                                          conn: psycopg.Connection) -> None:
    row = conn.execute(
        f"SELECT a.code, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom)) "
        f"FROM ({ACTIVE}) a WHERE EXISTS (SELECT 1 FROM role_assignments r WHERE r.grid_id = a.id "
        "AND r.published AND r.work_phone IS NOT NULL) AND EXISTS (SELECT 1 FROM "
        "role_assignments r WHERE r.grid_id = a.id AND r.published AND r.work_phone IS NULL) "
        "ORDER BY a.code LIMIT 1").fetchone()
    assert row is not None
    body = get(api, row[1], row[2])
    assert body["grid"]["code"] == row[0]
    kinds = {c["phone_is_masked"] for c in body["contacts"]}
    assert kinds == {True, False}
    for c in body["contacts"]:
        assert ("****" in c["phone"]) == c["phone_is_masked"]


def shared_edge(conn: psycopg.Connection) -> tuple[str, str, Any]:
    """The longest edge two active grids share: (smaller code, larger code, WGS84 line)."""
    row = conn.execute(
        f"WITH g AS ({ACTIVE}), p AS (SELECT a.code AS a, b.code AS b, (ST_Dump(ST_LineMerge("
        "ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)))).geom AS part "
        "FROM g a JOIN g b ON a.code < b.code AND ST_Intersects(a.geom, b.geom)) "
        "SELECT a, b, ST_AsBinary(part) FROM p WHERE ST_NPoints(part) >= 3 "
        "ORDER BY ST_Length(part::geography) DESC, a, b LIMIT 1").fetchone()
    assert row is not None
    return row[0], row[1], shapely.from_wkb(row[2])


def covering(conn: psycopg.Connection, lon: float, lat: float) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT code FROM ({ACTIVE}) a WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(%s, %s), "
        "4326)) ORDER BY code", (lon, lat)).fetchall()]


def test_point_on_a_shared_edge_resolves_to_the_smaller_code(api: httpx.Client,
                                                             conn: psycopg.Connection) -> None:
    a, b, line = shared_edge(conn)
    vertex = line.coords[1]  # a vertex of the shared edge lies exactly on both boundaries
    assert covering(conn, *vertex) == [a, b]
    answers = {get(api, *vertex)["grid"]["code"] for _ in range(5)}
    assert answers == {a}
    body = get(api, *vertex)
    assert body["near_boundary"] and body["boundary_distance_m"] == 0
    assert b in [n["grid"]["code"] for n in body["neighbours"]]


def test_interpolated_edge_point_is_deterministic(api: httpx.Client,
                                                  conn: psycopg.Connection) -> None:
    a, b, _ = shared_edge(conn)
    row = conn.execute(
        f"WITH g AS ({ACTIVE}) SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint("
        "(ST_Dump(ST_LineMerge(ST_CollectionExtract(ST_Intersection(x.geom, y.geom), 2)))).geom, "
        "0.5) AS p FROM g x, g y WHERE x.code = %s AND y.code = %s) q LIMIT 1", (a, b)).fetchone()
    assert row is not None
    # In floating point the interpolated point falls a hair to one side or on both; either way
    # the answer is the smallest code among the grids that cover it, every time.
    cover = covering(conn, row[0], row[1])
    assert cover and set(cover) <= {a, b}
    answers = {get(api, row[0], row[1])["grid"]["code"] for _ in range(5)}
    assert answers == {cover[0]}


def test_near_boundary_offers_the_neighbour(api: httpx.Client, conn: psycopg.Connection) -> None:
    a, b, line = shared_edge(conn)
    epsg = metric_epsg(line.coords[0][0])
    m = to_metric(line, epsg)
    mid = m.interpolate(0.5, normalized=True)
    ahead = m.interpolate(0.5 * m.length + 1.0)
    dx, dy = ahead.x - mid.x, ahead.y - mid.y
    norm = math.hypot(dx, dy)
    sides = [Point(mid.x - dy / norm * s * 10, mid.y + dx / norm * s * 10) for s in (1, -1)]
    points = [from_metric(p, epsg) for p in sides]
    inside_a = [p for p in points if covering(conn, p.x, p.y) == [a]]
    assert len(inside_a) == 1
    p = inside_a[0]
    body = get(api, p.x, p.y)
    assert body["grid"]["code"] == a and body["near_boundary"] is True
    assert body["boundary_distance_m"] == pytest.approx(10.0, abs=0.5)
    near = {n["grid"]["code"]: n for n in body["neighbours"]}
    assert b in near
    assert sorted((c["role"], c["name"]) for c in near[b]["contacts"]) == \
        sorted(published_contacts(conn, b))
    expected = {r[0] for r in conn.execute(
        f"SELECT code FROM ({ACTIVE}) g WHERE code <> %s AND ST_DWithin(g.geom::geography, "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 30)", (a, p.x, p.y)).fetchall()}
    assert set(near) == expected


def test_point_in_a_building_returns_it_and_its_masked_head(api: httpx.Client,
                                                           conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT b.address, c.name, b.households, p.name, p.phone, "
        "ST_X(ST_PointOnSurface(b.footprint)), ST_Y(ST_PointOnSurface(b.footprint)) "
        "FROM buildings b JOIN compounds c ON c.id = b.compound_id "
        "JOIN role_assignments r ON r.building_id = b.id AND r.role = 'building_head' "
        "AND r.published AND r.work_phone IS NULL JOIN people p ON p.id = r.person_id "
        "WHERE p.phone IS NOT NULL ORDER BY b.id LIMIT 1").fetchone()
    assert row is not None
    address, compound, households, head, phone, lon, lat = row
    body = get(api, lon, lat)
    building = body["building"]
    assert building["address"] == address and building["compound"] == compound
    assert building["households"] == households
    assert building["head"]["name"] == head
    assert building["head"]["phone"] == mask_phone(phone) != phone
    assert building["head"]["phone_is_masked"] is True


def test_gcj02_and_bd09_give_the_same_grid(api: httpx.Client, conn: psycopg.Connection) -> None:
    code, lon, lat = interior(conn)
    for crs in ("gcj02", "bd09"):
        x, y = from_wgs84(lon, lat, crs)
        assert math.hypot(float(x) - lon, float(y) - lat) > 1e-4  # really shifted
        body = get(api, float(x), float(y), crs)
        assert body["grid"]["code"] == code
        assert body["point"]["lon"] == pytest.approx(lon, abs=1e-6)
        assert body["point"]["lat"] == pytest.approx(lat, abs=1e-6)
    assert get(api, lon, lat, "cgcs2000")["grid"]["code"] == code


def test_points_outside_are_404_with_a_message(api: httpx.Client,
                                               conn: psycopg.Connection) -> None:
    other = conn.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                         "FROM areas WHERE code = '450802'").fetchone()
    assert other is not None
    for lon, lat in [other, (116.397, 39.909)]:
        r = api.get("/api/v1/lookup", params={"lon": lon, "lat": lat})
        assert r.status_code == 404
        assert "is outside every community we serve" in r.json()["detail"]


@pytest.mark.parametrize(("params", "named"), [
    ({"lon": "abc", "lat": "27.73"}, "lon"),
    ({"lon": "109.2", "lat": "nan"}, "lat"),
    ({"lon": "109.2", "lat": "95"}, "lat"),
    ({"lon": "190", "lat": "27.7"}, "lon"),
    ({"lon": "27.73", "lat": "109.2"}, "swapped"),
    ({"lon": "2.35", "lat": "48.85"}, "outside China"),
    ({"lon": "109.2", "lat": "27.73", "crs": "mars"}, "crs"),
    ({"lon": "109.2"}, "lat"),
])
def test_bad_input_is_422_naming_the_parameter(api: httpx.Client, params: dict[str, str],
                                               named: str) -> None:
    r = api.get("/api/v1/lookup", params=params)
    assert r.status_code == 422
    assert named in r.json()["detail"]


def test_no_unmasked_mobile_anywhere_and_no_unpublished_people(api: httpx.Client,
                                                               conn: psycopg.Connection) -> None:
    points = conn.execute(
        f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM ({ACTIVE}) a) x "
        "UNION ALL SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(footprint) p "
        "FROM buildings ORDER BY id LIMIT 60) y").fetchall()
    hidden = {r[0] for r in conn.execute(
        "SELECT p.name FROM people p WHERE NOT EXISTS (SELECT 1 FROM role_assignments r "
        "WHERE r.person_id = p.id AND r.published)").fetchall()}
    seen: set[str] = set()
    for lon, lat in points:
        body = get(api, lon, lat)  # asserts no mobile number in the text
        for c in body["contacts"] + [c for n in body["neighbours"] for c in n["contacts"]]:
            seen.add(c["name"])
        head = (body["building"] or {}).get("head")
        if head:
            seen.add(head["name"])
    assert len(seen) > 100
    # Names can repeat between people; any name seen must belong to someone published.
    assert not (seen & hidden) - {r[0] for r in conn.execute(
        "SELECT p.name FROM people p JOIN role_assignments r ON r.person_id = p.id "
        "WHERE r.published").fetchall()}


def test_only_current_published_roles_are_shown(api: httpx.Client, demo_url: str,
                                                conn: psycopg.Connection) -> None:
    code, lon, lat = interior(conn)
    names = {"测试过期": ("2020-01-01", "2021-01-01", True), "测试未到": ("2999-01-01", None, True),
             "测试未公开": ("2020-01-01", None, False), "测试在岗": ("2020-01-01", None, True)}
    with psycopg.connect(demo_url, autocommit=True) as c:
        ids = []
        for name, (start, end, published) in names.items():
            pid = c.execute("INSERT INTO people (name, phone) VALUES (%s, '13900001111') "
                            "RETURNING id", (name,)).fetchone()[0]  # type: ignore[index]
            ids.append(pid)
            c.execute("INSERT INTO role_assignments (person_id, role, grid_id, valid_from, "
                      "valid_to, published) SELECT %s, 'grid_worker_part', g.id, %s, %s, %s "
                      f"FROM ({ACTIVE}) g WHERE g.code = %s", (pid, start, end, published, code))
    try:
        assert eventually(lambda: "测试在岗" in {c["name"] for c in get(api, lon, lat)["contacts"]})
        shown = {c["name"]: c for c in get(api, lon, lat)["contacts"]}
        assert shown["测试在岗"]["phone"] == "139****1111"
        assert not {"测试过期", "测试未到", "测试未公开"} & set(shown)
    finally:
        with psycopg.connect(demo_url, autocommit=True) as c:
            c.execute("DELETE FROM people WHERE id = ANY(%s)", (ids,))
    assert eventually(lambda: "测试在岗" not in {c["name"] for c in get(api, lon, lat)["contacts"]})


# -- the walk ---------------------------------------------------------------------------

def oracle(conn: psycopg.Connection, lon: float, lat: float) -> tuple[str, float]:
    """Nearest centre and walking metres by networkx, with snaps found by a full scan in
    metres (no index, no shortcut)."""
    graph: nx.Graph = nx.Graph()
    for s, t, length in conn.execute("SELECT source, target, length_m FROM walk_edges "
                                     "WHERE district_code = '520602'"):
        if not graph.has_edge(s, t) or graph[s][t]["weight"] > length:
            graph.add_edge(s, t, weight=length)

    def snap(x: float, y: float) -> tuple[int, int, int, float, float, float]:
        row = conn.execute(
            "SELECT id, source, target, length_m, ST_LineLocatePoint(geom, p), "
            "ST_Distance(geom::geography, p::geography) FROM walk_edges, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326) p WHERE district_code = '520602' "
            "ORDER BY 6, id LIMIT 1", (x, y)).fetchone()
        assert row is not None
        return row

    def attach(node: Any, s: tuple[int, int, int, float, float, float]) -> None:
        _, u, v, length, t, off = s
        graph.add_edge(node, u, weight=off + t * length)
        graph.add_edge(node, v, weight=off + (1 - t) * length)

    q = snap(lon, lat)
    attach("q", q)
    centres = conn.execute("SELECT name, ST_X(geom), ST_Y(geom) FROM facilities WHERE "
                           "category = 'party_service_center' AND community_code LIKE '520602%'")
    for name, x, y in centres.fetchall():
        s = snap(x, y)
        attach(("c", name), s)
        if s[0] == q[0]:
            graph.add_edge("q", ("c", name), weight=q[5] + s[5] + abs(q[4] - s[4]) * q[3])
    dist = nx.single_source_dijkstra_path_length(graph, "q", weight="weight")
    best = min(((d, n[1]) for n, d in dist.items() if isinstance(n, tuple) and n[0] == "c"))
    return best[1], best[0]


def route_m(coords: list[list[float]]) -> float:
    return sum(straight_m(*a, *b) for a, b in pairwise(coords))


def test_walk_equals_networkx_and_exceeds_the_straight_line(api: httpx.Client,
                                                            conn: psycopg.Connection) -> None:
    points = conn.execute(
        f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p, code FROM ({ACTIVE}) a "
        "ORDER BY md5(code) LIMIT 8) x").fetchall()
    for lon, lat in points:
        centre = get(api, lon, lat)["service_centre"]
        name, metres = oracle(conn, lon, lat)
        assert centre["walk_m"] == pytest.approx(metres, abs=1.0)
        assert centre["name"] == name
        assert centre["walk_m"] >= centre["straight_m"]
        route = centre["route"]["coordinates"]
        assert route[0] == pytest.approx([lon, lat], abs=1e-6)
        assert route[-1] == pytest.approx([centre["lon"], centre["lat"]], abs=1e-6)
        # Edge lengths are stored rounded; the drawn route measures the same walk to 1 %.
        assert route_m(route) == pytest.approx(centre["walk_m"], rel=0.01, abs=1.0)


def test_network_matches_networkx_on_a_random_graph() -> None:
    rng = np.random.default_rng(7)
    side = 12
    xy = {i * side + j: (float(j), float(i)) for i in range(side) for j in range(side)}
    pairs = [(a, a + 1) for a in xy if a % side < side - 1] + [(a, a + side) for a in xy
                                                                if a + side < side * side]
    keep = [p for p in pairs if rng.random() > 0.15]
    lengths = rng.uniform(1.0, 3.0, len(keep))
    coords = [np.array([xy[a], xy[b]]) for a, b in keep]
    edges = Edges(np.arange(1, len(keep) + 1), np.array([a for a, _ in keep]),
                  np.array([b for _, b in keep]), lengths, coords)
    sites = [Site(k, 0.0, 0.0, Snap(int(rng.integers(1, len(keep) + 1)), float(rng.random()),
                                    float(rng.uniform(0, 2)))) for k in range(5)]
    net = WalkNetwork(edges, sites)
    for _ in range(30):
        q = Snap(int(rng.integers(1, len(keep) + 1)), float(rng.random()), float(rng.random()))
        walk = net.nearest(q, 0.0, 0.0)
        g: nx.Graph = nx.Graph()
        for (a, b), w in zip(keep, lengths, strict=True):
            g.add_edge(a, b, weight=w)
        for node, s in [("q", q), *[(("s", k), site.snap) for k, site in enumerate(sites)]]:
            assert s is not None
            a, b = keep[s.edge_id - 1]
            w = lengths[s.edge_id - 1]
            g.add_edge(node, a, weight=s.offset_m + s.fraction * w)
            g.add_edge(node, b, weight=s.offset_m + (1 - s.fraction) * w)
            if node != "q" and s.edge_id == q.edge_id:
                g.add_edge("q", node, weight=q.offset_m + s.offset_m
                           + abs(q.fraction - s.fraction) * w)
        d = nx.single_source_dijkstra_path_length(g, "q")
        reachable = [d[("s", k)] for k in range(5) if ("s", k) in d]
        if not reachable:
            assert walk is None
            continue
        assert walk is not None
        assert walk.distance_m == pytest.approx(min(reachable), abs=1e-9)
        assert LineString(walk.route).is_valid


def test_an_edit_reaches_the_running_service(api: httpx.Client, demo_url: str,
                                             conn: psycopg.Connection) -> None:
    """A new 党群服务中心 written straight into the database (as an import would) shows in the
    next lookups; deleting it brings the old answer back."""
    _, lon, lat = interior(conn)

    def nearest() -> str:
        return str(get(api, lon, lat)["service_centre"]["name"])

    before = nearest()
    with psycopg.connect(demo_url, autocommit=True) as c:
        fid = c.execute("INSERT INTO facilities (category, name, community_code, geom) VALUES "
                        "('party_service_center', '测试新建党群服务中心', '520602001001', "
                        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
                        (lon, lat)).fetchone()[0]  # type: ignore[index]
    try:
        assert eventually(lambda: nearest() == "测试新建党群服务中心")
    finally:
        with psycopg.connect(demo_url, autocommit=True) as c:
            c.execute("DELETE FROM facilities WHERE id = %s", (fid,))
    assert eventually(lambda: nearest() == before)


def test_without_a_network_the_straight_line_nearest_centre_is_given() -> None:
    empty = Edges(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                  np.zeros(0), [])
    frame = Frame.of((109.1, 27.6, 109.4, 27.9))
    centres = [(1, "远", None, None, 109.30, 27.73), (2, "近", None, None, 109.21, 27.73)]
    network = Network.build(empty, centres, frame)
    assert network.network is None
    centre = json.loads(service_centre(network, None, 109.20, 27.73, 4.0))
    assert centre["name"] == "近"
    assert centre["straight_m"] == pytest.approx(985.7, abs=5)  # 0.01° of longitude at 27.73°N
    assert centre["walk_m"] is None and centre["walk_minutes"] is None and centre["route"] is None
    nothing = Network.build(empty, [], frame)
    assert json.loads(service_centre(nothing, None, 109.2, 27.73, 4.0)) is None


def test_the_frame_measures_within_its_slack() -> None:
    box = (108.9, 27.2, 109.6, 28.0)
    frame = Frame.of(box)
    assert 0 < frame.slack < 0.01
    rng = np.random.default_rng(3)
    lon = rng.uniform(box[0], box[2], 200)
    lat = rng.uniform(box[1], box[3], 200)
    bearing = rng.uniform(0, 360, 200)
    far = np.array(pyproj.Geod(ellps="WGS84").fwd(lon, lat, bearing, np.full(200, 40.0))[:2]).T
    near = np.column_stack((lon, lat))
    measured = shapely.distance(frame.points(near), frame.points(far))
    assert np.all(np.abs(measured / 40.0 - 1.0) <= frame.slack)


def test_a_short_vector_measured_at_its_place_matches_the_geodesic() -> None:
    """Near-boundary distances: the frame's vector, re-scaled at the point's latitude, is
    within a tenth of a millimetre of the WGS84 geodesic at 40 m, anywhere in a box
    ten times a district's height (where the frame alone is off by up to its slack)."""
    box = (108.9, 27.2, 109.6, 28.0)
    frame = Frame.of(box)
    rng = np.random.default_rng(5)
    lon = rng.uniform(box[0], box[2], 300)
    lat = rng.uniform(box[1], box[3], 300)
    bearing = rng.uniform(0, 360, 300)
    far = np.array(pyproj.Geod(ellps="WGS84").fwd(lon, lat, bearing, np.full(300, 40.0))[:2]).T
    vectors = (far - np.column_stack((lon, lat))) * frame.scale
    lengths = [frame.length(dx, dy, y) for (dx, dy), y in zip(vectors, lat, strict=True)]
    assert np.max(np.abs(np.array(lengths) - 40.0)) < 1e-4
    plain = np.hypot(vectors[:, 0], vectors[:, 1])
    assert np.max(np.abs(plain - 40.0)) > 1e-3  # the correction matters here
