"""共建共治 from a workbook with Chinese headers, on a district of its own (东城区): units and
their 双报到, posts offered and claimed, projects, part-time committee members with their
"1+1+N" records, alliances, sites' floor area, opening hours and windows; then the coverage
indicators of communities and streets against counts made by hand; bad sheets writing
nothing; the command line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest

from geo import coverage
from geo.auth import User
from geo.coverage_co import keeps_duties, last_quarter
from geo.coverage_geojson import coverage_collection
from geo.db import migrate
from geo.errors import ImportRejected
from geo.importers.co_building import import_co_building
from geo.importers.facilities import import_facilities
from geo.settings import Settings
from tests.conftest import drop, fresh_database
from tests.importer_files import (
    C_E,
    C_NW,
    C_SW,
    STREET_E,
    STREET_W,
    gridgov,
    load_district,
    load_people,
    unified_grids,
)

Q = last_quarter(date.today())
ADMIN = User(1, "admin", "admin", None)  # sees every count (no small-group suppression)
SHEETS: dict[str, list[list[Any]]] = {
    "共建单位": [["单位名称", "单位类型", "所属社区"], ["区税务局", "机关", C_SW],
             ["华润物业", "物业", C_SW], ["工商银行东华门支行", "金融机构", C_E]],
    "双报到": [["单位名称", "社区", "报到日期"], ["区税务局", C_SW, "2025-01-10"],
            ["华润物业", "多福巷社区", "2025-02-01"], ["华润物业", C_NW, "2025-02-01"],
            ["工商银行东华门支行", C_E, "2025-03-01"]],
    "服务岗位": [["社区", "岗位名称", "岗位数"], [C_SW, "治安巡逻", 2], [C_SW, "便民服务", 1],
             [C_NW, "政策宣传", 3]],
    "帮扶项目": [["社区", "项目名称", "状态"], [C_SW, "老旧小区改造", "进行中"]],
    "认领": [["社区", "岗位名称", "项目名称", "单位名称", "党员姓名", "电话", "领办"],
           [C_SW, "治安巡逻", None, "区税务局", None, None, None],
           [C_SW, "治安巡逻", None, "华润物业", None, None, None],
           [C_SW, "便民服务", None, None, "张伟", "13800138000", None],
           [C_NW, "政策宣传", None, "华润物业", None, None, None],
           [C_SW, None, "老旧小区改造", "区税务局", None, None, "是"]],
    "兼职委员": [["姓名", "电话", "单位名称", "任职社区", "任职日期", "季度", "参加议事会", "领办项目",
              "协助实事"],
             ["李娜", "13900139000", "区税务局", C_SW, "2025-01-01", Q, 1, 1, 2],
             ["赵强", "13700137000", "华润物业", STREET_W, "2025-01-01",
              Q.replace("Q", "年第") + "季度", 1, 0, 5],
             ["张伟", "13800138000", None, C_E, "2025-01-01", Q, 2, 1, 0]],
    "区域党建联盟": [["联盟名称", "联盟类型", "所属区域", "牵头单位"],
                 ["东华门商圈党建联盟", "商圈", STREET_W, "区税务局"]],
    "联盟成员": [["联盟名称", "单位名称"], ["东华门商圈党建联盟", "区税务局"],
             ["东华门商圈党建联盟", "华润物业"]],
    "阵地": [["阵地名称", "面积", "开放时间", "服务窗口"],
           ["多福巷党群服务中心", 450, "周一至周五 8:30-17:30；周六 9:00-12:00", "党建服务、社保医保"],
           ["银闸党群服务中心", 1200, "周一至周五 9:00-17:00；工作日 18:00-21:00", None],
           ["景山东街党群服务中心", 350, "周一至周五 8:30-17:30", None]],
}


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r in rows:
            sheet.append(r)
    book.save(path)
    return path


def _sites(conn: psycopg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text("类别,名称,经度,纬度\n"
                    "党群服务中心,多福巷党群服务中心,116.39,39.89\n"
                    "党群服务中心,银闸党群服务中心,116.39,39.93\n"
                    "党群服务中心,景山东街党群服务中心,116.42,39.90\n", encoding="utf-8")
    import_facilities(conn, path)


@pytest.fixture
def district_url(tmp_path: Path) -> Iterator[str]:
    """东城区 with people, grids and three 党群服务中心, committed in a database of its own."""
    url = fresh_database("_cobuild")
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        load_district(conn, tmp_path)
        load_people(conn, tmp_path)
        unified_grids(conn, tmp_path)
        _sites(conn, tmp_path)
    yield url
    drop(url)


def _coverage(url: str, level: str, within: str) -> dict[str, dict[str, Any]]:
    async def run() -> dict[str, Any]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return await coverage_collection(conn, ADMIN, Settings(), level, within,
                                             coverage.chosen(None), geometry=False)
    return {f["id"]: f["properties"] for f in asyncio.run(run())["features"]}


def test_a_workbook_and_the_indicators_by_hand(district_url: str, tmp_path: Path) -> None:
    with psycopg.connect(district_url) as conn:
        result = import_co_building(conn, workbook(tmp_path / "共建.xlsx", SHEETS))
        assert result.details == {"units": 3, "registrations": 4, "posts": 3, "projects": 1,
                                  "claims": 5, "seats": 3, "alliances": 1, "members": 2,
                                  "sites": 3}
        seats = conn.execute("SELECT p.name, r.area_code, u.name, d.quarter, d.matters FROM "
                             "duty_records d JOIN role_assignments r ON r.id = d.seat_id JOIN "
                             "people p ON p.id = r.person_id LEFT JOIN co_units u ON u.id = "
                             "r.unit_id ORDER BY p.name").fetchall()
        assert seats == [("张伟", C_E, None, Q, 0), ("李娜", C_SW, "区税务局", Q, 2),
                         ("赵强", STREET_W, "华润物业", Q, 5)]
        hours = dict(conn.execute("SELECT name, off_hours_service FROM facilities").fetchall())
        assert hours == {"多福巷党群服务中心": True, "银闸党群服务中心": True,
                         "景山东街党群服务中心": False}
        assert conn.execute("SELECT service_windows FROM facilities WHERE name = "
                            "'多福巷党群服务中心'").fetchone() == (["党建服务", "社保医保"],)
        assert conn.execute("SELECT leads FROM claims WHERE project_id IS NOT NULL"
                            ).fetchall() == [(True,)]
        again = import_co_building(conn, tmp_path / "共建.xlsx")  # updates, adds nothing
        assert again.count == result.count
        assert conn.execute("SELECT count(*) FROM claims").fetchone() == (5,)
        assert conn.execute("SELECT count(*) FROM role_assignments WHERE role = "
                            "'committee_member'").fetchone() == (3,)

    streets = _coverage(district_url, "street", "110101")
    w = streets[STREET_W]
    assert {k: w["counts"][k] for k in ("communities", "unit_registrations", "posts_offered",
                                        "posts_claimed", "seats", "seats_meeting",
                                        "sites_standard", "sites_500", "sites_1000",
                                        "sites_off_hours")} == {
        "communities": 2, "unit_registrations": 3, "posts_offered": 6, "posts_claimed": 4,
        "seats": 2, "seats_meeting": 1, "sites_standard": 2, "sites_500": 1, "sites_1000": 1,
        "sites_off_hours": 2}
    ind = {k: v["value"] for k, v in w["indicators"].items()}
    assert ind["posts_claimed"] == pytest.approx(4 / 6, abs=1e-4)
    assert (ind["committee_duty"], ind["site_area"], ind["site_area_500"],
            ind["site_off_hours"], ind["unit_registrations"]) == (0.5, 1.0, 0.5, 1.0, 1.5)
    assert w["indicators"]["committee_duty"]["pass"] is False
    e = streets[STREET_E]["indicators"]
    assert (e["site_area"]["value"], e["site_off_hours"]["value"], e["committee_duty"]["value"],
            e["posts_claimed"]["value"]) == (0.0, 0.0, 0.0, None)  # no post offered in C_E
    communities = _coverage(district_url, "community", STREET_W)
    assert communities[C_NW]["indicators"]["site_area_1000"]["value"] == 1.0
    assert communities[C_SW]["counts"]["seats"] == 1  # the street's own seat is not C_SW's
    grids = _coverage(district_url, "grid", "110101")
    assert grids and all("site_area" not in g["indicators"] for g in grids.values())


def test_one_quarter_and_the_duty_list() -> None:
    assert last_quarter(date(2026, 12, 6)) == "2026Q3"
    assert last_quarter(date(2027, 2, 1)) == "2026Q4"
    assert last_quarter(date(2026, 4, 1)) == "2026Q1"
    seat = {"meetings": 1, "projects_led": 1, "matters": 2}
    assert keeps_duties(seat, 2) and not keeps_duties(seat, 3)
    assert not keeps_duties({**seat, "meetings": 0}, 1)
    assert not keeps_duties({"meetings": None, "projects_led": None, "matters": None}, 0)


def _counts(conn: psycopg.Connection) -> tuple[int, ...]:
    row = conn.execute("SELECT (SELECT count(*) FROM co_units), (SELECT count(*) FROM "
                       "unit_registrations), (SELECT count(*) FROM service_posts), (SELECT "
                       "count(*) FROM claims), (SELECT count(*) FROM duty_records), (SELECT "
                       "count(*) FROM audit_log)").fetchone()
    assert row is not None
    return tuple(row)


def test_bad_sheets_are_all_listed_and_nothing_is_written(district_url: str,
                                                          tmp_path: Path) -> None:
    bad = {
        "共建单位": [["单位名称", "单位类型"], ["区税务局", "机关"], ["某某公司", "外企"]],
        "服务岗位": [["社区", "岗位名称", "岗位数"], ["无此社区", "治安巡逻", 2],
                 [C_SW, "便民服务", 0]],
        "认领": [["社区", "岗位名称", "单位名称"], [C_SW, "不存在的岗位", "区税务局"],
               [C_SW, "便民服务", "无名单位"]],
        "兼职委员": [["姓名", "任职社区", "季度"], ["李娜", C_SW, "第三季度"], ["查无此人", C_SW, Q]],
        "阵地": [["阵地名称", "开放时间"], ["多福巷党群服务中心", "看心情"]],
    }
    with psycopg.connect(district_url) as conn:
        before = _counts(conn)
        with pytest.raises(ImportRejected) as info:
            import_co_building(conn, workbook(tmp_path / "bad.xlsx", bad))
        message = str(info.value)
        assert _counts(conn) == before
    for expected in ("共建单位 row 3: unknown 单位类型 '外企'",
                     "服务岗位 row 2: 社区: unknown community '无此社区'",
                     "服务岗位 row 3: 岗位数 must be at least 1",
                     "认领 row 2: " + C_SW + " offers no post '不存在的岗位'",
                     "认领 row 3: 单位名称: no unit '无名单位'",
                     "兼职委员 row 2: 季度 '第三季度' is not a quarter",
                     "兼职委员 row 3: no person 查无此人",
                     "阵地 row 2: 开放时间:"):
        assert expected in message, (expected, message)


def test_the_command_line(district_url: str, tmp_path: Path) -> None:
    path = workbook(tmp_path / "共建.xlsx", {k: SHEETS[k] for k in ("共建单位", "双报到")})
    done = gridgov(district_url, "co-building", str(path))
    assert done.returncode == 0, done.stderr
    assert "imported 7 rows from 共建.xlsx" in done.stdout
    csv = tmp_path / "posts.csv"
    csv.write_text("社区,岗位名称,岗位数\n无此社区,治安巡逻,2\n", encoding="utf-8")
    failed = gridgov(district_url, "co-building", str(csv), "--kind", "posts")
    assert failed.returncode != 0 and "Traceback" not in failed.stdout + failed.stderr
    assert "unknown community '无此社区'" in failed.stdout + failed.stderr
