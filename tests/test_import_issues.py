"""Importing a 民情 ledger (XLSX with Chinese headers): deadlines by the working-day limits,
grids from the place, statuses checked against their dates, re-imports skipped, bad rows
rejecting the file with nothing written, the command line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest

from geo.db import migrate
from geo.importers.issues import import_issues
from tests.conftest import drop, fresh_database
from tests.importer_files import (
    C_NW,
    C_SW,
    HOME,
    audit_rows,
    gridgov,
    load_district,
    rejected,
    scalar,
    unified_grids,
)

CST = ZoneInfo("Asia/Shanghai")
HEAD = ["受理编号", "受理时间", "问题类别", "办件类型", "反映渠道", "问题描述", "经度", "纬度",
        "办理状态", "办结时间", "办理结果", "满意度", "反映人", "联系电话"]
GOOD = [
    ["SQ-001", dt.datetime(2026, 3, 2, 9, 30), "环境卫生", "即办件", "民情信箱", "垃圾未清运",
     HOME[0], HOME[1], "已关闭", "2026-03-02 16:00", "已清运", "满意", "张伟", "13800138000"],
    ["SQ-002", "2026/3/6 18:20", "物业", "限时件", "走访", "电梯故障", 116.39, 39.92, None,
     None, None, None, None, None],
    [None, "2026年3月9日 10:00", "邻里纠纷", None, "热线", "噪音扰民", 116.40, 39.89,
     "已办结", "2026-03-20 11:00", None, 2, None, None],
]


def ledger(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    book.active.append(HEAD)
    for r in rows:
        book.active.append(r)
    book.save(path)
    return path


@pytest.fixture
def district(db_conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    load_district(db_conn, tmp_path)
    unified_grids(db_conn, tmp_path)
    return db_conn


def test_a_ledger_becomes_issues_with_deadlines_and_grids(district, tmp_path):
    path = ledger(tmp_path / "民情台账.xlsx", GOOD)
    result = import_issues(district, path)
    assert result.details == {"inserted": 3, "skipped": 0}
    rows = district.execute(
        "SELECT i.ledger_code, i.kind, i.channel, i.status, g.code, i.community_code, "
        "i.due_at, i.satisfaction, i.reporter_phone, i.feedback_at IS NOT NULL "
        "FROM resident_issues i LEFT JOIN grids g ON g.id = i.grid_id "
        "WHERE i.description IN ('垃圾未清运', '电梯故障', '噪音扰民') ORDER BY i.reported_at"
    ).fetchall()
    end = lambda d: dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), CST)  # noqa: E731
    assert rows[0] == ("SQ-001", "immediate", "mailbox", "closed", C_SW + "002", C_SW,
                       end(dt.date(2026, 3, 2)), 4, "13800138000", True)
    # reported Friday after 17:00: counted from Monday, 5 working days → Friday 13 March
    code, kind, channel, status, grid, community, due = rows[1][:7]
    assert (code, kind, channel, status, community, due) == (
        "SQ-002", "time_limited", "grid_worker", "assigned", C_NW, end(dt.date(2026, 3, 13)))
    assert grid == "DH-03"  # the 银闸 grid
    assert rows[2][0].startswith("MQ20260309-L") and rows[2][1:4] == (
        "time_limited", "hotline", "resolved")
    assert rows[2][4] == C_SW + "002" and rows[2][7] == 2
    events = scalar(district, "SELECT count(*) FROM issue_events e JOIN resident_issues i ON "
                    "i.id = e.issue_id WHERE e.action = 'import' AND i.description IN "
                    "('垃圾未清运', '电梯故障', '噪音扰民')")
    assert events == 3
    [(actor, kind, _oid, detail)] = audit_rows(district, "import.issues")
    assert (actor, kind, detail["count"], detail["skipped"]) == ("system", "issues", 3, 0)
    assert "张伟" not in str(detail) and "13800138000" not in str(detail)
    again = import_issues(district, path)
    assert again.details == {"inserted": 0, "skipped": 3}  # the code-less row recognised too
    receipts = [r[0] for r in district.execute(
        "SELECT receipt_code FROM resident_issues WHERE ledger_code IS NOT NULL").fetchall()]
    assert all(len(c) == 19 and c.startswith("MQ2026030") for c in receipts)  # random, never SQ-…
    # the same number in another community's ledger is another issue
    other = ledger(tmp_path / "银闸.xlsx", [["SQ-001", "2026-03-03 10:00", "治安", None, None,
                                            "门禁损坏", 116.39, 39.93] + [None] * 6])
    assert import_issues(district, other).details == {"inserted": 1, "skipped": 0}


def test_bad_rows_reject_the_ledger(district, tmp_path):
    bad = [
        ["X-1", "2026-03-02", "噪音", "即办件", "信箱", "x", HOME[0], HOME[1], None, None, None,
         None, None, None],
        ["X-2", "yesterday", "物业", "急件", "飞鸽", "x", HOME[0], HOME[1], None, None, None,
         None, None, None],
        ["X-3", "2026-03-05", "物业", None, None, "x", HOME[0], HOME[1], "已办结", None, None,
         None, None, None],
        ["X-4", "2026-03-05", "物业", None, None, "x", HOME[0], HOME[1], None, "2026-03-01",
         None, 9, None, "call"],
        ["X-4", "2026-03-05", "物业", None, None, None, HOME[0], HOME[1], "已公示", "2026-03-06",
         None, None, None, None],
        ["X-6", "2026-03-05", "物业", None, None, "x", HOME[0], HOME[1], "已办结", "2026-03-06",
         None, "一般", None, None],
    ]
    message = rejected(district, import_issues, ledger(tmp_path / "bad.xlsx", bad))
    for expected in ("row 2: unknown 问题类别 '噪音'",
                     "row 3: 受理时间 'yesterday' is not a date and time",
                     "unknown 办件类型 '急件'", "unknown 反映渠道 '飞鸽'",
                     "row 4: a resolved issue needs 办结时间",
                     "row 5: 办结时间 comes before 受理时间",
                     "满意度 9 is not 1–5", "联系电话 'call' is not a phone number",
                     "row 6: 问题描述 is empty", "row 7: 满意度 '一般' is not 1–5"):
        assert expected in message, (expected, message)


def test_a_place_in_no_community_rejects_the_ledger(district, tmp_path):
    path = ledger(tmp_path / "far.xlsx", [["F-1", "2026-03-02", "物业", None, None, "x", 100.0,
                                           30.0] + [None] * 6])
    assert "row 2: the place lies in no community of ours" in rejected(district, import_issues,
                                                                      path)


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """A database of the test's own: the command line commits, and the shared bare database
    must stay bare for the other importer tests."""
    url = fresh_database("_issuecli")
    migrate.upgrade(url)
    yield url
    drop(url)


def test_the_command_line(scratch_url: str, tmp_path: Path) -> None:
    db_url = scratch_url
    with psycopg.connect(db_url, autocommit=True) as conn:
        load_district(conn, tmp_path)
    path = ledger(tmp_path / "ledger.xlsx", GOOD[:1])
    done = gridgov(db_url, "issues", str(path))
    assert done.returncode == 0, done.stderr
    assert "imported 1 issues from ledger.xlsx" in done.stdout
    bad = ledger(tmp_path / "bad.xlsx", [["Y", "2026-03-02", "噪音", None, None, "x", HOME[0],
                                          HOME[1], None, None, None, None, None, None]])
    failed = gridgov(db_url, "issues", str(bad))
    assert failed.returncode != 0 and "Traceback" not in failed.stderr + failed.stdout
    assert "unknown 问题类别 '噪音'" in failed.stderr + failed.stdout
