"""Bulk export, as analysts use it: real HTTP downloads read back by GDAL's own ``ogrinfo``,
geopandas and the csv module; the CLI run as a program; counts checked against PostGIS."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import psycopg
import pyarrow.parquet as pq
import pytest
import shapely

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import NotFound
from geo.export import export_layer, make_request
from geo.settings import Settings
from tests.conftest import ROOT, serve

STREET = "520602001"
# Independent SQL for what each layer holds inside the street (not the export's own SQL).
COUNTS = {
    "streets": "SELECT count(*) FROM areas WHERE level = 'street' AND code LIKE %(p)s",
    "communities": "SELECT count(*) FROM areas WHERE level = 'community' AND code LIKE %(p)s",
    "grids": "SELECT count(*) FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
             "WHERE l.theme = 'unified' AND l.status = 'active' AND g.community_code LIKE %(p)s",
    "buildings": "SELECT count(*) FROM buildings WHERE community_code LIKE %(p)s",
    "facilities": "SELECT count(*) FROM facilities WHERE community_code LIKE %(p)s",
    "walk-edges": "SELECT count(*) FROM walk_edges WHERE ST_Intersects(geom, "
                  "(SELECT geom FROM areas WHERE code = %(a)s))",
}


@pytest.fixture(scope="module")
def api(test_settings: Settings) -> Iterator[httpx.Client]:
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def count(conn: psycopg.Connection, layer: str, code: str = STREET) -> int:
    row = conn.execute(COUNTS[layer], {"p": code + "%", "a": code}).fetchone()
    assert row is not None
    return int(row[0])


def download(api: httpx.Client, tmp_path: Path, layer: str, **params: Any) -> Path:
    r = api.get(f"/api/v1/export/{layer}", params=params)
    assert r.status_code == 200, r.text
    name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])
    assert name is not None
    path = tmp_path / name.group(1)
    path.write_bytes(r.content)
    return path


def ogrinfo(*args: str) -> str:
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr  # GDAL warnings go to stderr


def feature_count(summary: str) -> int:
    found = re.search(r"Feature Count: (\d+)", summary)
    assert found is not None, summary
    return int(found.group(1))


def one_grid(conn: psycopg.Connection) -> tuple[str, str]:
    row = conn.execute("SELECT g.code, g.name FROM grids g JOIN grid_layers l ON l.id = g.layer_id"
                       " WHERE l.theme = 'unified' AND l.status = 'active' AND g.community_code "
                       "LIKE %s ORDER BY g.code DESC LIMIT 1", (STREET + "%",)).fetchone()
    assert row is not None and re.search("[\u4e00-\u9fff]", row[1])
    return row[0], row[1]


# ---------------------------------------------------------------- GeoPackage


@pytest.mark.parametrize("layer", list(COUNTS))
def test_geopackage_of_every_layer_has_the_sql_count(api, conn, tmp_path, layer):
    path = download(api, tmp_path, layer, format="gpkg", within=STREET)
    summary = ogrinfo("-al", "-so", str(path))
    want = count(conn, layer)
    assert want > 0 and feature_count(summary) == want
    assert f"Layer name: {layer.replace('-', '_')}" in summary
    assert 'ID["EPSG",4326]' in summary
    assert "Warning" not in summary  # GeoPackage 1.2: no version warning from GDAL 3.6


def test_geopackage_in_gauss_krueger_zone_with_chinese_names(api, conn, tmp_path):
    code, name = one_grid(conn)
    r = api.get("/api/v1/export/grids", params={"format": "gpkg", "crs": "EPSG:4545",
                                                "within": STREET})
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    assert re.fullmatch(r'attachment; filename="grids-520602001-epsg4545-\d{8}\.gpkg"; .*',
                        r.headers["content-disposition"])
    path = tmp_path / "grids.gpkg"
    path.write_bytes(r.content)
    assert 'ID["EPSG",4545]' in ogrinfo("-al", "-so", str(path))
    assert f"name (String) = {name}" in ogrinfo("-al", "-q", "-where", f"code = '{code}'",
                                                str(path))
    # The coordinates are really Gauss-Krüger metres: areas match PostGIS's own transform.
    frame = gpd.read_file(path)
    row = conn.execute("SELECT sum(ST_Area(ST_Transform(g.geom, 4545))) FROM grids g JOIN "
                       "grid_layers l ON l.id = g.layer_id WHERE l.theme = 'unified' AND "
                       "l.status = 'active' AND g.community_code LIKE %s", (STREET + "%",)
                       ).fetchone()
    assert row is not None and frame.geometry.area.sum() == pytest.approx(row[0], rel=1e-6)


# ---------------------------------------------------------------- Shapefile


def test_zipped_shapefile_utf8_with_short_field_names(api, conn, tmp_path):
    code, name = one_grid(conn)
    path = download(api, tmp_path, "grids", format="shp", crs="EPSG:4545", within=STREET)
    assert path.name.endswith(".shp.zip")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["README.txt", "grids.cpg", "grids.dbf", "grids.prj",
                                        "grids.shp", "grids.shx"]
        assert z.read("grids.cpg").decode().strip() == "UTF-8"
        readme = z.read("README.txt").decode()
    assert re.search(r"comm_code\s+community_code", readme)
    assert re.search(r"ded_type\s+dedicated_type", readme)
    summary = ogrinfo("-al", "-so", f"/vsizip/{path}")
    assert feature_count(summary) == count(conn, "grids")
    assert "4545" in summary or "CM_108E" in summary or "CM 108E" in summary
    assert "comm_code: String" in summary and "ded_type: String" in summary
    assert f"name (String) = {name}" in ogrinfo("-al", "-q", "-where", f"code = '{code}'",
                                                f"/vsizip/{path}")


def test_zipped_shapefile_in_gbk_for_old_desktop_gis(api, conn, tmp_path):
    code, name = one_grid(conn)
    path = download(api, tmp_path, "grids", format="shp", encoding="gbk", within=STREET)
    with zipfile.ZipFile(path) as z:
        assert z.read("grids.cpg").decode().strip() == "GBK"
        dbf = z.read("grids.dbf")
    assert name.encode("gbk") in dbf and name.encode("utf-8") not in dbf
    assert f"name (String) = {name}" in ogrinfo("-al", "-q", "-where", f"code = '{code}'",
                                                f"/vsizip/{path}")


def test_buildings_with_and_without_footprint_make_two_shapefiles(conn, tmp_path):
    conn.execute("INSERT INTO buildings (address, community_code, geom) VALUES "
                 "('测试路1号', %s, ST_SetSRID(ST_Point(109.19, 27.74), 4326))",
                 (STREET + "001",))
    req = make_request("buildings", "shp", within=STREET)
    path = tmp_path / "b.shp.zip"
    found = export_layer(conn, req, path)
    assert found.types == ("POINT", "POLYGON")
    points = ogrinfo("-al", "-so", f"/vsizip/{path}/buildings_point.shp")
    polygons = ogrinfo("-al", "-so", f"/vsizip/{path}/buildings_polygon.shp")
    assert feature_count(points) == 1
    assert feature_count(polygons) == count(conn, "buildings") - 1
    assert "address (String) = 测试路1号" in ogrinfo("-al", "-q", f"/vsizip/{path}/buildings_point.shp")


# ---------------------------------------------------------------- GeoParquet, chunks


def test_geoparquet_reads_back_in_geopandas(api, conn, tmp_path):
    path = download(api, tmp_path, "facilities", format="parquet", crs="EPSG:4545",
                    within=STREET)
    frame = gpd.read_parquet(path)
    assert len(frame) == count(conn, "facilities")
    assert frame.crs.to_epsg() == 4545
    assert frame.geometry.x.between(400_000, 700_000).all()  # false easting 500 km
    names = {r[0] for r in conn.execute("SELECT name FROM facilities WHERE community_code "
                                        "LIKE %s", (STREET + "%",))}
    assert set(frame["name"]) == names
    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert geo["columns"]["geometry"]["geometry_types"] == ["Point"]


def test_large_layer_is_read_and_written_in_chunks(conn, tmp_path):
    total = conn.execute("SELECT count(*) FROM walk_edges").fetchone()[0]  # type: ignore[index]
    assert total > 3000
    for fmt in ("gpkg", "parquet", "csv"):
        seen: list[int] = []
        path = tmp_path / f"edges.{fmt}"
        export_layer(conn, make_request("walk-edges", fmt), path, progress=seen.append,
                     chunk_rows=1000)
        assert seen == [1000] * (total // 1000) + [total % 1000]
        if fmt == "gpkg":
            assert feature_count(ogrinfo("-al", "-so", str(path))) == total
        if fmt == "parquet":
            assert pq.ParquetFile(path).metadata.num_row_groups == len(seen)
            assert pq.ParquetFile(path).metadata.num_rows == total
        if fmt == "csv":
            assert len(path.read_text(encoding="utf-8-sig").splitlines()) == total + 1


# ---------------------------------------------------------------- CRS: GCJ-02 / BD-09


def test_gcj02_and_bd09_coordinates_are_geo_crs_conversions(api, tmp_path):
    wgs = gpd.read_parquet(download(api, tmp_path, "facilities", format="parquet",
                                    within=STREET))
    gcj_path = download(api, tmp_path, "facilities", format="parquet", crs="gcj02",
                        within=STREET)
    assert "gcj02" in gcj_path.name
    gcj = gpd.read_parquet(gcj_path)
    assert list(gcj["id"]) == list(wgs["id"])
    x, y = wgs84_to_gcj02(wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy())
    assert np.allclose(gcj.geometry.x, x, atol=1e-9) and np.allclose(gcj.geometry.y, y, atol=1e-9)
    assert np.abs(gcj.geometry.x - wgs.geometry.x).min() > 1e-4  # really shifted
    assert gcj.crs.to_epsg() == 4326  # GCJ-02 has no EPSG code …
    note = json.loads(pq.read_schema(gcj_path).metadata[b"gridgov"])
    assert note["crs"] == "gcj02" and "GCJ-02" in note["crs_note"]  # … and says so
    r = api.get("/api/v1/export/facilities", params={"format": "csv", "crs": "bd09",
                                                     "within": STREET})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    bx, by = wgs84_to_bd09(wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy())
    assert np.allclose([float(r["lon"]) for r in rows], bx, atol=1e-7)
    assert np.allclose([float(r["lat"]) for r in rows], by, atol=1e-7)


def test_gcj02_geopackage_carries_the_note(api, tmp_path):
    path = download(api, tmp_path, "grids", format="gpkg", crs="gcj02", within=STREET)
    summary = ogrinfo("-al", "-so", str(path))
    assert 'ID["EPSG",4326]' in summary
    assert "GRIDGOV_CRS=gcj02" in summary and "Coordinates are GCJ-02" in summary


# ---------------------------------------------------------------- GeoJSON, CSV


def test_geojson_is_rfc7946_and_streams(api, conn):
    r = api.get("/api/v1/export/grids", params={"format": "geojson", "within": STREET})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert "content-length" not in r.headers  # streamed as it is read
    doc = r.json()
    assert "crs" not in doc
    assert len(doc["features"]) == count(conn, "grids")
    shapes = [shapely.geometry.shape(f["geometry"]) for f in doc["features"]]
    xmin, ymin, xmax, ymax = shapely.total_bounds(shapes)
    assert 108 < xmin < xmax < 110 and 27 < ymin < ymax < 28  # lon, lat order
    assert all(p.exterior.is_ccw for s in shapes for p in s.geoms)  # right-hand rule
    code, name = one_grid(conn)
    assert {f["id"]: f["properties"]["name"] for f in doc["features"]}[code] == name
    ok = api.get("/api/v1/export/streets", params={"format": "geojson", "crs": "cgcs2000"})
    assert ok.status_code == 200


def test_csv_has_bom_and_chinese_for_excel(api, conn):
    r = api.get("/api/v1/export/facilities", params={"format": "csv", "within": STREET})
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == count(conn, "facilities")
    first = conn.execute("SELECT name, ST_X(geom), ST_Y(geom) FROM facilities WHERE id = %s",
                         (int(rows[0]["id"]),)).fetchone()
    assert first is not None and rows[0]["name"] == first[0]
    assert float(rows[0]["lon"]) == pytest.approx(first[1], abs=1e-7)
    assert float(rows[0]["lat"]) == pytest.approx(first[2], abs=1e-7)
    grids = api.get("/api/v1/export/grids", params={"format": "csv", "crs": "EPSG:4545",
                                                    "within": STREET})
    rows = list(csv.DictReader(io.StringIO(grids.content.decode("utf-8-sig"))))
    shape = shapely.from_wkt(rows[0]["wkt"])
    assert shape.geom_type == "MultiPolygon" and shape.bounds[0] > 400_000


# ---------------------------------------------------------------- privacy, options, errors


def test_only_public_columns_and_the_same_for_signed_in_users(api, accounts, tmp_path):
    columns = set(gpd.read_parquet(download(api, tmp_path, "buildings", format="parquet",
                                            within=STREET)).columns)
    assert columns == {"id", "address", "name", "compound", "households", "residents",
                       "floors", "community_code", "grid_code", "geometry"}
    params = {"format": "csv", "within": STREET}
    anonymous = api.get("/api/v1/export/facilities", params=params).content
    for role in ("analyst", "street_leader"):
        h = {k: v for k, v in accounts[role].items() if k in ("Authorization", "X-API-Key")}
        assert api.get("/api/v1/export/facilities", params=params, headers=h).content == anonymous


def test_grid_themes_and_generations(api, conn, tmp_path):
    r = api.get("/api/v1/export/grids", params={"theme": "综治", "generation": 1})
    assert re.search(r"filename\*=UTF-8''grids-all-%E7%BB%BC%E6%B2%BB-g1-\d{8}\.gpkg$",
                     r.headers["content-disposition"])  # 综治, exactly; an ASCII fallback too
    path = tmp_path / "zz.gpkg"
    path.write_bytes(r.content)
    want = conn.execute("SELECT count(*) FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
                        "WHERE l.theme = '综治' AND l.generation = 1").fetchone()
    assert want is not None and feature_count(ogrinfo("-al", "-so", str(path))) == want[0]
    r = api.get("/api/v1/export/grids", params={"theme": "综治", "generation": 9})
    assert r.status_code == 404 and r.json()["detail"].startswith("generation:")
    # An archived generation is exportable; a draft is not.
    for gen, status in ((2, "archived"), (3, "draft")):
        conn.execute("INSERT INTO grid_layers (theme, name, scope_code, generation, status) "
                     "VALUES ('综治', 'old', '520602', %s, %s)", (gen, status))
    conn.execute("INSERT INTO grids (layer_id, code, name, geom) SELECT l.id, '1', '旧网格', "
                 "(SELECT geom FROM areas WHERE code = %s) FROM grid_layers l WHERE l.theme = "
                 "'综治' AND l.generation = 2", (STREET,))
    out = tmp_path / "old.csv"
    export_layer(conn, make_request("grids", "csv", theme="综治", generation=2), out)
    assert "旧网格" in out.read_text(encoding="utf-8-sig")
    with pytest.raises(NotFound, match="generation: grid layer '综治' has no generation 3"):
        export_layer(conn, make_request("grids", "csv", theme="综治", generation=3), out)


@pytest.mark.parametrize(("layer", "params", "where"), [
    ("roads", {}, "layer:"),
    ("people", {}, "layer:"),
    ("grids", {"format": "kml"}, "format:"),
    ("grids", {"crs": "mars"}, "crs:"),
    ("grids", {"crs": "EPSG:5773"}, "crs:"),
    ("grids", {"format": "geojson", "crs": "EPSG:4545"}, "crs:"),
    ("grids", {"format": "geojson", "crs": "gcj02"}, "crs:"),
    ("grids", {"bbox": "109.1,27.7,109.2"}, "bbox:"),
    ("grids", {"bbox": "27.7,109.1,27.8,109.2"}, "bbox:"),
    ("grids", {"within": "52060"}, "within:"),
    ("grids", {"format": "gpkg", "encoding": "gbk"}, "encoding:"),
    ("grids", {"format": "shp", "encoding": "latin-9"}, "encoding:"),
    ("buildings", {"theme": "综治"}, "theme:"),
    ("grids", {"generation": 0}, "generation:"),
])
def test_bad_parameters_are_422_naming_the_parameter(api, layer, params, where):
    r = api.get(f"/api/v1/export/{layer}", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(where), r.json()


def test_unknown_area_or_theme_is_404(api):
    r = api.get("/api/v1/export/grids", params={"within": "520699"})
    assert r.status_code == 404 and r.json()["detail"] == "within: area 520699 does not exist"
    r = api.get("/api/v1/export/grids", params={"theme": "无此专题"})
    assert r.status_code == 404 and r.json()["detail"].startswith("theme:")


def test_bbox_narrows_the_export(api, conn):
    box = (109.17, 27.72, 109.20, 27.74)
    r = api.get("/api/v1/export/facilities", params={"format": "csv",
                                                     "bbox": ",".join(map(str, box))})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    want = conn.execute("SELECT count(*) FROM facilities WHERE ST_Intersects(geom, "
                        "ST_MakeEnvelope(%s, %s, %s, %s, 4326))", box).fetchone()
    total = conn.execute("SELECT count(*) FROM facilities").fetchone()
    assert want is not None and total is not None and 0 < len(rows) == want[0] < total[0]
    assert all(box[0] <= float(r["lon"]) <= box[2] for r in rows)


def test_an_empty_selection_is_an_empty_layer_not_an_error(api, tmp_path):
    far = "100.0,30.0,100.01,30.01"
    gpkg = download(api, tmp_path, "grids", format="gpkg", bbox=far)
    summary = ogrinfo("-al", "-so", str(gpkg))
    assert feature_count(summary) == 0 and "Geometry: Multi Polygon" in summary
    shp = download(api, tmp_path, "facilities", format="shp", bbox=far)
    assert feature_count(ogrinfo("-al", "-so", f"/vsizip/{shp}")) == 0
    assert len(gpd.read_parquet(download(api, tmp_path, "buildings", format="parquet",
                                         bbox=far))) == 0
    doc = api.get("/api/v1/export/walk-edges", params={"format": "geojson", "bbox": far}).json()
    assert doc["features"] == []


# ---------------------------------------------------------------- command line


def gridgov(demo_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": demo_url}
    return subprocess.run([str(ROOT / ".venv/bin/gridgov"), "export", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_writes_the_file(demo_url, conn, tmp_path):
    done = gridgov(demo_url, tmp_path, "grids", "--within", STREET, "--crs", "EPSG:4545",
                   "-o", str(tmp_path / "g.gpkg"))
    assert done.returncode == 0, done.stderr
    assert f"wrote {count(conn, 'grids')} grids" in done.stdout
    summary = ogrinfo("-al", "-so", str(tmp_path / "g.gpkg"))
    assert feature_count(summary) == count(conn, "grids") and 'ID["EPSG",4545]' in summary
    done = gridgov(demo_url, tmp_path, "facilities", "--format", "csv", "--within", STREET)
    assert done.returncode == 0, done.stderr
    [written] = [p for p in tmp_path.iterdir() if p.suffix == ".csv"]
    assert re.fullmatch(r"facilities-520602001-\d{8}\.csv", written.name)
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")
    done = gridgov(demo_url, tmp_path, "streets", "-o", "s.parquet")  # format from the suffix
    assert done.returncode == 0, done.stderr
    assert len(gpd.read_parquet(tmp_path / "s.parquet")) == count(conn, "streets", "520602")


def test_cli_bad_call_is_one_line_without_traceback(demo_url, tmp_path):
    for args, message in ((("grids", "--crs", "mars", "-o", "x.gpkg"), "error: crs: unknown CRS"),
                          (("roads",), "error: layer: unknown layer 'roads'"),
                          (("grids", "--within", "520699"), "error: within: area 520699")):
        done = gridgov(demo_url, tmp_path, *args)
        assert done.returncode == 1, done.stdout
        assert done.stderr.startswith(message), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing half-written
