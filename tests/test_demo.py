"""The demo city's invariants, checked in PostGIS on the loaded city (metric measures)."""

from __future__ import annotations

import numpy as np
import psycopg
import pyproj
import pytest

from geo.boundaries import district
from geo.crs import metric_epsg, to_metric
from geo.demo.city import build_city
from geo.demo.load import CENTER, DISTRICT, load_demo
from geo.errors import InvalidInput

UNIFIED = ("SELECT g.* FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
           "WHERE l.theme = 'unified' AND l.status = 'active'")


def one(conn: psycopg.Connection, q: str, *args: object) -> object:
    row = conn.execute(q, args or None).fetchone()
    assert row is not None
    return row[0]


def test_counts_follow_seed_003(conn: psycopg.Connection) -> None:
    assert one(conn, "SELECT count(*) FROM areas WHERE level = 'street'") == 7
    assert one(conn, "SELECT count(*) FROM areas WHERE level = 'community'") == 43
    assert one(conn, f"SELECT count(*) FROM ({UNIFIED}) u") == 197
    assert one(conn, f"SELECT count(*) FROM ({UNIFIED}) u WHERE kind = 'dedicated'") == 5
    roles = dict(conn.execute("SELECT role, count(DISTINCT person_id) FROM role_assignments "
                              "GROUP BY role").fetchall())
    assert roles["grid_worker_full"] == 100
    assert roles["grid_worker_part"] == 1060
    assert 7500 <= roles["volunteer"] <= 8500
    in_service = one(conn, "SELECT count(*) FROM people WHERE party_status = 'in_service'")
    assert 5400 <= in_service <= 5700  # type: ignore[operator]
    centres = one(conn, "SELECT count(*) FROM facilities WHERE category = 'party_service_center'")
    assert centres == 28
    assert one(conn, "SELECT count(*) FROM co_units") == 46 + 111 + 128 + 36 + 13 + 78
    assert one(conn, "SELECT count(*) FROM role_assignments WHERE role = 'committee_member'") == 116


def test_building_heads_on_most_buildings(conn: psycopg.Connection) -> None:
    share = one(conn, "SELECT avg((EXISTS (SELECT 1 FROM role_assignments r WHERE r.building_id "
                      "= b.id AND r.role = 'building_head'))::int) FROM buildings b")
    assert 0.8 < float(share) < 1.0  # type: ignore[arg-type]


def test_areas_nest_inside_the_real_district(conn: psycopg.Connection) -> None:
    assert one(conn, "SELECT count(*) FROM areas c JOIN areas p ON p.code = c.parent_code "
                     "WHERE c.parent_code LIKE '520602%' AND NOT ST_Covers(p.geom, c.geom)") == 0
    assert one(conn, f"SELECT count(*) FROM ({UNIFIED}) g JOIN areas a ON a.code = "
                     "g.community_code WHERE NOT ST_Covers(a.geom, g.geom)") == 0
    assert one(conn, f"SELECT count(*) FROM ({UNIFIED}) g WHERE left(code, 12) <> community_code "
                     "OR code !~ '^[0-9]{15}$'") == 0


def test_grids_cover_communities_without_gap_or_overlap(conn: psycopg.Connection) -> None:
    epsg = metric_epsg(CENTER[0])
    overlap = one(conn, f"WITH u AS ({UNIFIED}) SELECT coalesce(sum(ST_Area(ST_Transform("
                        "ST_Intersection(a.geom, b.geom), %s))), 0) FROM u a JOIN u b ON "
                        "a.id < b.id AND ST_Intersects(a.geom, b.geom)", epsg)
    gap = one(conn, f"SELECT ST_Area(ST_Transform(ST_SymDifference((SELECT ST_Union(geom) FROM "
                    f"areas WHERE level = 'community'), (SELECT ST_Union(geom) FROM ({UNIFIED}) u)"
                    "), %s))", epsg)
    assert float(overlap) < 1.0  # m²  # type: ignore[arg-type]
    assert float(gap) < 1.0  # type: ignore[arg-type]


def test_most_grids_hold_300_to_500_households(conn: psycopg.Connection) -> None:
    hh = np.array([r[0] for r in conn.execute(
        f"SELECT households FROM ({UNIFIED}) u WHERE kind = 'base'")])
    inside = ((hh >= 300) & (hh <= 500)).mean()
    assert 0.75 <= inside < 1.0, inside
    assert one(conn, "SELECT sum(households) FROM buildings WHERE community_code LIKE '520602%'") \
        == one(conn, "SELECT households FROM areas WHERE code = '520602'")


def test_buildings_lie_in_their_grid(conn: psycopg.Connection) -> None:
    assert one(conn, "SELECT count(*) FROM buildings b JOIN grids g ON g.id = b.grid_id "
                     "WHERE NOT ST_Covers(g.geom, b.footprint)") == 0
    assert one(conn, "SELECT count(*) FROM buildings WHERE grid_id IS NULL") == 0


def test_grid_numbers_run_west_to_east_then_north_to_south(conn: psycopg.Connection) -> None:
    """Inside a community, sequence numbers follow reading order: north to south in bands of
    300 m, west to east inside a band (measured in the Gauss-Krüger zone, not in degrees)."""
    epsg = metric_epsg(CENTER[0])
    rows = conn.execute(
        f"SELECT community_code, code, ST_X(c), ST_Y(c) FROM (SELECT community_code, code, "
        f"ST_Transform(ST_Centroid(geom), %s) c FROM ({UNIFIED}) u) t ORDER BY code",
        (epsg,)).fetchall()
    by_comm: dict[str, list[tuple[float, float]]] = {}
    for comm, _code, x, y in rows:
        by_comm.setdefault(comm, []).append((x, y))
    assert len(by_comm) == 43
    for comm, pts in by_comm.items():
        top = max(y for _, y in pts)
        keys = [(int((top - y) // 300.0), x) for x, y in pts]
        assert keys == sorted(keys), f"{comm}: grids are not numbered in reading order"


def test_departmental_layers_disagree_with_the_unified_grids(conn: psycopg.Connection) -> None:
    themes = dict(conn.execute("SELECT l.theme, count(*) FROM grids g JOIN grid_layers l ON "
                               "l.id = g.layer_id GROUP BY 1").fetchall())
    assert {"综治", "城管", "应急"} <= set(themes)
    crossing = one(conn, "SELECT count(DISTINCT g.id) FROM grids g JOIN grid_layers l ON l.id = "
                         "g.layer_id JOIN areas a ON a.level = 'community' AND ST_Intersects("
                         "a.geom, g.geom) AND ST_Area(ST_Intersection(a.geom, g.geom)::geography)"
                         " > 1000 WHERE l.theme = '综治' GROUP BY g.id HAVING count(*) > 1 "
                         "LIMIT 1")
    assert crossing == 1


def test_walk_network_is_one_connected_piece(conn: psycopg.Connection) -> None:
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    edges = np.array(conn.execute("SELECT source, target FROM walk_edges").fetchall())
    ids = np.unique(edges)
    idx = np.searchsorted(ids, edges)
    graph = sp.coo_matrix((np.ones(len(idx)), (idx[:, 0], idx[:, 1])), (len(ids), len(ids)))
    n, _ = connected_components(graph, directed=False)
    assert n == 1
    assert one(conn, "SELECT count(*) FROM walk_edges WHERE abs(length_m - "
                     "ST_Length(geom::geography)) > 0.5") == 0


def test_same_seed_same_city() -> None:
    d = district(DISTRICT)
    epsg = metric_epsg(CENTER[0])
    centre = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*CENTER)
    a = build_city(np.random.default_rng(7), DISTRICT, to_metric(d.geom, epsg), centre, epsg, 1)
    b = build_city(np.random.default_rng(7), DISTRICT, to_metric(d.geom, epsg), centre, epsg, 1)
    assert [g.code for g in a.grids] == [g.code for g in b.grids]
    assert all(x.geom.equals_exact(y.geom, 0) for x, y in zip(a.grids, b.grids, strict=True))
    assert [x.address for x in a.buildings] == [x.address for x in b.buildings]


def test_loading_twice_is_refused_and_changes_nothing(conn: psycopg.Connection) -> None:
    before = one(conn, "SELECT count(*) FROM buildings")
    with pytest.raises(InvalidInput, match="already loaded"):
        load_demo(conn, progress=False)
    assert one(conn, "SELECT count(*) FROM buildings") == before


def test_loading_the_demo_is_audited(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT actor, object_id, detail FROM audit_log "
                       "WHERE action = 'demo.load'").fetchall()
    assert len(row) == 1
    assert row[0][1] == DISTRICT and row[0][2]["grids"] == 197
