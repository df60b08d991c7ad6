"""The service circle over real HTTP (/api/v1/service-circle/…): minutes against the engine
read straight from the database, coverage and gaps against sums of the buildings' own
answers, isochrones, siting followed through (a market added where it proposes one covers
exactly what it said), the stored table, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import h3
import httpx
import mapbox_vector_tile
import psycopg
import pytest

from geo.circle.district import DistrictCircle, metres_per_minute
from geo.db.queries.circle import read_circle
from tests.conftest import eventually
from tests.test_tiles import tile_of

API = "/api/v1/service-circle"


def _auth(who: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in who.items() if k in ("Authorization", "X-API-Key")}


def _get(live_server: str, who: dict[str, str], path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{live_server}{API}/{path}", params=params, headers=_auth(who), timeout=60)


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture(scope="module")
def engine(demo_url: str) -> DistrictCircle:
    with psycopg.connect(demo_url) as conn:
        return read_circle(conn, "520602")


def test_minutes_of_every_building_follow_the_engine_and_the_profile(
        live_server: str, accounts: dict[str, dict[str, str]], engine: DistrictCircle) -> None:
    planner = accounts["planner"]
    normal = _ok(_get(live_server, planner, "buildings"))
    elderly = _ok(_get(live_server, planner, "buildings", profile="elderly"))
    assert normal["speed_kmh"] == 4.0 and elderly["speed_kmh"] == 3.0
    assert len(normal["features"]) == len(engine.buildings)
    row = {int(i): k for k, i in enumerate(engine.buildings.ids.tolist())}
    metres = {c: engine.walk(c)[0] for c in ("market", "convenience_store", "clinic")}
    for f, g in zip(normal["features"], elderly["features"], strict=True):
        i, p = row[f["id"]], f["properties"]
        for code, m in metres.items():
            assert p["minutes"][code] == pytest.approx(m[i] / metres_per_minute(4.0), abs=0.05)
            assert g["properties"]["minutes"][code] == pytest.approx(
                m[i] / metres_per_minute(3.0), abs=0.05)
            assert p["within"][code] == (m[i] <= engine.categories[code].minutes
                                         * metres_per_minute(4.0))
        assert p["basic_complete"] == all(p["within"][c] for c in normal["thresholds"]
                                          if engine.categories[c].group == "basic")


def test_coverage_sums_the_buildings_on_foot_and_in_a_straight_line(
        live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    homes = _ok(_get(live_server, leader, "buildings"))["features"]
    body = _ok(_get(live_server, leader, "coverage", level="grid"))
    assert body["within"] == leader["scope"]
    within: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    complete: dict[str, int] = defaultdict(int)
    for f in homes:
        p = f["properties"]
        total[p["grid"]] += p["households"]
        within[p["grid"]] += p["households"] * p["within"]["pharmacy"]
        complete[p["grid"]] += p["households"] * p["basic_complete"]
    assert {f["id"] for f in body["features"]} == set(total)
    for f in body["features"]:
        p, code = f["properties"], f["id"]
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert p["households"] == total[code]
        assert p["categories"]["pharmacy"]["households_within"] == within[code]
        assert p["basic_complete_share"] == pytest.approx(complete[code] / total[code], abs=1e-4)
        for c in p["categories"].values():
            assert c["share_straight"] >= c["share"]  # a straight line is never longer
    assert any(c["share_straight"] > c["share"] for f in body["features"]
               for c in f["properties"]["categories"].values())


def test_gaps_hold_the_households_outside(live_server: str,
                                          accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    outside = _ok(_get(live_server, leader, "buildings", outside="market"))["features"]
    gaps = _ok(_get(live_server, leader, "gaps", category="market", res=9))
    assert gaps["households_outside"] == sum(f["properties"]["households"] for f in outside) > 0
    assert sum(f["properties"]["households"] for f in gaps["features"]) == \
        gaps["households_outside"]
    assert sum(f["properties"]["buildings"] for f in gaps["features"]) == len(outside)
    # each building outside lies in the cell it is counted in
    cells = {f["properties"]["cell"] for f in gaps["features"]}
    for f in outside[::11]:
        lon, lat = f["geometry"]["coordinates"]
        assert h3.latlng_to_cell(lat, lon, 9) in cells


def test_a_grid_worker_sees_the_circle_of_their_grid(
        live_server: str, accounts: dict[str, dict[str, str]], engine: DistrictCircle) -> None:
    worker = accounts["grid_worker"]
    grid = worker["scope"]
    homes = _ok(_get(live_server, worker, "buildings"))["features"]
    expected = {int(i) for i, g in zip(engine.buildings.ids, engine.buildings.extra["grid"],
                                       strict=True) if g == grid}
    assert {f["id"] for f in homes} == expected and expected
    assert all(f["properties"]["grid"] == grid for f in homes)
    gaps = _ok(_get(live_server, worker, "gaps", category="supermarket"))
    assert gaps["within"] == grid and gaps["households_outside"] == sum(
        f["properties"]["households"] for f in homes if not f["properties"]["within"]["supermarket"])
    cover = _ok(_get(live_server, worker, "coverage", level="grid"))
    assert [f["id"] for f in cover["features"]] == [grid]
    assert cover["features"][0]["properties"]["households"] == sum(
        f["properties"]["households"] for f in homes)
    # an isochrone counts only the buildings the worker may see
    lon, lat = homes[0]["geometry"]["coordinates"]
    iso = _ok(_get(live_server, worker, "isochrone", lon=lon, lat=lat, minutes="15"))
    everyone = _ok(_get(live_server, accounts["planner"], "isochrone", lon=lon, lat=lat,
                        minutes="15"))
    assert 0 < iso["features"][0]["properties"]["buildings"] <= len(homes)
    assert everyone["features"][0]["properties"]["buildings"] > \
        iso["features"][0]["properties"]["buildings"]


def test_isochrones_from_a_facility_grow_with_time(
        live_server: str, accounts: dict[str, dict[str, str]], engine: DistrictCircle) -> None:
    planner = accounts["planner"]
    market = int(engine.facilities.ids[engine.of_category["market"][0]])
    body = _ok(_get(live_server, planner, "isochrone", facility=market))
    spans = [f["properties"]["minutes"] for f in body["features"]]
    assert spans == [15, 10, 5]
    reached = [f["properties"]["households"] for f in body["features"]]
    assert reached[0] > reached[1] > reached[2] >= 0
    # every building whose nearest market is this one, within 10 minutes, is reached in 10
    metres, which = engine.walk("market")
    mine = (which == market) & (metres <= 10 * metres_per_minute(4.0))
    assert body["features"][1]["properties"]["buildings"] >= int(mine.sum()) > 0
    elderly = _ok(_get(live_server, planner, "isochrone", facility=market, profile="elderly",
                       minutes="10"))
    assert elderly["features"][0]["properties"]["area_km2"] < \
        body["features"][1]["properties"]["area_km2"]


def test_a_market_added_where_siting_proposes_covers_what_it_said(
        live_server: str, accounts: dict[str, dict[str, str]], demo_url: str) -> None:
    planner, street = accounts["planner"], accounts["street_leader"]["scope"]
    r = httpx.post(f"{live_server}{API}/siting", headers=_auth(planner), timeout=120,
                   json={"category": "market", "k": 3, "within": street})
    body = _ok(r)
    first = body["features"][0]
    assert [f["properties"]["rank"] for f in body["features"]] == [1, 2, 3]
    assert body["households_added"] == sum(f["properties"]["households"]
                                           for f in body["features"])
    before = body["households_outside_before"]

    def outside() -> int:
        return int(_ok(_get(live_server, planner, "gaps", category="market",
                            within=street))["households_outside"])

    assert outside() == before
    lon, lat = first["geometry"]["coordinates"]
    with psycopg.connect(demo_url, autocommit=True) as c:
        fid = c.execute("INSERT INTO facilities (category, name, geom) VALUES ('market', "
                        "'测试菜市场', ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
                        (lon, lat)).fetchone()[0]  # type: ignore[index]
        try:
            assert eventually(lambda: outside() == before - first["properties"]["households"],
                              seconds=20)
        finally:
            c.execute("DELETE FROM facilities WHERE id = %s", (fid,))
    assert eventually(lambda: outside() == before, seconds=20)


def test_the_stored_walks_equal_the_served_ones(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection) -> None:
    homes = _ok(_get(live_server, accounts["admin"], "buildings", within="520602"))["features"]
    # written in the background once the district is worked out
    assert eventually(lambda: conn.execute(
        "SELECT count(*) FROM building_walks WHERE category = 'pharmacy'").fetchone() == (
        len(homes),), seconds=30)
    stored = dict(conn.execute("SELECT building_id, walk_m FROM building_walks "
                               "WHERE category = 'pharmacy'").fetchall())
    for f in homes[::37]:
        served = f["properties"]["minutes"]["pharmacy"]
        assert stored[f["id"]] / metres_per_minute(4.0) == pytest.approx(served, abs=0.06)
    run = conn.execute("SELECT junctions, pieces, buildings FROM circle_runs "
                       "WHERE district_code = '520602'").fetchone()
    network = _ok(_get(live_server, accounts["admin"], "network", within="520602"))
    assert run == (network["junctions"], network["pieces"], len(homes))


def test_bad_requests_say_what_is_wrong(live_server: str,
                                        accounts: dict[str, dict[str, str]]) -> None:
    planner, leader = accounts["planner"], accounts["street_leader"]
    assert _get(live_server, {}, "buildings").status_code == 401
    out = _get(live_server, leader, "buildings", within="520603")
    assert out.status_code == 404 and "outside your scope" in out.text
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("buildings", {"profile": "runner"}, "profile"),
        ("buildings", {"outside": "school"}, "category"),
        ("gaps", {"category": "market", "res": 12}, "res"),
        ("isochrone", {"minutes": "5,ten"}, "minutes"),
        ("isochrone", {"minutes": "90", "lon": 109.2, "lat": 27.73}, "minutes"),
        ("isochrone", {}, "lon, lat"),
        ("isochrone", {"lon": 116.4, "lat": 39.9}, "walk network"),
        ("isochrone", {"lat": 27.73, "lon": 250}, "lon")]
    for path, params, word in cases:
        r = _get(live_server, planner, path, **params)
        assert r.status_code == 422 and word in r.text, (path, params, r.text)
    r = httpx.post(f"{live_server}{API}/siting", headers=_auth(planner),
                   json={"category": "market", "k": 0})
    assert r.status_code == 422 and "k" in r.text
    r = httpx.post(f"{live_server}{API}/siting", headers=_auth(planner),
                   json={"category": "market", "candidates": [[109.2]]})
    assert r.status_code == 422 and "candidates" in r.text


def _cli(demo_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": demo_url, "COLUMNS": "160"}
    return subprocess.run([str(Path(sys.executable).parent / "gridgov"), "circle", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_command_line_computes_stores_and_proposes(
        demo_url: str, tmp_path: Path, conn: psycopg.Connection,
        accounts: dict[str, dict[str, str]], live_server: str) -> None:
    done = _cli(demo_url, "compute")
    assert done.returncode == 0, done.stderr
    assert "便利店" in done.stdout and "district 520602" in done.stdout
    buildings, categories = conn.execute(
        "SELECT (SELECT count(*) FROM buildings WHERE community_code LIKE '520602%'), "
        "(SELECT count(*) FROM facility_categories)").fetchone()  # type: ignore[misc]
    assert conn.execute("SELECT count(*) FROM building_walks").fetchone() == (
        buildings * categories,)
    street = accounts["street_leader"]["scope"]
    out = tmp_path / "sites.geojson"
    done = _cli(demo_url, "siting", "market", "--k", "2", "--within", street,
                "--geojson", str(out))
    assert done.returncode == 0, done.stderr
    body = json.loads(out.read_text(encoding="utf-8"))
    served = _ok(httpx.post(f"{live_server}{API}/siting", headers=_auth(accounts["planner"]),
                            json={"category": "market", "k": 2, "within": street}, timeout=120))
    assert body["households_added"] == served["households_added"] > 0
    assert f"{body['households_outside_after']:,}" in done.stdout
    done = _cli(demo_url, "coverage", "--level", "street")
    assert done.returncode == 0 and "川硐街道" in done.stdout, done.stderr
    for args, word in ((("siting", "school"), "not a category"),
                       (("compute", "--profile", "fast"), "profile"),
                       (("compute", "--within", "41"), "walk network")):
        bad = _cli(demo_url, *args)
        assert bad.returncode == 1 and word in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr


def test_tiles_carry_each_buildings_minutes(live_server: str,
                                            accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    doc = _ok(_get(live_server, leader, "tiles.json", profile="elderly"))
    assert doc["minzoom"] == 14 and "market" in doc["vector_layers"][0]["fields"]
    homes = {f["id"]: f for f in _ok(_get(live_server, leader, "buildings",
                                          profile="elderly"))["features"]}
    lon, lat = next(iter(homes.values()))["geometry"]["coordinates"]
    z, x, y = tile_of(lon, lat, 15)
    r = httpx.get(doc["tiles"][0].format(z=z, x=x, y=y), headers=_auth(leader), timeout=60)
    assert r.status_code == 200 and "private" in r.headers["cache-control"]
    features = mapbox_vector_tile.decode(r.content)["circle"]["features"]
    assert features and all(f["properties"]["id"] in homes for f in features)
    for f in features:
        p, mine = f["properties"], homes[f["properties"]["id"]]["properties"]
        assert {c: p.get(c) for c in mine["minutes"]} == mine["minutes"]
        assert p["reached"] == sum(mine["within"].values())
        assert p["basic_complete"] == mine["basic_complete"]
        assert f["geometry"]["type"] == "Polygon"  # the footprint, cut to the tile
    low = _get(live_server, leader, f"tiles/13/{x >> 2}/{y >> 2}.mvt")
    assert low.status_code == 200 and low.content == b""
    assert _get(live_server, {}, f"tiles/{z}/{x}/{y}.mvt").status_code == 401
