"""Building and facility imports: GCJ-02 / BD-09 points, communities and grids, categories."""

from __future__ import annotations

from pathlib import Path

import prcoords
import psycopg
import pytest
from shapely.geometry import Point, box

from geo.importers.buildings import import_buildings
from geo.importers.facilities import import_facilities
from geo.importers.grids import import_grids
from tests.importer_files import (
    C_E,
    C_NW,
    C_SW,
    HOME,
    STREET_W,
    frame,
    load_district,
    rejected,
    unified_grids,
)


@pytest.fixture
def district(db_conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    """The bare database with 东城区, two streets and three communities."""
    return load_district(db_conn, tmp_path)


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


# ---------------------------------------------------------------- facilities


def test_facilities_geoparquet(district, tmp_path):
    gcj = prcoords.wgs_gcj(prcoords.Coords(HOME[1], HOME[0]))
    rows: list[dict[str, object]] = [
        {"类别": "党群服务中心", "名称": "多福巷党群服务中心", "电话": "010-65120000",
         "营业时间": "08:30-17:30", "面积": 320.5},
        {"类别": "pharmacy", "名称": "同仁堂药店", "电话": None, "营业时间": None, "面积": None}]
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
