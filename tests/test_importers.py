"""Importers on good and bad files of every supported format, against the real PostGIS.

Fixture files are written here with geopandas / pandas / openpyxl. Area codes are those of
东城区 (110101) and its children so that they never meet the demo city (520602). Every bad
file is checked to change nothing: a checksum of the affected tables before and after.
"""

from __future__ import annotations

import os
import subprocess
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import prcoords
import psycopg
import pytest
from shapely.geometry import Point, Polygon, box

from geo.errors import ImportRejected, InvalidInput
from geo.importers.areas import import_areas
from geo.importers.buildings import import_buildings
from geo.importers.facilities import import_facilities
from geo.importers.grids import import_grids
from geo.importers.people import import_people
from geo.importers.roles import import_roles

ROOT = Path(__file__).resolve().parent.parent
TABLES = {"areas": "code", "grid_layers": "id", "grids": "id", "buildings": "id",
          "facilities": "id", "facility_categories": "code", "people": "id",
          "role_assignments": "id", "audit_log": "id"}
DISTRICT, STREET_W, STREET_E = "110101", "110101001", "110101002"
C_SW, C_NW, C_E = "110101001001", "110101001002", "110101002001"
BOWTIE = Polygon([(116.381, 39.881), (116.389, 39.889), (116.389, 39.881), (116.381, 39.889)])
# Inside community C_SW (116.38–116.41, 39.88–39.91), in WGS84.
HOME = (116.3952, 39.8951)


def snapshot(conn: psycopg.Connection) -> dict[str, tuple[object, ...]]:
    out = {}
    for table, key in TABLES.items():
        out[table] = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.{key}), '')) "
            f"FROM {table} t").fetchone()
    return out


def rejected(conn: psycopg.Connection, fn, *args, **kw) -> str:  # type: ignore[no-untyped-def]
    """Run an import that must fail; prove nothing changed (no audit row either); return the
    message."""
    before = snapshot(conn)
    with pytest.raises(ImportRejected) as info:
        fn(conn, *args, **kw)
    assert snapshot(conn) == before
    return str(info.value)


def audit_rows(conn: psycopg.Connection, action: str) -> list[tuple[object, ...]]:
    return conn.execute("SELECT actor, object_type, object_id, detail FROM audit_log "
                        "WHERE action = %s ORDER BY id", (action,)).fetchall()


def frame(rows: list[dict[str, object]], geoms: list[object], crs: int = 4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)


def area_frame() -> gpd.GeoDataFrame:
    rows = [("110101", "东城区", box(116.38, 39.88, 116.44, 39.94)),
            (STREET_W, "东华门街道", box(116.38, 39.88, 116.41, 39.94)),
            (STREET_E, "景山街道", box(116.41, 39.88, 116.44, 39.94)),
            (C_SW, "多福巷社区", box(116.38, 39.88, 116.41, 39.91)),
            (C_NW, "银闸社区", box(116.38, 39.91, 116.41, 39.94)),
            (C_E, "景山东街社区", box(116.41, 39.88, 116.44, 39.94))]
    return frame([{"编码": c, "名称": n} for c, n, _ in rows], [g for *_, g in rows])


@pytest.fixture
def district(db_conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    path = tmp_path / "areas.gpkg"
    area_frame().to_file(path, driver="GPKG")
    import_areas(db_conn, path)
    return db_conn


def unified_grids(conn: psycopg.Connection, tmp_path: Path, layer: str = "unified",
                  activate: bool = True) -> dict:
    rows = [{"网格编码": C_SW + "001", "网格名称": "多福巷第一网格"},
            {"网格编码": C_SW + "002", "网格名称": "多福巷第二网格", "类型": "专属网格",
             "专属类型": "学校"},
            {"网格编码": "DH-03", "网格名称": "银闸网格", "社区编码": C_NW}]
    geoms = [box(116.38, 39.88, 116.395, 39.91), box(116.395, 39.88, 116.41, 39.91),
             box(116.38, 39.91, 116.41, 39.94)]
    path = tmp_path / f"grids_{layer}.gpkg"
    frame(rows, geoms).to_file(path, driver="GPKG")
    return import_grids(conn, path, layer=layer, scope=DISTRICT, activate=activate).details


# ---------------------------------------------------------------- areas


def test_areas_geojson_levels_parents_and_geometry(db_conn, tmp_path):
    path = tmp_path / "areas.geojson"
    area_frame().to_file(path, driver="GeoJSON")
    result = import_areas(db_conn, path)
    assert (result.entity, result.count, result.repaired) == ("areas", 6, [])
    rows = db_conn.execute(
        "SELECT code, name, level, parent_code, GeometryType(geom), ST_Area(geom) "
        "FROM areas WHERE code LIKE '110101%' ORDER BY code").fetchall()
    assert [r[:4] for r in rows] == [
        ("110101", "东城区", "district", None), (STREET_W, "东华门街道", "street", DISTRICT),
        (C_SW, "多福巷社区", "community", STREET_W), (C_NW, "银闸社区", "community", STREET_W),
        (STREET_E, "景山街道", "street", DISTRICT), (C_E, "景山东街社区", "community", STREET_E),
    ]
    assert {r[4] for r in rows} == {"MULTIPOLYGON"}
    assert rows[0][5] == pytest.approx(0.06 * 0.06)


def test_areas_projected_gpkg_is_reprojected_and_reimport_updates(db_conn, tmp_path):
    path = tmp_path / "areas_gk.gpkg"
    area_frame().to_crs(4547).to_file(path, driver="GPKG")  # CGCS2000 / 3-degree GK CM 117E
    assert import_areas(db_conn, path).count == 6
    (x, y), = db_conn.execute("SELECT ST_XMin(geom), ST_YMin(geom) FROM areas "
                              "WHERE code = %s", (DISTRICT,)).fetchall()
    assert (x, y) == (pytest.approx(116.38, abs=1e-7), pytest.approx(39.88, abs=1e-7))
    renamed = area_frame().iloc[:1].assign(名称="东城区（新）")
    renamed.to_file(tmp_path / "rename.geojson", driver="GeoJSON")
    again = import_areas(db_conn, tmp_path / "rename.geojson")
    assert again.details == {"inserted": 0, "updated": 1}
    assert db_conn.execute("SELECT name FROM areas WHERE code = %s",
                           (DISTRICT,)).fetchone() == ("东城区（新）",)


def test_areas_bowtie_is_repaired_and_reported(district, tmp_path):
    path = tmp_path / "bowtie.geojson"
    frame([{"code": C_SW, "name": "多福巷社区"}], [BOWTIE]).to_file(path, driver="GeoJSON")
    result = import_areas(district, path)
    assert len(result.repaired) == 1
    assert result.repaired[0].where == "feature 1"
    assert "Self-intersection" in result.repaired[0].what
    valid, parts = district.execute("SELECT ST_IsValid(geom), ST_NumGeometries(geom) FROM areas "
                                    "WHERE code = %s", (C_SW,)).fetchone()
    assert valid and parts == 2


def test_areas_unclosed_ring_in_geojson_is_closed_and_reported(db_conn, tmp_path):
    ring = [[116.38, 39.88], [116.44, 39.88], [116.44, 39.94], [116.38, 39.94]]
    (tmp_path / "open.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"code": "110101", "name": "东城区"}, "geometry": {"type": "Polygon", "coordinates": '
        f'[{ring}]}}}}]}}', encoding="utf-8")
    result = import_areas(db_conn, tmp_path / "open.geojson")
    assert [str(p) for p in result.repaired] == ["feature 1: unclosed ring closed"]


def test_areas_bad_file_lists_every_problem_and_writes_nothing(db_conn, tmp_path):
    rows = [{"编码": "110101", "名称": "东城区"}, {"编码": "11010100", "名称": "坏编码"},
            {"编码": STREET_W, "名称": "东华门街道"}, {"编码": "110101009", "名称": "巴黎街道"},
            {"编码": STREET_W, "名称": "重复"}, {"编码": "110109001001", "名称": "无上级"},
            {"编码": C_SW, "名称": "点"}, {"编码": C_NW, "名称": "空"}]
    geoms = [box(39.88, 116.38, 39.94, 116.44), box(116.38, 39.88, 116.4, 39.9),
             box(116.38, 39.88, 116.41, 39.94), box(2.3, 48.8, 2.4, 48.9),
             box(116.38, 39.88, 116.41, 39.94), box(116.38, 39.88, 116.4, 39.9),
             Point(116.39, 39.89), None]
    path = tmp_path / "bad.gpkg"
    frame(rows, geoms).to_file(path, driver="GPKG")
    message = rejected(db_conn, import_areas, path)
    for expected in ("feature 1: latitude and longitude look swapped",
                     "feature 2: 编码 '11010100' is not an area code",
                     "feature 4: outside China",
                     "feature 5: duplicate code 110101001 (also at feature 3)",
                     "feature 6: parent area 110109001 of 110109001001 is neither",
                     "feature 7: wrong geometry type Point",
                     "feature 8: empty geometry"):
        assert expected in message, message


def test_areas_missing_column_names_it_and_the_columns_found(db_conn, tmp_path):
    path = tmp_path / "nocode.geojson"
    frame([{"名称": "东城区", "备注": "x"}], [box(116.38, 39.88, 116.44, 39.94)]).to_file(path)
    message = rejected(db_conn, import_areas, path)
    assert "header: missing required column 'code'" in message
    assert "columns found: 名称, 备注" in message


# ---------------------------------------------------------------- grids


def test_grids_are_drafts_unless_activated_on_an_empty_slot(district, tmp_path):
    first = unified_grids(district, tmp_path, layer="综治", activate=False)
    assert (first["generation"], first["status"], first["theme"]) == (1, "draft", "综治")
    rows = district.execute(
        "SELECT code, name, kind, dedicated_type, community_code, GeometryType(geom) "
        "FROM grids WHERE layer_id = %s ORDER BY code", (first["layer_id"],)).fetchall()
    assert rows == [
        (C_SW + "001", "多福巷第一网格", "base", None, C_SW, "MULTIPOLYGON"),
        (C_SW + "002", "多福巷第二网格", "dedicated", "school", C_SW, "MULTIPOLYGON"),
        ("DH-03", "银闸网格", "base", None, C_NW, "MULTIPOLYGON")]
    second = unified_grids(district, tmp_path, layer="综治")  # nothing active yet: allowed
    assert (second["generation"], second["status"]) == (2, "active")
    third = unified_grids(district, tmp_path, layer="综治", activate=False)
    assert (third["generation"], third["status"]) == (3, "draft")
    assert district.execute("SELECT generation, status, valid_from IS NOT NULL FROM grid_layers "
                            "WHERE theme = '综治' ORDER BY generation").fetchall() == [
        (1, "draft", False), (2, "active", True), (3, "draft", False)]


def test_activation_is_refused_beside_an_active_nested_scope(district, tmp_path):
    unified_grids(district, tmp_path, layer="综治")  # active over the district
    path = tmp_path / "street.geojson"
    frame([{"code": "S-01", "name": "东华门网格", "社区编码": C_SW}],
          [box(116.38, 39.88, 116.41, 39.91)]).to_file(path)
    for scope in (STREET_W, DISTRICT):
        before = snapshot(district)
        with pytest.raises(InvalidInput) as info:
            import_grids(district, path, layer="综治", scope=scope, activate=True)
        assert snapshot(district) == before
        message = str(info.value)
        assert f"the 综治 layer over {DISTRICT} (generation 1) is active" in message
        assert "activation of a new generation comes with the planner's validation" in message
    draft = import_grids(district, path, layer="综治", scope=STREET_W).details
    assert (draft["generation"], draft["status"]) == (1, "draft")
    other = import_grids(district, path, layer="城管", scope=STREET_W, activate=True).details
    assert other["status"] == "active"  # another theme is another slot
    with pytest.raises(InvalidInput, match=f"城管 layer over {STREET_W}"):
        unified_grids(district, tmp_path, layer="城管")  # the wider scope nests too


def test_grids_unknown_community_and_scope(district, tmp_path):
    path = tmp_path / "grids.geojson"
    frame([{"code": "110101009009001", "name": "无此社区"}, {"code": "G1", "name": "无社区"}],
          [box(116.38, 39.88, 116.39, 39.89)] * 2).to_file(path)
    message = rejected(district, import_grids, path, layer="城管", scope=DISTRICT)
    assert "feature 1: unknown community code '110101009009'" in message
    assert "feature 2: no community" in message
    message = rejected(district, import_grids, path, layer="城管", scope="110199")
    assert "scope area '110199' is not in the database" in message


def test_grid_reaching_outside_its_community_is_reported(district, tmp_path):
    path = tmp_path / "wide.geojson"
    frame([{"code": C_SW + "001", "name": "越界网格"}],
          [box(116.38, 39.88, 116.42, 39.91)]).to_file(path)
    result = import_grids(district, path, layer="应急", scope=DISTRICT)
    assert [p.where for p in result.warnings] == ["feature 1"]
    assert "25.0% of its area outside its community" in result.warnings[0].what


# ---------------------------------------------------------------- buildings


def test_buildings_csv_in_gcj02_land_on_the_wgs84_point(district, tmp_path):
    unified_grids(district, tmp_path)
    gcj = prcoords.wgs_gcj(prcoords.Coords(HOME[1], HOME[0]))  # an independent implementation
    path = tmp_path / "buildings.csv"
    path.write_text("地址,户数,人口,层数,经度,纬度\n"
                    f"多福巷1号楼,120,300,6,{gcj.lon:.8f},{gcj.lat:.8f}\n", encoding="utf-8")
    result = import_buildings(district, path, crs="gcj02")
    assert result.count == 1 and result.details["without_grid"] == 0
    row = district.execute(
        "SELECT b.households, b.residents, b.floors, b.community_code, g.code, "
        "ST_Distance(b.geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) "
        "FROM buildings b JOIN grids g ON g.id = b.grid_id WHERE b.address = '多福巷1号楼'",
        HOME).fetchone()
    assert row[:5] == (120, 300, 6, C_SW, C_SW + "002")
    assert row[5] < 0.5


def test_buildings_gbk_csv_and_bd09(district, tmp_path):
    bd = prcoords.wgs_bd(prcoords.Coords(HOME[1], HOME[0]))
    path = tmp_path / "gbk.csv"
    text = f"楼栋地址,户数,常住人口,社区,lng,lat\n银闸胡同2号,80,,银闸社区,{bd.lon},{bd.lat}\n"
    path.write_bytes(text.encode("gbk"))
    result = import_buildings(district, path, crs="bd09")
    assert result.count == 1
    row = district.execute(
        "SELECT households, residents, community_code, ST_Distance(geom::geography, "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) FROM buildings "
        "WHERE address = '银闸胡同2号'", HOME).fetchone()
    assert row[:3] == (80, 0, C_NW)  # the given community wins over the map …
    assert row[3] < 0.5
    assert [str(w) for w in result.warnings] == [  # … and the disagreement is reported
        f"row 1 (line 2): community {C_NW} given, but the location lies in {C_SW}"]


def test_building_grid_is_one_of_its_own_community(district, tmp_path):
    unified_grids(district, tmp_path)
    path = tmp_path / "b.csv"
    path.write_text("地址,社区编码,经度,纬度\n"
                    f"说是银闸,{C_NW},{HOME[0]},{HOME[1]}\n"
                    f"多福巷3号,,{HOME[0]},{HOME[1]}\n"
                    "景山东街1号,,116.42,39.90\n区外1号,,116.45,39.90\n", encoding="utf-8")
    result = import_buildings(district, path)
    assert result.details["without_grid"] == 3
    rows = district.execute(
        "SELECT b.address, b.community_code, g.code FROM buildings b "
        "LEFT JOIN grids g ON g.id = b.grid_id ORDER BY b.id").fetchall()
    assert rows == [("说是银闸", C_NW, None), ("多福巷3号", C_SW, C_SW + "002"),
                    ("景山东街1号", C_E, None),  # C_E has no unified grids: nothing to say
                    ("区外1号", None, None)]
    assert [str(w) for w in result.warnings] == [
        f"row 1 (line 2): community {C_NW} given, but the location lies in {C_SW}",
        f"row 1 (line 2): no unified grid of community {C_NW} contains the location (it lies "
        f"in grid {C_SW}002 of community {C_SW}): stored without a grid",
        "row 4 (line 5): not inside any community: stored without one"]


def test_building_grid_from_the_narrowest_active_unified_layer(district, tmp_path):
    unified_grids(district, tmp_path)
    path = tmp_path / "street.geojson"
    frame([{"code": "S-01", "name": "东华门街道网格", "社区编码": C_SW}],
          [box(116.38, 39.88, 116.41, 39.91)]).to_file(path)
    street = import_grids(district, path, layer="unified", scope=STREET_W).details
    # Two active unified layers over the point, as activation may leave them side by side.
    district.execute("UPDATE grid_layers SET status = 'active' WHERE id = %s",
                     (street["layer_id"],))
    homes = tmp_path / "homes.csv"
    homes.write_text(f"地址,经度,纬度\n多福巷5号,{HOME[0]},{HOME[1]}\n", encoding="utf-8")
    import_buildings(district, homes)
    assert district.execute("SELECT g.code FROM buildings b JOIN grids g ON g.id = b.grid_id "
                            "WHERE b.address = '多福巷5号'").fetchone() == ("S-01",)


def test_buildings_shapefile_gbk_with_and_without_cpg(district, tmp_path):
    footprint = box(116.386, 39.886, 116.387, 39.887)
    gdf = frame([{"地址": "东华门大街5号", "户数": 42, "名称": "五号楼"}], [footprint])
    gdf.to_file(tmp_path / "with_cpg.shp", encoding="gbk")
    assert (tmp_path / "with_cpg.cpg").read_text().upper() in {"GBK", "CP936", "936"}
    assert import_buildings(district, tmp_path / "with_cpg.shp").count == 1
    gdf.to_file(tmp_path / "no_cpg.shp", encoding="gbk")
    (tmp_path / "no_cpg.cpg").unlink()
    result = import_buildings(district, tmp_path / "no_cpg.shp")
    assert any("GBK" in w.what for w in result.warnings)
    assert import_buildings(district, tmp_path / "no_cpg.shp", encoding="gbk",
                            source="again").count == 1
    with zipfile.ZipFile(tmp_path / "zipped.zip", "w") as z:
        for suffix in ("shp", "shx", "dbf", "prj", "cpg"):
            z.write(tmp_path / f"with_cpg.{suffix}", f"with_cpg.{suffix}")
    assert import_buildings(district, tmp_path / "zipped.zip").count == 1
    rows = district.execute(
        "SELECT name, households, ST_Equals(footprint, ST_GeomFromText(%s, 4326)), "
        "ST_Covers(footprint, geom) FROM buildings WHERE address = '东华门大街5号'",
        (footprint.wkt,)).fetchall()
    assert rows == [("五号楼", 42, True, True)] * 4


def test_buildings_xlsx_bad_rows_named_by_spreadsheet_row(district, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "楼栋"
    sheet.append(["地址", "户数", "社区编码", "经度", "纬度"])
    sheet.append(["好楼", 10, C_SW, 116.39, 39.89])
    sheet.append(["坏户数", "很多", C_SW, 116.39, 39.89])
    sheet.append(["负户数", -3, C_SW, 116.39, 39.89])
    sheet.append(["颠倒", 5, C_SW, 39.89, 116.39])
    sheet.append(["国外", 5, None, 2.35, 48.85])
    sheet.append(["未知社区", 5, "110101009009", 116.39, 39.89])
    sheet.append([None, 5, C_SW, 116.39, 39.89])
    sheet.append(["坐标坏", 5, C_SW, "东经116", 39.89])
    book.save(tmp_path / "b.xlsx")
    message = rejected(district, import_buildings, tmp_path / "b.xlsx")
    for expected in ("row 3: 户数 '很多' is not a number", "row 4: 户数 '-3' is negative",
                     "row 5: latitude and longitude look swapped", "row 6: outside China",
                     "row 7: unknown community code '110101009009'", "row 8: 地址 is empty",
                     "row 9: 经度 '东经116' is not a number"):
        assert expected in message, message
    assert "row 2:" not in message


def test_xlsx_sheet_by_name_with_progress_bar(district, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为楼栋清单"])
    sheet = book.create_sheet("楼栋")
    sheet.append(["地址", "户数", "经度", "纬度"])
    sheet.append(["银闸胡同9号", 12, 116.39, 39.92])
    book.save(tmp_path / "two_sheets.xlsx")
    result = import_buildings(district, tmp_path / "two_sheets.xlsx", sheet="楼栋",
                              progress=True)
    assert (result.count, result.details["without_grid"]) == (1, 1)
    message = rejected(district, import_buildings, tmp_path / "two_sheets.xlsx")
    assert "two_sheets.xlsx [sheet 说明]" in message and "missing required column" in message


def test_empty_file_and_unknown_format(district, tmp_path):
    (tmp_path / "empty.csv").write_text("地址,户数,经度,纬度\n", encoding="utf-8")
    assert "file: no rows to import" in rejected(district, import_buildings,
                                                 tmp_path / "empty.csv")
    (tmp_path / "b.dwg").write_bytes(b"AC1015")
    with pytest.raises(InvalidInput, match=r"unsupported file type \.dwg"):
        import_buildings(district, tmp_path / "b.dwg")


def test_buildings_csv_rows_are_data_rows_and_csv_missing_coordinates(district, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("地址,户数,x,y\n好楼,1,116.39,39.89\n坏楼,-1,116.39,39.89\n",
                    encoding="utf-8-sig")
    assert "row 2 (line 3): 户数 '-1' is negative" in rejected(district, import_buildings, path)
    path.write_text("地址,户数\n好楼,1\n", encoding="utf-8")
    assert "no geometry: give longitude/latitude columns" in rejected(
        district, import_buildings, path)


# ---------------------------------------------------------------- facilities


def test_facilities_geoparquet(district, tmp_path):
    gcj = prcoords.wgs_gcj(prcoords.Coords(HOME[1], HOME[0]))
    rows = [{"类别": "党群服务中心", "名称": "多福巷党群服务中心", "电话": "010-65120000",
             "营业时间": "08:30-17:30", "面积": 320.5},
            {"类别": "pharmacy", "名称": "同仁堂药店", "电话": None, "营业时间": None,
             "面积": None}]
    path = tmp_path / "facilities.parquet"
    frame(rows, [Point(gcj.lon, gcj.lat), Point(116.42, 39.90)]).to_parquet(path)
    result = import_facilities(district, path, crs="gcj02")
    assert result.count == 2
    got = district.execute(
        "SELECT category, name, phone, opening_hours, floor_area_m2, community_code, "
        "ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) < 0.5 "
        "FROM facilities WHERE source = 'facilities.parquet' ORDER BY id", HOME).fetchall()
    assert got[0][:6] == ("party_service_center", "多福巷党群服务中心", "010-65120000",
                          "08:30-17:30", pytest.approx(320.5), C_SW)
    assert got[0][6] is True
    assert got[1][:2] == ("pharmacy", "同仁堂药店") and got[1][5] == C_E


def test_facilities_unknown_category_and_bad_area(district, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("类别,名称,面积,经度,纬度\n花店,小花店,20,116.39,39.89\n"
                    "便利店,好邻居,-5,116.39,39.89\n", encoding="utf-8")
    message = rejected(district, import_facilities, path)
    assert "row 1 (line 2): unknown category '花店'" in message
    assert "row 2 (line 3): 面积 -5 must be positive" in message


# ---------------------------------------------------------------- people and roles


def people_fixture(conn: psycopg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "homes.csv"
    path.write_text(f"地址,户数,经度,纬度\n多福巷1号楼,100,{HOME[0]},{HOME[1]}\n", encoding="utf-8")
    import_buildings(conn, path)
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机", "性别", "出生年份", "党员身份", "住址", "单元房号", "民族"])
    book.active.append(["张伟", "138 0013 8000", "男", 1968, "在册", "多福巷1号楼", "2-301", "汉"])
    book.active.append(["李娜", "13900139000", "女", "1990-05-01", "在职党员", None, None, None])
    book.active.append(["王芳", None, "女", None, "流动党员", None, None, None])
    book.active.append(["赵强", "13700137000", None, None, "群众", None, None, None])
    book.save(tmp_path / "people.xlsx")
    import_people(conn, tmp_path / "people.xlsx")


def test_people_xlsx(district, tmp_path):
    people_fixture(district, tmp_path)
    rows = district.execute(
        "SELECT p.name, p.phone, p.gender, p.birth_year, p.party_status, b.address, "
        "p.home_unit, p.attributes FROM people p LEFT JOIN buildings b ON b.id = "
        "p.home_building_id WHERE p.name IN ('张伟', '李娜', '王芳', '赵强') "
        "ORDER BY p.id").fetchall()
    assert rows == [
        ("张伟", "13800138000", "M", 1968, "registered", "多福巷1号楼", "2-301", {"民族": "汉"}),
        ("李娜", "13900139000", "F", 1990, "in_service", None, None, {}),
        ("王芳", None, "F", None, "mobile", None, None, {}),
        ("赵强", "13700137000", None, None, None, None, None, {})]
    again = import_people(district, tmp_path / "people.xlsx")
    assert again.details == {"inserted": 1, "updated": 3}  # 王芳 has no phone to match on


def test_people_bad_rows(district, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("姓名,电话,党员身份,住址,出生年份\n张伟,12ab,在册,,1970\n"
                    "李娜,13900139000,党外,,1990\n,13800138000,,,\n"
                    "王芳,13700137000,,无此楼,1800\n", encoding="utf-8")
    message = rejected(district, import_people, path)
    for expected in ("row 1 (line 2): 电话 '12ab' is not a phone number",
                     "row 2 (line 3): unknown 党员身份 '党外'", "row 3 (line 4): 姓名 is empty",
                     "row 4 (line 5): 出生年份 '1800' is not a birth year",
                     "row 4 (line 5): no building has the address '无此楼'"):
        assert expected in message, message


def test_roles_csv(district, tmp_path):
    unified_grids(district, tmp_path)
    people_fixture(district, tmp_path)
    path = tmp_path / "roles.csv"
    path.write_text(
        "姓名,电话,角色,网格编码,楼栋地址,社区编码,开始日期,结束日期\n"
        f"张伟,13800138000,专职网格员,{C_SW}001,,,2024-01-01,\n"
        "张伟,13800138000,楼栋长,,多福巷1号楼,,2024/3/1,2025-02-28\n"
        f"李娜,,党员,,,{C_SW},,\n"
        f"王芳,,网格长,{C_SW}002,,,2024年5月1日,\n", encoding="utf-8")
    assert import_roles(district, path).count == 4
    rows = district.execute(
        "SELECT p.name, r.role, g.code, b.address, r.area_code, r.valid_from::text, "
        "r.valid_to::text FROM role_assignments r JOIN people p ON p.id = r.person_id "
        "LEFT JOIN grids g ON g.id = r.grid_id LEFT JOIN buildings b ON b.id = r.building_id "
        "ORDER BY r.id").fetchall()
    assert [r[:5] for r in rows] == [
        ("张伟", "grid_worker_full", C_SW + "001", None, None),
        ("张伟", "building_head", None, "多福巷1号楼", None),
        ("李娜", "party_member", None, None, C_SW),
        ("王芳", "grid_leader", C_SW + "002", None, None)]
    assert [r[5:] for r in rows][:2] == [("2024-01-01", None), ("2024-03-01", "2025-02-28")]
    again = import_roles(district, path)  # the same roster again: nothing doubles
    assert (again.count, again.details) == (0, {"skipped_existing": 4})


def test_roles_match_phones_written_either_way(district, tmp_path):
    district.execute("INSERT INTO people (name, phone) VALUES ('陈静', '0856-521 2345'), "
                     "('陈静', '13800000000')")
    path = tmp_path / "roles.csv"
    path.write_text(f"姓名,电话,角色,社区编码\n陈静,（0856）521-2345,志愿者,{C_SW}\n",
                    encoding="utf-8")
    assert import_roles(district, path).count == 1
    assert district.execute("SELECT p.phone FROM role_assignments r JOIN people p ON "
                            "p.id = r.person_id").fetchall() == [("0856-521 2345",)]


def test_roles_bad_rows(district, tmp_path):
    unified_grids(district, tmp_path)
    people_fixture(district, tmp_path)
    path = tmp_path / "roles.csv"
    path.write_text(
        "姓名,电话,角色,网格编码,楼栋地址,开始日期,结束日期\n"
        "无名,13000000000,志愿者,,多福巷1号楼,,\n"
        "张伟,13800138000,队长,,多福巷1号楼,,\n"
        "张伟,13800138000,网格长,,多福巷1号楼,,\n"
        "李娜,,专职网格员,999,,,\n"
        "李娜,,志愿者,,多福巷1号楼,2024-05-01,2024-01-01\n", encoding="utf-8")
    message = rejected(district, import_roles, path)
    for expected in ("row 1 (line 2): no person 无名 / 13000000000",
                     "row 2 (line 3): unknown 角色 '队长'",
                     "row 3 (line 4): role grid_leader needs a grid code",
                     "row 4 (line 5): unknown grid code '999'",
                     "row 5 (line 6): 结束日期 2024-01-01 is before 2024-05-01"):
        assert expected in message, message


def test_each_import_is_audited_once_without_personal_data(district, tmp_path):
    (areas,) = audit_rows(district, "import.areas")
    assert areas == ("system", "areas", None, {
        "file": "areas.gpkg", "count": 6, "crs": "wgs84", "repaired": 0, "inserted": 6,
        "updated": 0, "codes": sorted([DISTRICT, STREET_W, STREET_E, C_SW, C_NW, C_E])})
    grids = unified_grids(district, tmp_path)
    ((actor, kind, layer_id, detail),) = audit_rows(district, "import.grids")
    assert (actor, kind, layer_id) == ("system", "grids", str(grids["layer_id"]))
    assert detail["codes"] == sorted([C_SW + "001", C_SW + "002", "DH-03"])
    assert (detail["count"], detail["generation"], detail["status"]) == (3, 1, "active")
    people_fixture(district, tmp_path)
    path = tmp_path / "roles.csv"
    path.write_text(f"姓名,电话,角色,社区编码\n李娜,13900139000,志愿者,{C_SW}\n", encoding="utf-8")
    import_roles(district, path, actor="cli:planner")
    path = tmp_path / "f.csv"
    path.write_text(f"类别,名称,经度,纬度\n药店,好药房,{HOME[0]},{HOME[1]}\n", encoding="utf-8")
    import_facilities(district, path, crs="gcj02")
    for action, count in (("import.buildings", 1), ("import.people", 4),
                          ("import.roles", 1), ("import.facilities", 1)):
        ((actor, kind, object_id, detail),) = audit_rows(district, action)
        assert (kind, object_id, detail["count"]) == (action.split(".")[1], None, count)
        assert "张伟" not in str(detail) and "138" not in str(detail)
    assert audit_rows(district, "import.roles")[0][0] == "cli:planner"
    assert audit_rows(district, "import.facilities")[0][3]["crs"] == "gcj02"
    assert audit_rows(district, "import.people")[0][3]["file"] == "people.xlsx"


# ---------------------------------------------------------------- command line


def gridgov(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": db_url}
    return subprocess.run([str(ROOT / ".venv/bin/gridgov"), "import", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


TOUCHED = (*TABLES, "walk_nodes", "walk_edges")


def row_counts(db_url: str) -> dict[str, int]:
    """Committed row counts, seen from a connection of its own as the CLI's commit would be."""
    with psycopg.connect(db_url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TOUCHED}


def failed_cleanly(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_bad_file_is_a_clear_error_without_traceback(db_url, tmp_path):
    path = tmp_path / "bad.geojson"
    frame([{"code": "110108", "name": "颠倒区"}], [box(39.9, 116.2, 40.0, 116.3)]).to_file(path)
    before = row_counts(db_url)
    done = gridgov(db_url, "areas", str(path), "--crs", "wgs84")
    failed_cleanly(done)
    assert "error: bad.geojson: 1 problem(s), nothing imported" in done.stderr
    assert "feature 1: latitude and longitude look swapped" in done.stderr
    done = gridgov(db_url, "areas", str(path), "--crs", "mars")
    failed_cleanly(done)
    assert "unknown CRS" in done.stderr
    (tmp_path / "people.csv").write_text("姓名,电话,住址\n张伟,13800138000,\n李娜,12ab,无此楼\n",
                                         encoding="utf-8")
    done = gridgov(db_url, "people", str(tmp_path / "people.csv"))
    failed_cleanly(done)
    assert "row 2 (line 3): 电话 '12ab' is not a phone number" in done.stderr
    assert row_counts(db_url) == before  # the good row 1 was not written either


def _wait_for_lock_wait(conn: psycopg.Connection, proc: subprocess.Popen[str]) -> None:
    """Until some session of this database waits for a lock (the CLI on our row)."""
    deadline = time.monotonic() + 60
    while not conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()").fetchone()[0]:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the import did not block: {proc.communicate()}")
        time.sleep(0.05)


def test_cli_database_failure_after_the_checks_writes_nothing(db_url, tmp_path):
    """A file that passes every check but fails in the database: another writer creates the
    same generation of the layer while the import runs (a unique violation at commit time,
    not in a savepoint as in the tests above)."""
    areas, grids = tmp_path / "cli_chaoyang_areas.geojson", tmp_path / "cli_grids.geojson"
    frame([{"code": "110105", "name": "朝阳区"}, {"code": "110105001", "name": "建外街道"},
           {"code": "110105001001", "name": "建国门外社区"}],
          [box(116.43, 39.90, 116.47, 39.92)] * 3).to_file(areas)
    frame([{"code": "110105001001001", "name": "建外第一网格"}],
          [box(116.43, 39.90, 116.47, 39.92)]).to_file(grids)
    blocker = psycopg.connect(db_url)
    try:
        with psycopg.connect(db_url) as conn:
            import_areas(conn, areas)
        before = row_counts(db_url)
        blocker.execute("INSERT INTO grid_layers (theme, name, scope_code, generation, status) "
                        "VALUES ('城管', '别人的草稿', '110105', 1, 'draft')")
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gridgov"), "import", "grids", str(grids), "--layer", "城管",
             "--scope", "110105"], env={**os.environ, "GRIDGOV_DATABASE_URL": db_url},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with psycopg.connect(db_url, autocommit=True) as watcher:
            _wait_for_lock_wait(watcher, proc)
        blocker.commit()
        out, err = proc.communicate(timeout=120)
        failed_cleanly(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        assert "error: cli_grids.geojson: 1 problem(s), nothing imported" in err
        assert "database: duplicate key value violates unique constraint" in err
        assert row_counts(db_url) == {**before, "grid_layers": before["grid_layers"] + 1}
    finally:
        blocker.rollback()
        blocker.close()
        with psycopg.connect(db_url) as conn:
            conn.execute("DELETE FROM grid_layers WHERE scope_code LIKE '110105%'")
            conn.execute("DELETE FROM areas WHERE code LIKE '110105%' AND level = 'community'")
            conn.execute("DELETE FROM areas WHERE code LIKE '110105%' AND level = 'street'")
            conn.execute("DELETE FROM areas WHERE code = '110105'")
            conn.execute("DELETE FROM audit_log WHERE detail->>'file' LIKE 'cli_%'")


def test_cli_good_file_prints_a_summary(db_url, tmp_path):
    path = tmp_path / "haidian.geojson"
    frame([{"code": "110108", "name": "海淀区"}], [BOWTIE]).to_file(path)
    try:
        done = gridgov(db_url, "areas", str(path))
        assert done.returncode == 0, done.stderr
        assert "imported 1 areas from haidian.geojson" in done.stdout
        assert "repaired (1):" in done.stdout and "feature 1: invalid geometry" in done.stdout
        with psycopg.connect(db_url) as conn:
            ((actor, detail),) = conn.execute(
                "SELECT actor, detail FROM audit_log WHERE action = 'import.areas' "
                "AND detail->>'file' = 'haidian.geojson'").fetchall()
        assert actor.startswith("cli:") and detail["codes"] == ["110108"]
        assert detail["repaired"] == 1
    finally:
        with psycopg.connect(db_url) as conn:
            conn.execute("DELETE FROM areas WHERE code = '110108'")
            conn.execute("DELETE FROM audit_log WHERE action = 'import.areas' "
                         "AND detail->>'file' = 'haidian.geojson'")
