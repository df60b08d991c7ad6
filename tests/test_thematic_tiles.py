"""Coverage indicators and heat maps as vector tiles (/api/v1/coverage/tiles,
/api/v1/heatmap/tiles) over real HTTP, decoded with mapbox-vector-tile: the same values as
the GeoJSON endpoints, exactly the features that meet the tile, suppression, scope, edits."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import h3
import httpx
import mapbox_vector_tile
import psycopg
import pytest
import shapely
from pyproj import Transformer

from geo.settings import Settings
from tests.conftest import eventually, volunteers_left
from tests.test_tiles import in_tile, tile_of
from tiles.heat import zoom_res
from tiles.registry import BUFFER, TILE_EXTENT, WORLD_M

TO_3857 = Transformer.from_crs(4326, 3857, always_xy=True)


def _auth(who: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in who.items() if k in ("Authorization", "X-API-Key")}


def _tile(live_server: str, who: dict[str, str], kind: str, zxy: tuple[int, int, int],
          **params: Any) -> dict[str, dict[str, Any]]:
    """The tile's features by their key (area code or H3 cell) → properties."""
    z, x, y = zxy
    r = httpx.get(f"{live_server}/api/v1/{kind}/tiles/{z}/{x}/{y}.mvt", params=params,
                  headers=_auth(who), timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["cache-control"].startswith("private")
    layers = mapbox_vector_tile.decode(r.content) if r.content else {}
    key = "code" if kind == "coverage" else "cell"
    return {f["properties"][key]: f["properties"]
            for layer in layers.values() for f in layer["features"]}


def _geojson(live_server: str, who: dict[str, str], kind: str, **params: Any
             ) -> dict[str, Any]:
    r = httpx.get(f"{live_server}/api/v1/{kind}", params=params, headers=_auth(who), timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _flat(props: dict[str, Any]) -> dict[str, Any]:
    """What the tile must carry for a GeoJSON coverage feature (MVT has no nulls)."""
    out = {"code": props["code"], "name": props["name"], "level": props["level"],
           "short": sum(i["pass"] is False for i in props["indicators"].values())}
    for key, judged in props["indicators"].items():
        out[key], out[f"{key}_pass"] = judged["value"], judged["pass"]
    out.update({f"n_{key}": n for key, n in props["counts"].items()})
    return {k: v for k, v in out.items() if v is not None}


def _street_centre(conn: psycopg.Connection, street: str) -> tuple[float, float]:
    row = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c "
                       "FROM areas WHERE code = %s) x", (street,)).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.parametrize("level", ["grid", "community", "street"])
def test_coverage_tiles_carry_the_geojson_values(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection,
        level: str) -> None:
    admin = accounts["admin"]
    street = accounts["street_leader"]["scope"]
    zxy = tile_of(*_street_centre(conn, street), 13)
    got = _tile(live_server, admin, "coverage", zxy, level=level, within=street[:6])
    features = _geojson(live_server, admin, "coverage", level=level, within=street[:6])
    expected = {f["id"]: _flat(f["properties"]) for f in features["features"]}
    assert got and set(got) <= set(expected)
    for code, props in got.items():
        assert props == pytest.approx(expected[code]), code
    assert any(p["short"] > 0 for p in got.values())


def test_a_coverage_tile_holds_exactly_the_grids_that_meet_it(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection) -> None:
    leader = accounts["street_leader"]
    street = leader["scope"]
    zxy = tile_of(*_street_centre(conn, street), 14)
    got = _tile(live_server, leader, "coverage", zxy)
    expected = in_tile(conn, "SELECT g.code FROM grids g JOIN grid_layers l ON l.id = g.layer_id"
                       " WHERE l.theme = 'unified' AND l.status = 'active' AND g.code LIKE '"
                       + street + "%%' AND ST_Intersects(g.geom_3857, TILE)", zxy)
    assert expected and set(got) == expected
    everyone = _tile(live_server, accounts["admin"], "coverage", zxy)
    assert set(got) <= set(everyone) and all(code.startswith(street) for code in got)


def test_coverage_tiles_suppress_counts_of_people_for_the_analyst(
        live_server: str, accounts: dict[str, dict[str, str]], demo_url: str,
        test_settings: Settings) -> None:
    """A grid left with two current volunteers: the admin's tile says 2, the analyst's tile
    carries no volunteer count and no indicator made from it."""
    admin, analyst, k = accounts["admin"], accounts["analyst"], test_settings.k_anonymity
    with volunteers_left(demo_url, 2, last=True) as (code, gid, had):
        assert had > k
        with psycopg.connect(demo_url) as c:
            lon, lat = c.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface("
                                 "geom)) FROM grids WHERE id = %s", (gid,)).fetchone()  # type: ignore[misc]
        zxy = tile_of(lon, lat, 14)
        assert eventually(lambda: _tile(live_server, admin, "coverage", zxy)[code].get(
            "n_volunteers") == 2, seconds=10)
        theirs = _tile(live_server, analyst, "coverage", zxy)
    mine = theirs[code]
    assert "n_volunteers" not in mine and "volunteers_per_building" not in mine
    assert "volunteers_per_building_pass" not in mine and mine["n_buildings"] > 0
    for props in theirs.values():
        for key in ("n_residents", "n_volunteers", "n_party_members", "n_in_service"):
            assert props.get(key, 0) == 0 or props[key] >= k


def test_coverage_tiles_follow_an_edit(live_server: str, accounts: dict[str, dict[str, str]],
                                       demo_url: str, conn: psycopg.Connection) -> None:
    """A 楼栋长 whose term ends (straight in the database) lowers the grid's share at once."""
    admin = accounts["admin"]
    with psycopg.connect(demo_url, autocommit=True) as c:
        rid, code, valid_to = c.execute(
            "SELECT r.id, g.code, r.valid_to FROM role_assignments r JOIN buildings b "
            "ON b.id = r.building_id JOIN grids g ON g.id = b.grid_id WHERE r.role = "
            "'building_head' AND r.valid_to IS NULL ORDER BY r.id LIMIT 1").fetchone()  # type: ignore[misc]
        lon, lat = c.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                             " FROM grids WHERE code = %s", (code,)).fetchone()  # type: ignore[misc]
        zxy = tile_of(lon, lat, 14)
        before = _tile(live_server, admin, "coverage", zxy)[code]
        try:
            c.execute("UPDATE role_assignments SET valid_to = current_date - 1 WHERE id = %s",
                      (rid,))
            assert eventually(lambda: _tile(live_server, admin, "coverage", zxy)[code][
                "n_buildings_with_head"] == before["n_buildings_with_head"] - 1)
            after = _tile(live_server, admin, "coverage", zxy)[code]
        finally:
            c.execute("UPDATE role_assignments SET valid_to = %s WHERE id = %s", (valid_to, rid))
    assert after["building_head_share"] < before["building_head_share"]
    assert eventually(lambda: _tile(live_server, admin, "coverage", zxy)[code] == before)


def _tile_box_3857(zxy: tuple[int, int, int], margin: float) -> shapely.Polygon:
    z, x, y = zxy
    size = WORLD_M / (1 << z)
    west, north = -WORLD_M / 2 + x * size, WORLD_M / 2 - y * size
    return shapely.box(west - margin * size, north - (1 + margin) * size,
                       west + (1 + margin) * size, north + margin * size)


def _hexagon_3857(cell: int) -> shapely.Polygon:
    lat, lon = zip(*h3.cell_to_boundary(h3.int_to_str(cell)), strict=True)
    return shapely.Polygon(zip(*TO_3857.transform(lon, lat), strict=True))


@pytest.mark.parametrize(("layer", "z"), [("issues", 13), ("issues", 15), ("residents", 12),
                                          ("volunteers", 14)])
def test_heat_tiles_hold_the_geojson_counts_of_the_hexagons_that_meet_them(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection,
        layer: str, z: int) -> None:
    admin = accounts["admin"]
    res = zoom_res(z)
    zxy = tile_of(*_street_centre(conn, accounts["street_leader"]["scope"]), z)
    got = _tile(live_server, admin, "heatmap", zxy, layer=layer)
    counts = {int(f["properties"]["cell"], 16): f["properties"]["count"]
              for f in _geojson(live_server, admin, "heatmap", layer=layer, res=res)["features"]}
    assert got and all(p["res"] == res for p in got.values())
    in_tile = {int(c, 16): p["count"] for c, p in got.items()}
    assert in_tile == {c: counts[c] for c in in_tile}
    inner, outer = _tile_box_3857(zxy, 0), _tile_box_3857(zxy, BUFFER / TILE_EXTENT + 1e-6)
    for cell, n in counts.items():
        hexagon = _hexagon_3857(cell)
        if inner.contains(hexagon.centroid):
            assert format(cell, "x") in got, cell  # every hexagon centred in the tile
        if format(cell, "x") in got:
            assert got[format(cell, "x")]["count"] == n
            assert outer.intersects(hexagon)  # nothing from beyond the buffer


def test_heat_tiles_take_a_resolution_filters_and_suppression(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection,
        test_settings: Settings) -> None:
    admin, analyst = accounts["admin"], accounts["analyst"]
    zxy = tile_of(*_street_centre(conn, accounts["street_leader"]["scope"]), 12)
    got = _tile(live_server, admin, "heatmap", zxy, layer="issues", res=10, status="closed")
    expected = {f["properties"]["cell"]: f["properties"]["count"] for f in _geojson(
        live_server, admin, "heatmap", layer="issues", res=10, status="closed")["features"]}
    assert got and all(p["res"] == 10 for p in got.values())
    assert {c: p["count"] for c, p in got.items()} == {c: expected[c] for c in got}
    k = test_settings.k_anonymity
    full = _tile(live_server, admin, "heatmap", zxy, layer="volunteers", res=10)
    seen = _tile(live_server, analyst, "heatmap", zxy, layer="volunteers", res=10)
    assert any(p["count"] < k for p in full.values())
    assert {c: p["count"] for c, p in seen.items()} == {
        c: p["count"] for c, p in full.items() if p["count"] >= k}


def test_thematic_tiles_need_sign_in_scope_and_good_input(
        live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    leader, admin = accounts["street_leader"], accounts["admin"]
    url = f"{live_server}/api/v1"
    assert httpx.get(f"{url}/coverage/tiles/13/6681/3426.mvt").status_code == 401
    assert httpx.get(f"{url}/heatmap/tiles/13/6681/3426.mvt",
                     params={"layer": "issues"}).status_code == 401
    r = httpx.get(f"{url}/coverage/tiles/13/6681/3426.mvt", params={"within": "520603"},
                  headers=_auth(leader))
    assert r.status_code == 404 and "outside your scope" in r.text
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("coverage/tiles/13/6681/3426.mvt", {"level": "district"}, 422, "level"),
        ("coverage/tiles/3/9/1.mvt", {}, 404, "z must lie"),
        ("heatmap/tiles/13/6681/3426.mvt", {"layer": "crowds"}, 422, "layer"),
        ("heatmap/tiles/13/6681/3426.mvt", {"layer": "issues", "res": 6}, 422, "res"),
        ("heatmap/tiles/13/6681/3426.mvt", {"layer": "residents", "status": "closed"}, 422,
         "status"),
        ("heatmap/tiles.json", {"layer": "issues", "from": "2026-13-01"}, 422, "from")]
    for path, params, status, word in cases:
        r = httpx.get(f"{url}/{path}", params=params, headers=_auth(admin))
        assert r.status_code == status and word in r.text, (path, params, r.text)


def test_tilejson_points_at_tiles_that_answer(live_server: str,
                                              accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    for kind, params in (("coverage", {"level": "community"}),
                         ("heatmap", {"layer": "issues", "status": "closed"})):
        doc = _geojson(live_server, leader, f"{kind}/tiles.json", **params)
        assert doc["tilejson"] == "3.0.0" and doc["vector_layers"][0]["fields"]
        template = doc["tiles"][0]
        assert f"within={leader['scope']}" in template and "v=" in template
        assert all(f"{k}={v}" in template for k, v in params.items())
        w, s, e, n = doc["bounds"]
        zxy = tile_of((w + e) / 2, (s + n) / 2, 12)
        r = httpx.get(template.format(z=zxy[0], x=zxy[1], y=zxy[2]), headers=_auth(leader))
        assert r.status_code == 200 and r.content
        # the versioned URL may be kept by the client until the data change
        assert "max-age=86400" in r.headers["cache-control"]


def test_gdal_reads_a_coverage_tile_with_the_analysts_key(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection) -> None:
    """What QGIS does with the TileJSON's URL: GDAL's MVT driver over HTTP with an API key."""
    analyst = accounts["analyst"]
    zxy = tile_of(*_street_centre(conn, accounts["street_leader"]["scope"]), 13)
    path = f"/api/v1/coverage/tiles/{zxy[0]}/{zxy[1]}/{zxy[2]}.mvt?level=street"
    exe = shutil.which("ogrinfo")
    assert exe, "ogrinfo (Debian's gdal-bin) is needed for this test"
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost",
           "GDAL_HTTP_HEADERS": f"X-API-Key: {analyst['X-API-Key']}"}
    done = subprocess.run([exe, "-ro", "-al", f"MVT:/vsicurl/{live_server}{path}"], env=env,
                          text=True, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "EPSG\",3857" in done.stdout
    got = dict(re.findall(r"^\s+code \(String\) = (\d+)\n\s+name \(String\) = (\S+)$",
                          done.stdout, re.M))
    expected = _tile(live_server, analyst, "coverage", zxy, level="street")
    assert got == {code: p["name"] for code, p in expected.items()} and len(got) > 1
    assert re.search(r"^\s+building_head_share \(Real\) = 0\.\d+$", done.stdout, re.M)
