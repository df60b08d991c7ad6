"""OGC API – Features at /ogc/ with real clients: OWSLib, GDAL's ogrinfo/ogr2ogr, httpx.

Every answer is compared with SQL on the same database (the ``conn`` fixture), so a filter
that selects the wrong features, or a page that loses some, fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from owslib.ogcapi.features import Features

from geo.ogc.collections import RESERVED, theme_ids
from geo.settings import Settings
from tests.conftest import serve

MAX_FEATURES = 250  # the server's cap in this module (settings.max_features)
BOX = (109.17, 27.72, 109.20, 27.74)
GRIDS = ("FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
         "WHERE l.status = 'active' AND l.theme = 'unified'")
F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
PERSONAL = {"phone_number", "person_name", "person_id", "home_unit", "home_building_id",
            "party_status", "reporter_name", "reporter_phone", "secretary_person_id", "gender",
            "birth_year", "work_phone"}


@pytest.fixture(scope="module")
def url(test_settings: Settings) -> Iterator[str]:
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0,
                                                "max_features": MAX_FEATURES})
    with serve(settings) as base:
        yield base


@pytest.fixture(scope="module")
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client


def ids(conn: psycopg.Connection, query: str) -> set[Any]:
    return {r[0] for r in conn.execute(query).fetchall()}


def fetch_all(http: httpx.Client, collection: str, **params: Any) -> tuple[list[dict], int]:
    """Every feature by following next links; also numberMatched of the first page."""
    r = http.get(f"/ogc/collections/{collection}/items", params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    matched = r.json()["numberMatched"]
    features: list[dict] = []
    while True:
        page = r.json()
        assert page["numberMatched"] == matched and page["numberReturned"] == len(page["features"])
        features += page["features"]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return features, matched
        r = http.get(nxt[0])
        assert r.status_code == 200, r.text


# -- landing page, conformance, collections --------------------------------------------------


def test_landing_page_links_and_openapi_documents(http: httpx.Client) -> None:
    r = http.get("/ogc/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    links = r.json()["links"]
    rels = {link["rel"] for link in links}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    descs = [link for link in links if link["rel"] == "service-desc"]
    assert all(d["type"] == "application/vnd.oai.openapi+json;version=3.0" for d in descs)
    assert [urlsplit(d["href"]).path for d in descs] == ["/ogc/api", "/openapi.json"]
    whole = http.get(descs[1]["href"]).json()
    assert "/ogc/collections/{collectionId}/items" in whole["paths"]
    ogc = http.get(descs[0]["href"])
    assert ogc.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    items = ogc.json()["paths"]["/collections/{collectionId}/items"]["get"]
    lang = next(p for p in items["parameters"] if p.get("name") == "filter-lang")
    assert {"cql2-text", "cql-text"} <= set(lang["schema"]["enum"])
    assert "422" not in items["responses"] and "400" in items["responses"]
    limit = ogc.json()["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == MAX_FEATURES and limit["default"] == 10
    doc = next(link for link in links if link["rel"] == "service-doc")
    assert urlsplit(doc["href"]).path == "/docs" and http.get(doc["href"]).status_code == 200
    assert http.get("/ogc").json()["links"] == links


def test_conformance_lists_the_classes_gdal_and_qgis_look_for(http: httpx.Client) -> None:
    classes = set(http.get("/ogc/conformance").json()["conformsTo"])
    assert {F1 + "core", F1 + "geojson", F1 + "oas30", F3 + "filter", F3 + "features-filter",
            F3 + "queryables", F3 + "queryables-query-parameters", CQL2 + "cql2-text",
            CQL2 + "basic-cql2", CQL2 + "advanced-comparison-operators",
            CQL2 + "basic-spatial-functions", CQL2 + "basic-spatial-operators"} <= classes


def test_collections_are_the_public_layers_with_extents_from_data(
        http: httpx.Client, conn: psycopg.Connection) -> None:
    body = http.get("/ogc/collections").json()
    themes = ids(conn, "SELECT theme FROM grid_layers WHERE status = 'active'")
    got = [c["id"] for c in body["collections"]]
    assert got[:2] == ["streets", "communities"] and got[-2:] == ["buildings", "facilities"]
    assert sorted(got[2:-2]) == sorted(theme_ids(themes)) and got[2] == "grids-unified"
    for c in body["collections"]:
        assert c["itemType"] == "feature" and c["title"]
        rels = {link["rel"] for link in c["links"]}
        assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels
    streets = next(c for c in body["collections"] if c["id"] == "streets")
    box = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                       "(SELECT ST_Extent(geom) e FROM areas WHERE level = 'street') x").fetchone()
    assert box is not None
    assert streets["extent"]["spatial"]["bbox"][0] == pytest.approx(list(box), abs=2e-7)
    one = http.get("/ogc/collections/streets").json()
    assert one["id"] == "streets" and one["extent"] == streets["extent"]


def test_each_grid_collection_holds_exactly_its_theme(http: httpx.Client,
                                                      conn: psycopg.Connection) -> None:
    themes = ids(conn, "SELECT theme FROM grid_layers WHERE status = 'active'")
    assert len(themes) >= 4
    for cid, theme in theme_ids(themes).items():
        want = ids(conn, "SELECT g.code FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
                         f"WHERE l.status = 'active' AND l.theme = '{theme}'")
        features, matched = fetch_all(http, cid, limit=MAX_FEATURES)
        assert matched == len(want) and {f["id"] for f in features} == want
        assert all(f["properties"]["theme"] == theme for f in features)


def test_theme_ids_are_url_safe_unique_and_stable() -> None:
    themes = ["综治", "unified", "Unified", "城管", "a b'; DROP TABLE grids; --", "../x", "应急"]
    out = theme_ids(themes)
    assert sorted(out.values()) == sorted(themes) and len(out) == len(themes)
    assert all(re.fullmatch(r"grids-[a-z0-9_-]+", cid) for cid in out)
    assert out["grids-unified"] == "unified" and out["grids-zongzhi"] == "综治"
    assert theme_ids(reversed(themes)) == out


# -- items: paging, limit, formats -------------------------------------------------------------


def test_owslib_pages_through_buildings_in_a_bbox(url: str, conn: psycopg.Connection) -> None:
    api = Features(url + "/ogc/")
    assert {c["id"] for c in api.collections()["collections"]} >= {"buildings", "facilities"}
    assert F1 + "core" in api.conformance()["conformsTo"]
    want = ids(conn, "SELECT id FROM buildings WHERE ST_Intersects(coalesce(footprint, geom), "
                     f"ST_MakeEnvelope({', '.join(map(str, BOX))}, 4326))")
    page = api.collection_items("buildings", limit=100, bbox=list(BOX))
    got: list[Any] = []
    while True:
        assert page["numberMatched"] == len(want) and page["numberReturned"] <= 100
        assert page["timeStamp"].endswith("Z")
        got += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        query = parse_qs(urlsplit(nxt[0]).query)
        assert query["limit"] == ["100"] and query["bbox"] == [",".join(map(str, BOX))]
        page = api.collection_items("buildings", limit=100, bbox=list(BOX),
                                    offset=int(query["offset"][0]))
    assert len(got) == len(set(got)) and set(got) == want and len(want) > 300
    one = api.collection_item("buildings", str(min(want)))
    assert one["id"] == min(want) and one["properties"]["address"]


def test_limit_default_cap_and_links(http: httpx.Client) -> None:
    r = http.get("/ogc/collections/buildings/items")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    page = r.json()
    assert page["numberReturned"] == 10 == len(page["features"])
    assert {"self", "next", "collection"} <= {link["rel"] for link in page["links"]}
    # Above the server's maximum the maximum applies (clamped, as OGC asks): no error.
    big = http.get("/ogc/collections/buildings/items", params={"limit": 100000}).json()
    assert big["numberReturned"] == MAX_FEATURES
    nxt = next(link["href"] for link in big["links"] if link["rel"] == "next")
    assert parse_qs(urlsplit(nxt).query) == {"limit": [str(MAX_FEATURES)],
                                             "offset": [str(MAX_FEATURES)]}
    last = http.get("/ogc/collections/buildings/items",
                    params={"limit": 10, "offset": page["numberMatched"] - 3}).json()
    assert last["numberReturned"] == 3 and "next" not in {lk["rel"] for lk in last["links"]}


def test_json_is_the_default_format(http: httpx.Client) -> None:
    for accept in (None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json"):
        headers = {"Accept": accept} if accept else {}
        r = http.get("/ogc/collections", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert http.get("/ogc/collections", params={"f": "json"}).status_code == 200
    r = http.get("/ogc/collections/streets/items", params={"f": "json"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    r = http.get("/ogc/collections", params={"f": "html"})
    assert r.status_code == 400 and r.json()["detail"].startswith("f:")
    r = http.get("/ogc/conformance", headers={"Accept": "application/xml"})
    assert r.status_code == 406 and "JSON" in r.json()["detail"]


def test_unknown_collection_and_feature_are_404(http: httpx.Client,
                                                conn: psycopg.Connection) -> None:
    r = http.get("/ogc/collections/rivers/items")
    assert r.status_code == 404 and "rivers" in r.json()["detail"]
    assert http.get("/ogc/collections/rivers").status_code == 404
    assert http.get("/ogc/collections/rivers/queryables").status_code == 404
    for cid, fid in (("grids-unified", "999999999999999"), ("buildings", "99999999"),
                     ("buildings", "abc"), ("buildings", "99999999999999999999"),
                     ("facilities", "-1")):
        r = http.get(f"/ogc/collections/{cid}/items/{fid}")
        assert r.status_code == 404 and fid in r.json()["detail"], (cid, fid, r.text)
    assert http.get("/ogc/collections/grids-unified/items/a%00b").status_code == 404
    code, name = conn.execute(f"SELECT g.code, g.name {GRIDS} ORDER BY g.code LIMIT 1").fetchone()
    r = http.get(f"/ogc/collections/grids-unified/items/{code}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feat = r.json()
    assert feat["id"] == code and feat["properties"]["name"] == name
    assert {link["rel"] for link in feat["links"]} == {"self", "collection"}


# -- queryables and filters --------------------------------------------------------------------


def test_queryables_are_a_json_schema_of_the_feature_properties(http: httpx.Client) -> None:
    for cid in ("streets", "grids-unified", "buildings", "facilities"):
        r = http.get(f"/ogc/collections/{cid}/queryables",
                     headers={"Accept": "application/schema+json"})
        assert r.headers["content-type"].startswith("application/schema+json")
        q = r.json()
        assert q["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert q["type"] == "object" and q["$id"].endswith(f"/ogc/collections/{cid}/queryables")
        props = q["properties"]
        geometry = props.pop("geometry")
        assert geometry["format"].startswith("geometry-")
        assert geometry["$ref"].startswith("https://geojson.org/schema/")
        assert all(p["type"] in ("integer", "number", "string", "boolean") for p in props.values())
        feature = http.get(f"/ogc/collections/{cid}/items", params={"limit": 1}).json()
        assert list(feature["features"][0]["properties"]) == list(props)
        assert not set(props) & (PERSONAL | RESERVED)
        assert [d["id"] for d in q["queryables"]] == list(props)  # the draft form (GDAL 3.6)
    plain = http.get("/ogc/collections/buildings/queryables")
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json()["properties"]["households"] == {"title": "户数 households",
                                                        "type": "integer"}


POLYGON = "POLYGON((109.17 27.72, 109.19 27.72, 109.19 27.74, 109.17 27.72))"
CASES = [
    ("grids-unified", "households > 400", f"SELECT g.code {GRIDS} AND g.households > 400"),
    ("grids-unified", "(households >= 300 AND households <= 350) OR kind = 'dedicated'",
     f"SELECT g.code {GRIDS} AND (g.households BETWEEN 300 AND 350 OR g.kind = 'dedicated')"),
    ("grids-unified", "households <> 360 AND NOT dedicated_type IS NULL",
     f"SELECT g.code {GRIDS} AND g.households <> 360 AND g.dedicated_type IS NOT NULL"),
    ("grids-unified", "name LIKE '丹凤%'", f"SELECT g.code {GRIDS} AND g.name LIKE '丹凤%'"),
    ("grids-unified", "name <> 'it''s' AND households > 400",  # a doubled quote, as GDAL writes
     f"SELECT g.code {GRIDS} AND g.households > 400"),
    ("grids-unified", "community_code IN ('520602001001', '520602001002')",
     f"SELECT g.code {GRIDS} AND g.community_code IN ('520602001001', '520602001002')"),
    ("grids-unified", "households BETWEEN 350 AND 450 AND residents < 1200",
     f"SELECT g.code {GRIDS} AND g.households BETWEEN 350 AND 450 AND g.residents < 1200"),
    ("grids-unified", f"S_INTERSECTS(geometry, {POLYGON})",
     f"SELECT g.code {GRIDS} AND ST_Intersects(g.geom, ST_GeomFromText('{POLYGON}', 4326))"),
    ("buildings", "households > 20 AND S_INTERSECTS(geometry, BBOX(109.17, 27.72, 109.18, 27.73))",
     "SELECT id FROM buildings WHERE households > 20 AND ST_Intersects(coalesce(footprint, geom),"
     " ST_MakeEnvelope(109.17, 27.72, 109.18, 27.73, 4326))"),
    ("facilities", "CASEI(category) = casei('SCHOOL') AND "
                   "S_WITHIN(geometry, BBOX(109.16, 27.70, 109.20, 27.74))",
     "SELECT id FROM facilities WHERE category = 'school' AND "
     "ST_Within(geom, ST_MakeEnvelope(109.16, 27.70, 109.20, 27.74, 4326))"),
    ("facilities", "S_INTERSECTS(geometry, POINT(109.18 27.73)) OR category = 'pharmacy'",
     "SELECT id FROM facilities WHERE category = 'pharmacy'"),
    ("communities", "residents > 5000 OR name LIKE '%江%'",
     "SELECT code FROM areas WHERE level = 'community' AND (residents > 5000 OR name LIKE '%江%')"),
]


@pytest.mark.parametrize(("collection", "cql", "query"), CASES)
def test_cql2_filters_select_what_sql_selects(http: httpx.Client, conn: psycopg.Connection,
                                              collection: str, cql: str, query: str) -> None:
    want = ids(conn, query)
    total = http.get(f"/ogc/collections/{collection}/items", params={"limit": 1}).json()
    assert 0 < len(want) < total["numberMatched"], "the case must select some, not all"
    for lang in ({}, {"filter-lang": "cql2-text"}, {"filter-lang": "cql-text"}):
        features, matched = fetch_all(http, collection, filter=cql, **lang)
        assert matched == len(want) and {f["id"] for f in features} == want


def test_filter_bbox_and_queryable_parameters_combine(http: httpx.Client,
                                                      conn: psycopg.Connection) -> None:
    want = ids(conn, f"SELECT g.code {GRIDS} AND g.households > 300 AND g.kind = 'base' AND "
                     f"ST_Intersects(g.geom, ST_MakeEnvelope({', '.join(map(str, BOX))}, 4326))")
    features, matched = fetch_all(http, "grids-unified", filter="households > 300", kind="base",
                                  bbox=",".join(map(str, BOX)), limit=7)
    assert matched == len(want) > 7 and {f["id"] for f in features} == want
    r = http.get("/ogc/collections/grids-unified/items",
                 params={"filter": "households > 300", "kind": "base", "limit": 7})
    nxt = parse_qs(urlsplit(next(lk["href"] for lk in r.json()["links"]
                                 if lk["rel"] == "next")).query)
    assert nxt == {"limit": ["7"], "offset": ["7"], "filter": ["households > 300"],
                   "kind": ["base"]}


@pytest.mark.parametrize(("params", "name"), [
    ({"limit": "abc"}, "limit"), ({"limit": "0"}, "limit"), ({"limit": "-5"}, "limit"),
    ({"offset": "x"}, "offset"), ({"bbox": "109,27,110"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"), ({"bbox": "27.7,109.1,27.8,109.3"}, "bbox"),
    ({"bbox": "109.3,27.7,109.1,27.8"}, "bbox"), ({"bbox": "nan,27,110,28"}, "bbox"),
    ({"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "bbox-crs"),
    ({"filter": "households >"}, "filter"), ({"filter": "households > 'many'"}, "filter"),
    ({"filter": "kind LIKE 3"}, "filter"), ({"filter-lang": "cql2-json"}, "filter-lang"),
    ({"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"}, "filter"),
    ({"filter": "S_INTERSECTS(geometry, POINT(27.7 109.1))"}, "filter"),
    ({"filter": "households + 1 > 3"}, "filter"), ({"households": "many"}, "households"),
    ({"households": "9" * 30}, "households"), ({"filter": "name = 'a\x00b'"}, "filter"),
    ({"limit": ["5", "6"]}, "limit"),
])
def test_bad_parameters_are_400_naming_the_parameter(http: httpx.Client, params: dict[str, Any],
                                                     name: str) -> None:
    r = http.get("/ogc/collections/grids-unified/items", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["detail"].startswith(f"{name}:") and body["code"] == "InvalidParameterValue"
    assert body["description"] == body["detail"]


@pytest.mark.parametrize("prop", ["population", "phone", "home_unit", "party_status", "geom",
                                  "id\" OR 1=1 --", "t.code"])
def test_unknown_property_is_400_naming_it(http: httpx.Client, prop: str) -> None:
    r = http.get("/ogc/collections/grids-unified/items", params={"filter": f'"{prop}" = 1'})
    assert r.status_code == 400 and r.json()["detail"].startswith("filter:")
    assert f"unknown property {prop!r}" in r.json()["detail"] or "not valid CQL2" in r.text
    if '"' not in prop:
        assert prop in r.json()["detail"]


def test_injection_shaped_input_changes_nothing(http: httpx.Client, demo_url: str) -> None:
    tables = ("areas", "grids", "grid_layers", "buildings", "facilities", "people")
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
    with psycopg.connect(demo_url, autocommit=True) as c:
        before = c.execute(query).fetchall()
    grids = "/ogc/collections/grids-unified/items"
    for cid in ("streets'; DROP TABLE areas; --", "grids-unified' OR '1'='1", "../openapi.json"):
        assert http.get(f"/ogc/collections/{cid}/items").status_code == 404
    for bad in ("households > 1; DROP TABLE grids", "households > 1) OR (1=1", "households > (SELECT 1)",
                "\"name\" = 'x' OR \"1\" = \"1\""):
        assert http.get(grids, params={"filter": bad}).status_code == 400, bad
    for odd in ("name = 'x; DROP TABLE grids; --'", "name = 'x'' OR 1=1 --'",
                "name LIKE '%''; DELETE FROM grids; --'"):  # strings, bound as parameters
        r = http.get(grids, params={"filter": odd})
        assert r.status_code == 200 and r.json()["numberMatched"] == 0, odd
    assert http.get(grids, params={"households": "1 OR 1=1"}).status_code == 400
    with psycopg.connect(demo_url, autocommit=True) as c:
        assert c.execute(query).fetchall() == before


def test_public_layers_carry_no_personal_data_for_anyone(
        http: httpx.Client, accounts: dict[str, dict[str, str]]) -> None:
    grid_worker = {k: v for k, v in accounts["grid_worker"].items()
                   if k in ("Authorization", "X-API-Key")}
    for cid in [c["id"] for c in http.get("/ogc/collections").json()["collections"]]:
        anon = http.get(f"/ogc/collections/{cid}/items", params={"limit": 50}).json()
        scoped = http.get(f"/ogc/collections/{cid}/items", params={"limit": 50},
                          headers=grid_worker).json()
        assert scoped["features"] == anon["features"] and anon["numberMatched"] > 0
        for f in anon["features"]:
            assert not set(f["properties"]) & PERSONAL
            if cid != "facilities":  # a facility's phone is its work number, published
                assert "phone" not in f["properties"]


# -- GDAL --------------------------------------------------------------------------------------


def gdal(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(args[0])
    assert exe, f"{args[0]} (Debian's gdal-bin) is needed for these tests"
    env = {**os.environ, "CPL_DEBUG": "ON", "NO_PROXY": "127.0.0.1,localhost",
           "GDAL_HTTP_TIMEOUT": "60"}
    done = subprocess.run([exe, *args[1:]], env=env, text=True, capture_output=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_ogrinfo_lists_the_collections_as_layers(url: str, http: httpx.Client) -> None:
    out = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{url}/ogc/").stdout
    layers = re.findall(r"^\d+: (\S+) \(title: .*\) \((.+)\)$", out, re.M)
    want = [c["id"] for c in http.get("/ogc/collections").json()["collections"]]
    assert [name for name, _ in layers] == want
    kinds = dict(layers)
    assert kinds["streets"] == "Multi Polygon" and kinds["facilities"] == "Point"


def test_ogrinfo_sends_where_and_spat_to_the_server(url: str, conn: psycopg.Connection) -> None:
    done = gdal("ogrinfo", "-ro", f"OAPIF:{url}/ogc/", "grids-unified",
                "-spat", *map(str, BOX), "-where", "households > 400")
    got = set(re.findall(r"^\s+code \(String\) = (\S+)$", done.stdout, re.M))
    want = ids(conn, f"SELECT g.code {GRIDS} AND g.households > 400 AND "
                     f"ST_Intersects(g.geom, ST_MakeEnvelope({', '.join(map(str, BOX))}, 4326))")
    assert got == want and len(want) > 10
    assert len(re.findall(r"^OGRFeature\(grids-unified\)", done.stdout, re.M)) == len(want)
    # Server-side filtering: GDAL found CQL in our OpenAPI and sent it with the bbox.
    assert "CQL text detected" in done.stderr
    assert "Full filter will be evaluated on client side" not in done.stderr
    fetched = re.findall(r"HTTP: Fetch\((\S+)\)", done.stderr)
    filtered = [parse_qs(urlsplit(u).query) for u in fetched if "filter=" in u]
    assert filtered and all(q["filter"] == ["households > 400"] and "bbox" in q
                            for q in filtered)


def test_ogr2ogr_copies_a_collection_to_geopackage(url: str, conn: psycopg.Connection,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "facilities.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}/ogc/", "facilities",
         "-oo", "PAGE_SIZE=200")
    want = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, name, category, phone FROM facilities").fetchall()}
    with sqlite3.connect(out) as db:
        rows = db.execute("SELECT fid, name, category, phone, geom IS NOT NULL "
                          "FROM facilities").fetchall()
        kind = db.execute("SELECT geometry_type_name FROM gpkg_geometry_columns").fetchone()
    assert {r[0]: r[1:4] for r in rows} == want and all(r[4] for r in rows)
    assert kind == ("POINT",)
