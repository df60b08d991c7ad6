"""File formats and their row labels: Shapefile (GBK, zipped), XLSX sheets, CSV, unknown types."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import psycopg
import pytest
from shapely.geometry import box

from geo.errors import InvalidInput
from geo.importers.buildings import import_buildings
from tests.importer_files import (
    C_SW,
    frame,
    load_district,
    rejected,
)


@pytest.fixture
def district(db_conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    """The bare database with 东城区, two streets and three communities."""
    return load_district(db_conn, tmp_path)


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
