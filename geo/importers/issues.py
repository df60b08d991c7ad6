"""Import the ledgers of 民情 a community already keeps (民情台账, 《社情日记》, spreadsheets).

Each row is an issue with a place (longitude/latitude or WKT), a time of report, a category
(one of ``issue_categories``), and optionally its kind (即办件 …), channel, status, time of
resolution, published answer, rating and reporter. The deadline follows the working-day
limits of its kind; the grid and community come from the place (geo.importers.places).
Rows whose 受理编号 is already stored for their community are skipped, so a ledger can be
imported again as it grows (rows already stored are not updated); a row without one gets a
code derived from its time, category, text and place, so it is recognised too. The ledger's
number is kept as ``ledger_code``: every issue gets a random receipt code of its own, since a
ledger's numbers can be guessed. A place in no community rejects the file. One transaction:
a bad row rejects the file and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from geo.db.bulk import ewkb_hex
from geo.db.queries.issues import WORKER_ROLES
from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.geometry import POINT
from geo.importers.places import locate
from geo.importers.result import ImportResult
from geo.importers.store import audit_import, database_errors, fetch_pairs, stage
from geo.importers.values import Row, choice, count, moment, phone
from geo.issues.intake import ALPHABET, receipt_code
from geo.issues.limits import DONE, Calendar
from geo.settings import Settings, get_settings

KINDS = {"即办件": "immediate", "限时件": "time_limited", "承诺件": "committed",
         "补办件": "remedial", "建议件": "suggestion", "immediate": "immediate",
         "time_limited": "time_limited", "committed": "committed", "remedial": "remedial",
         "suggestion": "suggestion"}
CHANNELS = {"居民": "resident_page", "网页": "resident_page", "小程序": "resident_page",
            "网格员": "grid_worker", "走访": "grid_worker", "入户": "grid_worker",
            "社情日记": "grid_worker", "热线": "hotline", "电话": "hotline",
            "民情热线": "hotline", "信箱": "mailbox", "民情信箱": "mailbox", "来信": "mailbox",
            "resident_page": "resident_page", "grid_worker": "grid_worker",
            "hotline": "hotline", "mailbox": "mailbox"}
STATUSES = {"已受理": "received", "待分派": "received", "已分派": "assigned",
            "办理中": "in_progress", "处理中": "in_progress", "已上报": "escalated",
            "协同中": "escalated", "已办结": "resolved", "已解决": "resolved",
            "已公示": "feedback_published", "已公示反馈": "feedback_published",
            "已关闭": "closed", "已归档": "closed", "received": "received",
            "assigned": "assigned", "in_progress": "in_progress", "escalated": "escalated",
            "resolved": "resolved", "feedback_published": "feedback_published",
            "closed": "closed"}
RATINGS = {"非常满意": "5", "满意": "4", "基本满意": "3", "不满意": "2", "非常不满意": "1"}


@dataclass
class IssueRow:
    at: int
    reported: dt.datetime
    category: str
    kind: str
    channel: str
    description: str
    status: str | None
    resolved: dt.datetime | None
    feedback: str | None
    satisfaction: int | None
    name: str | None
    phone: str | None
    code: str | None


def _rating(row: Row) -> int | None:
    raw = row.raw("satisfaction")
    if raw is None or str(raw).strip() in ("", "nan"):
        return None
    value = RATINGS.get(str(raw).strip(), raw)
    try:
        n = count(value, row.label("satisfaction"))
    except ValueError:
        n = None
    if n is None or not 1 <= n <= 5:
        row.problems.error(row.at, f"{row.label('satisfaction')} {raw!r} is not 1–5 or "
                           f"{' / '.join(RATINGS)}")
        return None
    return n


def _consistent(row: Row, issue: IssueRow) -> None:
    if issue.resolved is not None and issue.resolved < issue.reported:
        row.problems.error(row.at, f"{row.label('resolved_at')} comes before "
                           f"{row.label('reported_at')}")
    if issue.status in DONE and issue.resolved is None:
        row.problems.error(row.at, f"a {issue.status} issue needs {row.label('resolved_at')}")
    if issue.status not in (None, *DONE) and issue.resolved is not None:
        row.problems.error(row.at, f"{row.label('status')} says {issue.status} but "
                           f"{row.label('resolved_at')} is given")
    if issue.status == "feedback_published" and not issue.feedback:
        row.problems.error(row.at, "a published issue needs its answer (办理结果)")
    if issue.satisfaction is not None and issue.resolved is None:
        row.problems.error(row.at, "a rating needs the issue resolved")


def _check_row(row: Row, settings: Settings, zone: dt.tzinfo) -> IssueRow | None:
    reported = row.required("reported_at", moment, zone)
    category, description = row.required("category"), row.required("description")
    if category is not None and category not in settings.issue_categories:
        row.problems.error(row.at, f"unknown {row.label('category')} {category!r}; known: "
                           f"{'、'.join(settings.issue_categories)}")
    rest = (row.get("kind", choice, KINDS) or "time_limited",
            row.get("channel", choice, CHANNELS) or "grid_worker")
    status, resolved = row.get("status", choice, STATUSES), row.get("resolved_at", moment, zone)
    feedback, rating = row.get("feedback"), _rating(row)
    who = (row.get("reporter_name"), row.get("reporter_phone", phone))
    if reported is None or category is None or description is None:
        return None
    issue = IssueRow(row.at, reported, category, *rest, description, status, resolved,
                     feedback, rating, *who, row.get("receipt_code"))
    _consistent(row, issue)
    return issue


def _check(loaded: Loaded, settings: Settings, progress: bool) -> list[IssueRow]:
    zone = Calendar.of(settings).zone
    seen: dict[object, int] = {}
    out = []
    for row in loaded.rows(progress):
        issue = _check_row(row, settings, zone)
        if issue is None:
            continue
        if issue.code is not None:
            duplicates(loaded.problems, row.at, issue.code, seen, f"受理编号 {issue.code}")
        else:
            issue.code = _derived_code(issue, loaded, zone)
            duplicates(loaded.problems, row.at, issue.code, seen, "issue (same time, category, "
                       "text and place)")
        out.append(issue)
    return out


def _derived_code(issue: IssueRow, loaded: Loaded, zone: dt.tzinfo) -> str:
    assert loaded.geoms is not None
    where = loaded.geoms[issue.at]
    key = "|".join((issue.reported.isoformat(), issue.category, issue.description,
                    where.wkt if where is not None else ""))
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:5], "big")
    tail = "".join(ALPHABET[(digest >> (5 * k)) & 31] for k in range(8))
    return f"MQ{issue.reported.astimezone(zone):%Y%m%d}-L{tail}"


_STAGE = (("pos", "integer"), ("ledger", "text"), ("code", "text"), ("category", "text"), ("kind", "text"),
          ("channel", "text"), ("status", "text"), ("description", "text"),
          ("reported_at", "timestamptz"), ("due_at", "timestamptz"),
          ("resolved_at", "timestamptz"), ("feedback", "text"), ("satisfaction", "smallint"),
          ("reporter_name", "text"), ("reporter_phone", "text"), ("geom", "geometry"),
          ("community_code", "text"), ("spatial_community", "text"), ("grid_id", "integer"))

_INSERT = """
INSERT INTO resident_issues (receipt_code, ledger_code, category, kind, channel, status, level,
    description, geom, grid_id, community_code, reported_at, assigned_at, assignee_id, due_at,
    resolved_at, feedback, feedback_at, satisfaction, reporter_name, reporter_phone)
SELECT s.code, s.ledger, s.category, s.kind, s.channel, s.status,
       CASE WHEN s.status = 'escalated' THEN 'community' ELSE 'grid' END,
       s.description, s.geom, s.grid_id, s.community_code, s.reported_at,
       CASE WHEN s.grid_id IS NOT NULL THEN s.reported_at END,
       (SELECT r.person_id FROM role_assignments r
        WHERE r.grid_id = s.grid_id AND r.role = ANY(%(roles)s)
          AND r.valid_from <= %(today)s AND (r.valid_to IS NULL OR r.valid_to >= %(today)s)
        ORDER BY array_position(%(roles)s, r.role), r.id LIMIT 1),
       s.due_at, s.resolved_at, s.feedback,
       CASE WHEN s.status IN ('feedback_published', 'closed') AND s.feedback IS NOT NULL
            THEN s.resolved_at END,
       s.satisfaction, s.reporter_name, s.reporter_phone
FROM issue_stage s ORDER BY s.pos
ON CONFLICT (community_code, ledger_code) WHERE ledger_code IS NOT NULL DO NOTHING
RETURNING id, status, reported_at
"""
_DEFAULT_STATUS = """
UPDATE issue_stage SET status = CASE WHEN resolved_at IS NOT NULL THEN 'resolved'
                                     WHEN grid_id IS NOT NULL THEN 'assigned' ELSE 'received' END
WHERE status IS NULL
"""


def _stage_rows(loaded: Loaded, issues: list[IssueRow], calendar: Calendar
                ) -> list[tuple[object, ...]]:
    assert loaded.geoms is not None
    points = ewkb_hex([loaded.geoms[i.at] for i in issues])
    return [(i.at, i.code, receipt_code(i.reported.astimezone(calendar.zone)), i.category,
             i.kind, i.channel, i.status, i.description, i.reported,
             calendar.due(i.reported, i.kind), i.resolved, i.feedback, i.satisfaction, i.name,
             i.phone, p, None, None, None) for i, p in zip(issues, points, strict=True)]


def import_issues(conn: psycopg.Connection, path: str | Path, *, crs: str = "wgs84",
                  encoding: str | None = None, sheet: str | int | None = None,
                  progress: bool = False, actor: str = "system",
                  settings: Settings | None = None) -> ImportResult:
    """Import a ledger of issues; nothing is written unless every row is good. Audited as
    ``import.issues`` (counts only: the reporters are personal data)."""
    settings = settings or get_settings()
    calendar = Calendar.of(settings)
    loaded = load(path, cols.ISSUE, ("reported_at", "category", "description"), crs=crs,
                  allowed=POINT, encoding=encoding, sheet=sheet)
    with conn.transaction():
        issues = _check(loaded, settings, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            stage(conn, "issue_stage", _STAGE, _stage_rows(loaded, issues, calendar))
            locate(conn, "issue_stage", loaded.problems, grid=True)
            for (pos,) in fetch_pairs(conn, "SELECT pos FROM issue_stage "
                                      "WHERE community_code IS NULL ORDER BY pos"):
                loaded.problems.error(pos, "the place lies in no community of ours")
            loaded.problems.check()
            conn.execute(_DEFAULT_STATUS)
            today = dt.datetime.now(calendar.zone).date()
            made = conn.execute(_INSERT, {"roles": WORKER_ROLES, "today": today}).fetchall()
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO issue_events (issue_id, at, actor, action, to_status, detail) "
                    "VALUES (%s, %s, %s, 'import', %s, %s)",
                    [(oid, at, actor, status, Jsonb({"file": Path(path).name}))
                     for oid, status, at in made])
            audit_import(conn, actor, "issues", path, count=len(made), crs=loaded.crs,
                         repaired=loaded.problems.repaired_count,
                         skipped=len(issues) - len(made))
    return loaded.problems.result("issues", len(made), inserted=len(made),
                                  skipped=len(issues) - len(made))
