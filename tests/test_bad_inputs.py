"""Bad input, from files and from requests: every file of tests/data/bad_inputs through
``gridgov import`` (a CLI error without a traceback naming the problem, and a checksum of the
whole database unchanged), a file over the size limit, a GBK shapefile read right, text shaped
like SQL stored as text; over HTTP, strings shaped like SQL injection in every filter, path
tricks and out-of-range tile coordinates — each a 4xx that says what is wrong, never a 5xx,
and nothing changed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import httpx
import psycopg
import pytest
from shapely.geometry import box

from geo.db import migrate
from tests.conftest import drop, fresh_database
from tests.importer_files import ROOT, database_checksum, load_district

CORPUS = ROOT / "tests" / "data" / "bad_inputs"
REFUSED = [  # file, import, extra options, what the message must say
    ("broken.geojson", "areas", [], "cannot be read"),
    ("empty_geometry.geojson", "areas", [], "feature 1: empty geometry"),
    ("null_geometry.geojson", "areas", [], "feature 1: empty geometry"),
    ("unknown_crs.geojson", "areas", [], "declares the CRS 'urn:ogc:def:crs:EPSG::99999'"),
    ("latlon_swapped.csv", "buildings", [], "latitude and longitude look swapped"),
    ("outside_china.csv", "buildings", [], "row 1 (line 2): outside China"),
    ("out_of_range.csv", "buildings", [], "lon 216.390000"),
    ("missing_columns.csv", "buildings", [], "no geometry: give longitude/latitude columns"),
    ("garbage_cells.csv", "buildings", [], "户数 '很多' is not a number"),
    ("people_garbage.csv", "people", [], "出生年份 '一九六八'"),
    ("outside_china.csv", "buildings", ["--crs", "EPSG:99999"], "unknown CRS EPSG:99999"),
    ("../../../../../../../etc/passwd", "areas", [], "unsupported file type"),
    ("no_such_file.geojson", "areas", [], "no such file"),
]


@pytest.fixture(scope="module")
def corpus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database("_badin")
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        load_district(conn, tmp_path_factory.mktemp("badin"))
    yield url
    drop(url)


def gridgov(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / ".venv/bin/gridgov"), "import", *args],
                          env={**os.environ, "GRIDGOV_DATABASE_URL": url, **env},
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("name", "kind", "extra", "says"), REFUSED)
def test_a_bad_file_is_refused_and_changes_nothing(corpus_url: str, name: str, kind: str,
                                                   extra: list[str], says: str) -> None:
    before = database_checksum(corpus_url)
    done = gridgov(corpus_url, kind, str(CORPUS / name), *extra)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "Traceback" not in out and says in out, out
    assert database_checksum(corpus_url) == before


def test_a_file_over_the_size_limit(corpus_url: str, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("地址,户数,经度,纬度\n" + "多福巷1号楼,100,116.3952,39.8951\n" * 40_000,
                   encoding="utf-8")
    before = database_checksum(corpus_url)
    done = gridgov(corpus_url, "buildings", str(big), GRIDGOV_IMPORT_MAX_MB="1")
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "over the import limit of 1 MB" in out, out
    assert database_checksum(corpus_url) == before


def test_repairable_geometry_is_repaired_and_reported(corpus_url: str) -> None:
    for name, said in (("bowtie.geojson", "repaired with make_valid"),
                       ("unclosed_ring.geojson", "unclosed ring closed")):
        done = gridgov(corpus_url, "areas", str(CORPUS / name))
        assert done.returncode == 0 and said in done.stdout, done.stdout + done.stderr


def test_text_shaped_like_sql_is_stored_as_text(corpus_url: str) -> None:
    done = gridgov(corpus_url, "buildings", str(CORPUS / "injection_text.csv"))
    assert done.returncode == 0, done.stderr
    with psycopg.connect(corpus_url) as conn:
        assert conn.execute("SELECT count(*) FROM buildings WHERE address = "
                            "'多福巷1号楼''; DROP TABLE buildings; --'").fetchone() == (1,)


def test_gbk_shapefile_attributes_are_read_right(corpus_url: str, tmp_path: Path) -> None:
    path = tmp_path / "楼栋.shp"
    gpd.GeoDataFrame({"地址": ["银闸胡同8号楼"], "户数": [42]},
                     geometry=[box(116.39, 39.92, 116.3901, 39.9201)],
                     crs=4326).to_file(path, encoding="gbk")
    assert "银闸".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    done = gridgov(corpus_url, "buildings", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    with psycopg.connect(corpus_url) as conn:
        assert conn.execute("SELECT households FROM buildings WHERE address = '银闸胡同8号楼'"
                            ).fetchone() == (42,)


INJECTIONS = ["1' OR '1'='1", "'; DROP TABLE areas; --", "520602%", "_", "\\", "0 UNION SELECT 1",
              "../../etc/passwd", "%00", "中文' OR 1=1 --"]
FILTERED = ["/api/v1/areas?level={v}", "/api/v1/areas?parent={v}", "/api/v1/grids?within={v}",
            "/api/v1/buildings?within={v}", "/api/v1/facilities?category={v}",
            "/api/v1/facilities?within={v}", "/api/v1/search?q={v}",
            "/api/v1/lookup?lon={v}&lat=27.7", "/api/v1/buildings?bbox={v}",
            "/api/v1/issues/board/{v}", "/api/v1/issues/receipt/{v}", "/api/v1/units?kind={v}",
            "/api/v1/areas/{v}", "/api/v1/grids?theme={v}",
            "/ogc/collections/grids/items?filter={v}", "/ogc/collections/{v}/items",
            "/ogc/collections/grids/items?bbox={v}"]


@pytest.mark.parametrize("template", FILTERED)
def test_sql_shaped_filters_are_refused_or_find_nothing(live_server: str, demo_url: str,
                                                        template: str) -> None:
    before = database_checksum(demo_url)
    with httpx.Client(base_url=live_server, timeout=30) as http:
        for value in INJECTIONS:
            r = http.get(template.replace("{v}", quote(value, safe="")))
            assert r.status_code < 500, (template, value, r.text)
            if r.status_code >= 400:
                assert r.json().get("detail") or r.json().get("description"), r.text
            else:
                body = r.json()
                found = body.get("features", body.get("items", body.get("results", body)))
                assert not found or template.endswith("q={v}"), (template, value)
    assert database_checksum(demo_url) == before


@pytest.mark.parametrize("path", [
    "/tiles/grids/25/0/0.mvt", "/tiles/grids/10/5000/0.mvt", "/tiles/grids/10/-1/0.mvt",
    "/tiles/grids/a/b/c.mvt", "/tiles/..%2F..%2Fetc%2Fpasswd/1/0/0.mvt",
    "/static/..%2F..%2Fpyproject.toml", "/vendor/maplibre-gl/..%2F..%2F..%2Fpackage.json",
    "/api/v1/heatmap/tiles/30/0/0.mvt?layer=issues", "/api/v1/coverage/tiles/12/99999/0.mvt",
    "/api/v1/service-circle/tiles/4401547493508257280/0/0.mvt",  # once a 500 (1 << z)
    "/tiles/grids/99999999999999999999/0/0.mvt"])
def test_path_tricks_and_tiles_out_of_range(live_server: str, path: str) -> None:
    r = httpx.get(f"{live_server}{path}", timeout=30)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
    assert b"[tool.setuptools]" not in r.content and b'"name": "gridgov' not in r.content


def test_a_spreadsheet_with_garbage_cells(corpus_url: str, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["地址", "户数", "经度", "纬度", "层数"])
    book.active.append(["多福巷3号楼", "#REF!", 116.3952, 39.8951, 6])
    book.active.append(["多福巷4号楼", 80, "东经116度", 39.8952, "六层"])
    book.active.append([None, 50, 116.3953, 39.8953, 3])
    path = tmp_path / "楼栋.xlsx"
    book.save(path)
    before = database_checksum(corpus_url)
    done = gridgov(corpus_url, "buildings", str(path))
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in out, out
    for says in ("row 2: 户数 '#REF!' is not a number", "row 3:", "row 4: 地址 is empty"):
        assert says in out, (says, out)
    assert database_checksum(corpus_url) == before


def test_a_known_crs_member_is_not_mistaken_for_an_unknown_one(corpus_url: str,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "crs84.geojson"
    path.write_text('{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
                    '{"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": [{"type": '
                    '"Feature", "properties": {"编码": "110106", "名称": "丰台区", "name": "x"}, '
                    '"geometry": {"type": "Polygon", "coordinates": [[[116.2, 39.8], [116.3, '
                    '39.8], [116.3, 39.85], [116.2, 39.85], [116.2, 39.8]]]}}]}',
                    encoding="utf-8")
    done = gridgov(corpus_url, "areas", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
