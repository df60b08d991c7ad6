"""The API over real HTTP (uvicorn on loopback, httpx as the client)."""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest
from shapely.geometry import shape


@pytest.fixture(scope="module")
def http(live_server: str) -> httpx.Client:
    return httpx.Client(base_url=live_server, timeout=30)


def test_healthz_checks_the_database(http: httpx.Client) -> None:
    r = http.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["database"] == "ok" and body["postgis"].startswith("3.")
    assert body["areas"] >= 55


def test_list_streets_of_the_district(http: httpx.Client) -> None:
    r = http.get("/api/v1/areas", params={"level": "street", "parent": "520602"})
    assert r.status_code == 200
    streets = r.json()
    assert len(streets) == 7
    assert all(s["code"].startswith("520602") and len(s["code"]) == 9 for s in streets)
    assert sum(s["children"] for s in streets) == 43
    assert all(s["bbox"][0] < s["bbox"][2] for s in streets)


def test_areas_as_geojson(http: httpx.Client) -> None:
    r = http.get("/api/v1/areas", params={"level": "district", "f": "geojson"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    codes = {f["properties"]["code"] for f in fc["features"]}
    assert {"520602", "450802", "411302", "420684", "650521"} <= codes
    for f in fc["features"]:
        assert shape(f["geometry"]).is_valid
    bijiang = next(f for f in fc["features"] if f["id"] == "520602")
    assert 1000 < bijiang["properties"]["area_km2"] < 1070


def test_one_area_and_its_children(http: httpx.Client) -> None:
    r = http.get("/api/v1/areas/520602001")
    assert r.status_code == 200
    feat = r.json()
    assert feat["type"] == "Feature" and feat["properties"]["level"] == "street"
    assert shape(feat["geometry"]).geom_type == "MultiPolygon"
    kids = http.get("/api/v1/areas/520602001/children").json()
    assert kids and all(k["parent_code"] == "520602001" for k in kids)


def test_unknown_and_malformed_codes(http: httpx.Client) -> None:
    r = http.get("/api/v1/areas/520602999999")
    assert r.status_code == 404
    assert "520602999999" in r.json()["detail"]
    r = http.get("/api/v1/areas/52O602")
    assert r.status_code == 422
    assert "code" in r.json()["detail"]
    r = http.get("/api/v1/areas", params={"parent": "12"})
    assert r.status_code == 422 and "parent" in r.json()["detail"]


def test_grids_within_a_community_and_bbox(http: httpx.Client) -> None:
    comm = http.get("/api/v1/areas", params={"level": "community", "parent": "520602001"}).json()[0]
    fc = http.get("/api/v1/grids", params={"within": comm["code"]}).json()
    assert fc["features"]
    assert all(f["properties"]["code"].startswith(comm["code"]) for f in fc["features"])
    assert sum(f["properties"]["households"] for f in fc["features"]) == comm["households"]
    minx, miny, maxx, maxy = comm["bbox"]
    boxed = http.get("/api/v1/grids", params={"bbox": f"{minx},{miny},{maxx},{maxy}"}).json()
    assert {f["id"] for f in fc["features"]} <= {f["id"] for f in boxed["features"]}


@pytest.mark.parametrize("bbox, word", [("1,2,3", "4"), ("a,b,c,d", "numbers"),
                                        ("27.7,109.1,27.8,109.2", "latitudes"),
                                        ("109.3,27.7,109.1,27.8", "min")])
def test_bad_bbox_says_what_is_wrong(http: httpx.Client, bbox: str, word: str) -> None:
    r = http.get("/api/v1/buildings", params={"bbox": bbox})
    assert r.status_code == 422
    assert word in r.json()["detail"] and "bbox" in r.json()["detail"]


def test_departmental_layer_by_theme(http: httpx.Client) -> None:
    fc = http.get("/api/v1/grids", params={"theme": "应急", "within": "520602"}).json()
    assert len(fc["features"]) >= 40
    assert all(f["properties"]["theme"] == "应急" for f in fc["features"])


def test_facilities_by_chinese_category(http: httpx.Client) -> None:
    fc = http.get("/api/v1/facilities", params={"category": "党群服务中心"}).json()
    assert len(fc["features"]) == 28
    r = http.get("/api/v1/facilities", params={"category": "赌场"})
    assert r.status_code == 422 and "赌场" in r.json()["detail"]


def test_buildings_limit(http: httpx.Client) -> None:
    fc = http.get("/api/v1/buildings", params={"limit": 5, "within": "520602"}).json()
    assert len(fc["features"]) == 5
    assert {"address", "households", "grid_code"} <= set(fc["features"][0]["properties"])


def test_no_personal_data_in_public_layers(http: httpx.Client, demo_url: str) -> None:
    with psycopg.connect(demo_url) as c:
        names = {r[0] for r in c.execute("SELECT name FROM people WHERE length(name) = 3 LIMIT 300")}
        phones = [r[0] for r in c.execute("SELECT phone FROM people LIMIT 300")]
    bodies = "".join(http.get(u).text for u in (
        "/api/v1/buildings", "/api/v1/grids", "/api/v1/facilities", "/api/v1/areas?f=geojson"))
    assert not any(p in bodies for p in phones)
    assert not re.search(r"1[3-9]\d{9}", bodies)
    assert not any(f'"{n}"' in bodies for n in names)


def test_openapi_and_docs(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert "/api/v1/areas" in spec["paths"] and "/healthz" in spec["paths"]
    assert http.get("/docs").status_code == 200


def test_responses_are_gzipped_when_asked(http: httpx.Client) -> None:
    r = http.get("/api/v1/buildings", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"


def test_capped_answers_say_how_many_matched(http: httpx.Client) -> None:
    fc = http.get("/api/v1/buildings", params={"limit": 5, "within": "520602001"}).json()
    assert fc["numberReturned"] == 5 == len(fc["features"])
    assert fc["numberMatched"] > 5
    full = http.get("/api/v1/buildings", params={"within": "520602001"}).json()
    assert full["numberMatched"] == full["numberReturned"] == fc["numberMatched"]


def test_within_narrows_layers_without_area_codes(http: httpx.Client) -> None:
    comm = http.get("/api/v1/areas", params={"level": "community", "within": "520602002"}).json()
    assert comm and all(c["code"].startswith("520602002") for c in comm)
    code = comm[0]["code"]
    district = http.get("/api/v1/grids", params={"theme": "应急", "within": "520602"}).json()
    local = http.get("/api/v1/grids", params={"theme": "应急", "within": code}).json()
    assert 0 < len(local["features"]) < len(district["features"]) / 4
    edges = http.get("/api/v1/walk-network", params={"within": code}).json()
    all_edges = http.get("/api/v1/walk-network", params={"within": "520602"}).json()
    assert 0 < edges["numberMatched"] < all_edges["numberMatched"] / 10
