"""OSM import: a small extract written with pyosmium, imported into the real PostGIS."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import osmium
import osmium.osm.mutable as mut
import psycopg
import pyproj
import pytest
import shapely

from geo.errors import ImportRejected, InvalidInput
from geo.importers.osm import import_osm, parse_bbox
from geo.importers.osm_read import classify_poi

ROOT = Path(__file__).resolve().parent.parent
GEOD = pyproj.Geod(ellps="WGS84")

# A little street grid near 碧江区 (lon 109.19, lat 27.72).
NODES: dict[int, tuple[float, float]] = {
    # 锦江路 runs west→east through 1-2-13-3-4; the motorway crosses it at 13.
    1: (109.1900, 27.7200), 2: (109.1910, 27.7200), 13: (109.1915, 27.7200),
    3: (109.1920, 27.7200), 4: (109.1930, 27.7200),
    5: (109.1910, 27.7190), 6: (109.1910, 27.7210),  # 清水塘路, crossing at 2
    7: (109.1920, 27.7190), 8: (109.1920, 27.7210),  # a second cross street at 3
    9: (109.1915, 27.7212),  # footway vertex between 6 and 8
    10: (109.1915, 27.7180), 11: (109.1915, 27.7220),  # motorway ends
    23: (109.1895, 27.7195),  # private service road end
    31: (109.1935, 27.7195), 32: (109.1940, 27.7200), 33: (109.1935, 27.7205),  # loop at 4
    20: (109.1950, 27.7250), 21: (109.1955, 27.7252), 22: (109.1960, 27.7250),  # island path
    # building corners
    40: (109.1902, 27.7202), 41: (109.1906, 27.7202), 42: (109.1906, 27.7206),
    43: (109.1902, 27.7206),
    44: (109.1912, 27.7202), 45: (109.1916, 27.7206), 46: (109.1916, 27.7202),
    47: (109.1912, 27.7206),  # a bow tie: 44-45-46-47 crosses itself
    50: (109.1922, 27.7202), 51: (109.1928, 27.7202), 52: (109.1928, 27.7208),
    53: (109.1922, 27.7208),
    54: (109.1924, 27.7204), 55: (109.1926, 27.7204), 56: (109.1926, 27.7206),
    57: (109.1924, 27.7206),  # courtyard of the multipolygon
    60: (109.1902, 27.7192), 61: (109.1906, 27.7192), 62: (109.1906, 27.7196),
    63: (109.1902, 27.7196),
}
POIS: dict[int, tuple[tuple[float, float], dict[str, str]]] = {
    101: ((109.1903, 27.7199), {"shop": "convenience", "name": "便利蜂", "opening_hours": "24/7",
                                "phone": "+86 856 5551234"}),
    102: ((109.1911, 27.7199), {"amenity": "pharmacy", "name": "老百姓大药房"}),
    103: ((109.1921, 27.7199), {"amenity": "marketplace", "name": "清水塘农贸市场"}),
    104: ((109.1925, 27.7199), {"amenity": "kindergarten", "name": "阳光幼儿园"}),
    105: ((109.1908, 27.7199), {"shop": "electronics", "name": "数码城"}),
    106: ((109.1913, 27.7199), {"amenity": "community_centre", "name": "清水塘社区党群服务中心"}),
    107: ((109.1917, 27.7199), {"amenity": "community_centre", "name": "老年活动室"}),
    108: ((109.1918, 27.7199), {"amenity": "fast_food", "cuisine": "breakfast;noodle"}),
}
WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (100, [1, 2, 13, 3, 4], {"highway": "residential", "name": "锦江路"}),
    (101, [5, 2, 6], {"highway": "residential", "name": "清水塘路"}),
    (102, [7, 3, 8], {"highway": "residential"}),
    (103, [6, 9, 8], {"highway": "footway"}),
    (104, [10, 13, 11], {"highway": "motorway", "name": "沪昆高速"}),
    (106, [1, 23], {"highway": "service", "access": "private"}),
    (107, [4, 31, 32, 33, 4], {"highway": "footway"}),
    (105, [20, 21, 22], {"highway": "path"}),
    (200, [40, 41, 42, 43, 40], {"building": "residential", "addr:street": "锦江路",
                                 "addr:housenumber": "18", "building:levels": "6",
                                 "building:flats": "24"}),
    (201, [44, 45, 46, 47, 44], {"building": "yes"}),
    (301, [50, 51, 52, 53, 50], {}),
    (302, [54, 55, 56, 57, 54], {}),
    (203, [60, 61, 62, 63, 60], {"building": "retail", "shop": "supermarket",
                                 "name": "惠民超市"}),
]
RELATIONS = [
    (300, [("w", 301, "outer"), ("w", 302, "inner")],
     {"type": "multipolygon", "building": "apartments", "name": "阳光花园1栋"}),
]

# (source, target) → vertices of the expected edge, after splitting at junctions.
EXPECTED_EDGES: dict[tuple[int, int], list[int]] = {
    (1, 2): [1, 2], (2, 3): [2, 13, 3], (3, 4): [3, 4],
    (5, 2): [5, 2], (2, 6): [2, 6],
    (7, 3): [7, 3], (3, 8): [3, 8],
    (6, 8): [6, 9, 8],
    (4, 32): [4, 31, 32], (32, 4): [32, 33, 4],  # the loop, split at its middle vertex
    (20, 22): [20, 21, 22],
}
TABLES = ("walk_nodes", "walk_edges", "buildings", "facilities")


def write_extract(path: Path) -> Path:
    writer = osmium.SimpleWriter(str(path))
    try:
        points = {**NODES, **{nid: xy for nid, (xy, _) in POIS.items()}}
        for nid in sorted(points):
            tags = POIS[nid][1] if nid in POIS else {}
            writer.add_node(mut.Node(id=nid, location=points[nid], tags=tags, version=1))
        for wid, refs, tags in sorted(WAYS):
            writer.add_way(mut.Way(id=wid, nodes=refs, tags=tags, version=1))
        for rid, members, tags in RELATIONS:
            writer.add_relation(mut.Relation(id=rid, members=members, tags=tags, version=1))
    finally:
        writer.close()
    return path


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "bijiang.osm.pbf")


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: n for t in TABLES for (n,) in conn.execute(f"SELECT count(*) FROM {t}")}


def test_walk_network_is_split_at_junctions(db_conn: psycopg.Connection, extract: Path) -> None:
    result = import_osm(db_conn, extract)
    assert (result.nodes, result.edges) == (11, len(EXPECTED_EDGES))
    rows = db_conn.execute(
        "SELECT source, target, length_m, highway, name, ST_AsBinary(geom) FROM walk_edges"
    ).fetchall()
    got = {(r[0], r[1]): r for r in rows}
    assert set(got) == set(EXPECTED_EDGES)
    for key, vertices in EXPECTED_EDGES.items():
        line = shapely.from_wkb(bytes(got[key][5]))
        assert shapely.get_coordinates(line).ravel().tolist() == pytest.approx(
            [c for v in vertices for c in NODES[v]], abs=1e-7)
        lons, lats = zip(*(NODES[v] for v in vertices), strict=True)
        expected = GEOD.line_length(lons, lats)
        assert got[key][2] == pytest.approx(expected, rel=0.01)
    assert 95 < got[(1, 2)][2] < 100  # 0.001° of longitude at 27.72°N, in metres
    assert got[(2, 3)][3:5] == ("residential", "锦江路")
    node_ids = {r[0] for r in db_conn.execute("SELECT id FROM walk_nodes")}
    assert node_ids == {1, 2, 3, 4, 5, 6, 7, 8, 32, 20, 22}
    assert not {10, 11, 13, 23} & node_ids  # motorway and private road are not walkable
    assert db_conn.execute("SELECT count(*) FROM walk_edges WHERE highway = 'motorway'"
                           ).fetchone() == (0,)


def test_import_is_audited_once(db_conn: psycopg.Connection, extract: Path) -> None:
    result = import_osm(db_conn, extract, actor="cli:planner")
    ((actor, kind, object_id, detail),) = db_conn.execute(
        "SELECT actor, object_type, object_id, detail FROM audit_log WHERE action = 'import.osm'"
    ).fetchall()
    assert (actor, kind, object_id) == ("cli:planner", "osm", None)
    assert detail == {
        "file": "bijiang.osm.pbf", "count": 11 + len(EXPECTED_EDGES) + 4 + 7, "crs": "wgs84",
        "repaired": 1, "nodes": result.nodes, "edges": result.edges, "buildings": 4,
        "facilities": 7, "district": None, "bbox": None}


def test_disconnected_component_is_reported(db_conn: psycopg.Connection, extract: Path) -> None:
    result = import_osm(db_conn, extract)
    assert len(result.disconnected) == 1
    island = result.disconnected[0]
    assert (island.nodes, island.edges) == (2, 1)
    assert island.node_id in (20, 22)


def test_buildings(db_conn: psycopg.Connection, extract: Path) -> None:
    result = import_osm(db_conn, extract)
    assert result.buildings == 4
    rows = db_conn.execute(
        "SELECT source_id, address, name, households, floors, ST_IsValid(footprint), "
        "ST_Covers(footprint, geom), ST_NumInteriorRings(footprint) FROM buildings "
        "WHERE source = 'osm'"
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == {"w200", "w201", "r300", "w203"}
    assert got["w200"][:4] == ("锦江路18号", None, 24, 6)
    assert got["w201"][:4] == ("OSM way 201", None, 0, None)
    assert got["r300"][:2] == ("阳光花园1栋", "阳光花园1栋")
    assert got["r300"][6] == 1  # the courtyard is a hole
    assert all(r[4] and r[5] for r in got.values())  # valid, point on the footprint
    assert any(n.where == "way 201" and "repaired" in n.what for n in result.notes)


def test_facilities_get_our_categories(db_conn: psycopg.Connection, extract: Path) -> None:
    result = import_osm(db_conn, extract)
    rows = db_conn.execute(
        "SELECT source_id, category, name, opening_hours, phone FROM facilities "
        "WHERE source = 'osm'"
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert {k: v[0] for k, v in got.items()} == {
        "n101": "convenience_store", "n102": "pharmacy", "n103": "market",
        "n104": "kindergarten", "n106": "party_service_center", "n108": "breakfast",
        "w203": "supermarket",
    }
    assert result.facilities == 7
    assert got["n101"][1:] == ("便利蜂", "24/7", "+86 856 5551234")
    assert got["n108"][1] == "早餐店"  # unnamed: the category's name stands in
    assert classify_poi({"shop": "electronics"}) is None


def test_reimport_is_idempotent(db_conn: psycopg.Connection, extract: Path) -> None:
    first = import_osm(db_conn, extract)
    before = counts(db_conn)
    ids = db_conn.execute("SELECT source_id, id FROM buildings ORDER BY 1").fetchall()
    second = import_osm(db_conn, extract)
    assert counts(db_conn) == before
    assert db_conn.execute("SELECT source_id, id FROM buildings ORDER BY 1").fetchall() == ids
    assert (second.nodes, second.edges, second.buildings, second.facilities) == (
        first.nodes, first.edges, first.buildings, first.facilities)


def test_bbox_keeps_only_what_is_inside(db_conn: psycopg.Connection, extract: Path) -> None:
    result = import_osm(db_conn, extract, bbox=parse_bbox("109.1945,27.7245,109.197,27.726"))
    assert (result.nodes, result.edges, result.buildings, result.facilities) == (2, 1, 0, 0)
    with pytest.raises(InvalidInput, match="bbox"):
        parse_bbox("27.72,109.19,27.73,109.20")
    assert parse_bbox(" 109.1945 27.7245 109.197 27.726 ") == (109.1945, 27.7245, 109.197, 27.726)
    again = import_osm(db_conn, extract, bbox=(109.1945, 27.7245, 109.197, 27.726))
    assert (again.nodes, again.edges) == (2, 1)
    with pytest.raises(InvalidInput, match="expected four numbers"):
        import_osm(db_conn, extract, bbox=(109.19, 27.72, 109.2))


def test_district_clip(db_conn: psycopg.Connection, extract: Path) -> None:
    with pytest.raises(InvalidInput, match="520602"):
        import_osm(db_conn, extract, district_code="520602")
    db_conn.execute(
        "INSERT INTO areas (code, name, level, geom) VALUES ('520602', '碧江区', 'district', "
        "ST_Multi(ST_MakeEnvelope(109.1890, 27.7150, 109.1909, 27.7300, 4326)))"
    )
    result = import_osm(db_conn, extract, district_code="520602")
    # Only 锦江路's first block (1→2) reaches into the western strip; it is kept whole.
    assert (result.nodes, result.edges) == (2, 1)
    assert result.buildings == 2 and result.facilities == 2  # w200, w203; n101, w203
    codes = db_conn.execute("SELECT DISTINCT district_code FROM walk_edges").fetchall()
    assert codes == [("520602",)]


def test_garbage_file_is_rejected(db_conn: psycopg.Connection, tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a protocol buffer\n" * 20)
    before = counts(db_conn), db_conn.execute("SELECT count(*) FROM audit_log").fetchone()
    with pytest.raises(ImportRejected) as err:
        import_osm(db_conn, bad)
    assert "broken.osm.pbf" in str(err.value)
    assert (counts(db_conn), db_conn.execute("SELECT count(*) FROM audit_log").fetchone()) == before


def test_cli_rejects_garbage_without_traceback(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.osm.pbf"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    env = {**os.environ, "GRIDGOV_DATABASE_URL": db_url}
    done = subprocess.run([str(ROOT / ".venv/bin/gridgov"), "import", "osm", str(bad)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "garbage.osm.pbf" in done.stderr
    assert "not a readable OSM file" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
