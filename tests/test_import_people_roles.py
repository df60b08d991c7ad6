"""People and role imports (personal data): matching, re-imports, bad rows, the audit log."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from geo.importers.facilities import import_facilities
from geo.importers.people import import_people
from geo.importers.roles import import_roles
from tests.importer_files import (
    C_E,
    C_NW,
    C_SW,
    DISTRICT,
    HOME,
    STREET_E,
    STREET_W,
    audit_rows,
    load_district,
    load_people,
    rejected,
    unified_grids,
)


@pytest.fixture
def district(db_conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    """The bare database with 东城区, two streets and three communities."""
    return load_district(db_conn, tmp_path)


def test_people_xlsx(district, tmp_path):
    load_people(district, tmp_path)
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
    load_people(district, tmp_path)
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
    load_people(district, tmp_path)
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
    load_people(district, tmp_path)
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
