"""Vector tiles over real HTTP, decoded with mapbox-vector-tile and checked against SQL."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg
import pytest

from geo.settings import Settings
from tests.conftest import eventually, serve
from tiles.registry import LAYERS

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PERSONAL = {"reporter_name", "reporter_phone", "description", "person_id", "phone_personal",
            "home_unit", "party_status", "receipt_code"}


@pytest.fixture(scope="module")
def api(test_settings: Settings) -> Iterator[httpx.Client]:
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def decode(api: httpx.Client, layer: str, zxy: tuple[int, int, int], **params: Any
           ) -> dict[str, Any]:
    r = api.get(f"/tiles/{layer}/{zxy[0]}/{zxy[1]}/{zxy[2]}.mvt", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(r.content) if r.content else {}


def centre(conn: psycopg.Connection) -> tuple[float, float]:
    row = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(footprint)::"
                       "geometry) c FROM buildings) x").fetchone()
    assert row is not None
    return row[0], row[1]


def in_tile(conn: psycopg.Connection, sql: str, zxy: tuple[int, int, int]) -> set[Any]:
    """Keys of rows whose Web Mercator geometry meets the tile with its 64-pixel buffer
    (what the tile must hold: neighbours' edges are kept so that fills and lines join)."""
    tile = "ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096)"
    return {r[0] for r in conn.execute(sql.replace("TILE", tile), zxy).fetchall()}


def test_grid_tile_holds_exactly_the_grids_that_meet_it(api: httpx.Client,
                                                        conn: psycopg.Connection) -> None:
    zxy = tile_of(*centre(conn), 15)
    layer = decode(api, "grids", zxy)["grids"]
    codes = {f["properties"]["code"] for f in layer["features"]}
    expected = in_tile(conn, "SELECT g.code FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
                       "WHERE l.theme = 'unified' AND l.status = 'active' AND "
                       "ST_Intersects(g.geom_3857, TILE)", zxy)
    assert codes == expected and len(codes) >= 2
    props = layer["features"][0]["properties"]
    assert {"code", "name", "kind", "households", "theme", "generation"} <= set(props)
    assert set(props) <= set(LAYERS["grids"].fields)
    assert layer["extent"] == 4096


def test_every_layer_decodes_with_its_fields_and_no_personal_data(
        api: httpx.Client, conn: psycopg.Connection) -> None:
    lon, lat = centre(conn)
    for name, layer in LAYERS.items():
        zxy = tile_of(lon, lat, max(layer.minzoom, 14))
        decoded = decode(api, name, zxy)
        assert list(decoded) == [name], name
        features = decoded[name]["features"]
        assert features, name
        keys = set().union(*(f["properties"] for f in features))
        assert keys <= set(layer.fields), (name, keys - set(layer.fields))
        assert not keys & PERSONAL
        assert not MOBILE.search(str(features)), name


def test_buildings_carry_indicators_and_appear_from_z14(api: httpx.Client,
                                                        conn: psycopg.Connection) -> None:
    lon, lat = centre(conn)
    assert decode(api, "buildings", tile_of(lon, lat, 13)) == {}
    zxy = tile_of(lon, lat, 16)
    features = decode(api, "buildings", zxy)["buildings"]["features"]
    expected = in_tile(conn, "SELECT id FROM buildings WHERE ST_Intersects(footprint_3857, TILE)",
                       zxy)
    assert {f["properties"]["id"] for f in features} == expected
    heads = dict(conn.execute(
        "SELECT b.id, EXISTS (SELECT 1 FROM role_assignments r WHERE r.building_id = b.id AND "
        "r.role = 'building_head' AND r.published) FROM buildings b WHERE b.id = ANY(%s)",
        (list(expected),)).fetchall())
    for f in features:
        p = f["properties"]
        assert p["has_head"] == heads[p["id"]]
        assert p["households"] >= 0 and p["grid_code"].startswith(p["community_code"])


def test_issue_counts_are_suppressed_below_k_for_the_public_only(
        api: httpx.Client, conn: psycopg.Connection, accounts: dict[str, dict[str, str]],
        test_settings: Settings) -> None:
    zxy = tile_of(*centre(conn), 15)
    headers = {k: v for k, v in accounts["admin"].items() if k not in ("scope", "username")}

    def counts(h: dict[str, str]) -> list[int]:
        r = api.get(f"/tiles/issues/{zxy[0]}/{zxy[1]}/{zxy[2]}.mvt", headers=h)
        assert r.headers["cache-control"].startswith("private")
        return [f["properties"]["issues"] for f in
                mapbox_vector_tile.decode(r.content)["issues"]["features"]]

    public, staff = counts({}), counts(headers)
    k = test_settings.k_anonymity
    assert public and min(public) >= k
    assert min(staff) < k  # small cells exist, and only staff see them
    assert sorted(public) == sorted(c for c in staff if c >= k)
    total = conn.execute("SELECT count(*) FROM resident_issues WHERE ST_Intersects(geom_3857, "
                         "ST_TileEnvelope(%s, %s, %s))", zxy).fetchone()
    assert total is not None and sum(staff) == total[0]


def test_bad_layer_and_coordinates_are_404_with_a_message(api: httpx.Client) -> None:
    r = api.get("/tiles/people/14/0/0.mvt")
    assert r.status_code == 404 and "no tile layer 'people'" in r.json()["detail"]
    for path in ("/tiles/grids/3/8/0.mvt", "/tiles/grids/23/0/0.mvt", "/tiles/grids/2/0/4.mvt"):
        r = api.get(path)
        assert r.status_code == 404 and "no tile" in r.json()["detail"], path
    assert api.get("/tiles/grids;DROP TABLE grids/1/0/0.mvt").status_code == 404
    assert api.get("/tiles/grids/1/0/0.mvt", params={"theme": "x' OR '1'='1"}).content == b""


def test_tilejson_and_style(api: httpx.Client) -> None:
    tj = api.get("/tiles/grids.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["vector_layers"][0]["id"] == "grids"
    assert re.search(r"/tiles/grids/\{z\}/\{x\}/\{y\}\.mvt\?v=[0-9a-f]+-\d+&theme=unified$",
                     tj["tiles"][0])
    w, s, e, n = tj["bounds"]
    assert 109 < w < e < 110 and 27 < s < n < 28
    style = api.get("/tiles/style.json").json()
    assert style["version"] == 8 and set(style["sources"]) == set(LAYERS)
    for spec in style["layers"][1:]:
        assert spec["source-layer"] in LAYERS
        assert api.get(style["sources"][spec["source"]]["url"]).status_code == 200


def test_gzip_etag_and_cache_headers(api: httpx.Client, conn: psycopg.Connection) -> None:
    zxy = tile_of(*centre(conn), 14)
    url = f"/tiles/walk/{zxy[0]}/{zxy[1]}/{zxy[2]}.mvt"
    version = api.get("/tiles/walk.json").json()["version"]
    plain = api.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    raw = httpx.get(str(api.base_url) + url, headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == plain.content  # httpx undid the gzip
    assert int(raw.headers["content-length"]) < len(plain.content)
    assert plain.headers["cache-control"] == "public, no-cache"
    again = api.get(url, headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    kept = api.get(url, params={"v": version})
    assert kept.headers["cache-control"] == "public, max-age=86400"


def test_edits_never_show_stale_tiles(api: httpx.Client, conn: psycopg.Connection,
                                      demo_url: str, accounts: dict[str, dict[str, str]]) -> None:
    lon, lat = centre(conn)
    zxy = tile_of(lon, lat, 15)

    def names(layer: str) -> set[str]:
        return {f["properties"].get("name") for f in decode(api, layer, zxy)[layer]["features"]}

    # A facility made through our API shows in the very next tile (this process knows).
    before = api.get("/tiles/facilities.json").json()["version"]
    names("facilities")  # cached now
    headers = {k: v for k, v in accounts["admin"].items() if k not in ("scope", "username")}
    r = api.post("/api/v1/facilities", headers=headers, json={
        "category": "convenience_store", "name": "测试瓦片便利店",
        "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    assert r.status_code == 201, r.text
    try:
        assert "测试瓦片便利店" in names("facilities")
        assert api.get("/tiles/facilities.json").json()["version"] != before
    finally:
        api.delete(f"/api/v1/facilities/{r.json()['id']}", headers=headers)
    assert "测试瓦片便利店" not in names("facilities")
    # A grid renamed straight in the database (an import, another process) follows its
    # notification.
    code = sorted(names("grids") - {None})[0]
    with psycopg.connect(demo_url, autocommit=True) as c:
        c.execute("UPDATE grids SET name = name || '（改）' WHERE name = %s", (code,))
    try:
        assert eventually(lambda: f"{code}（改）" in names("grids"))
    finally:
        with psycopg.connect(demo_url, autocommit=True) as c:
            c.execute("UPDATE grids SET name = %s WHERE name = %s", (code, f"{code}（改）"))
    assert eventually(lambda: code in names("grids"))


def test_z14_tiles_of_the_demo_city_stay_under_100_kb(api: httpx.Client,
                                                     conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                       "(SELECT ST_Extent(geom)::geometry e FROM grids) x").fetchone()
    assert row is not None
    z, x0, y1 = tile_of(row[0], row[1], 14)
    _, x1, y0 = tile_of(row[2], row[3], 14)
    biggest = 0
    for name in LAYERS:
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                size = len(api.get(f"/tiles/{name}/{z}/{x}/{y}.mvt").content)
                biggest = max(biggest, size)
    assert 1000 < biggest <= 100 * 1024
