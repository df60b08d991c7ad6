"""Area and grid imports: levels and parents, CRS, repairs, bad files, layer generations."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from shapely.geometry import Point, box

from geo.errors import InvalidInput
from geo.importers.areas import import_areas
from geo.importers.grids import import_grids
from tests.importer_files import (
    BOWTIE,
    C_E,
    C_NW,
    C_SW,
    DISTRICT,
    STREET_E,
    STREET_W,
    area_frame,
    frame,
    load_district,
    rejected,
    snapshot,
    unified_grids,
)


@pytest.fixture
def district(db_conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    """The bare database with 东城区, two streets and three communities."""
    return load_district(db_conn, tmp_path)


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
