"""Check and write one sheet of a 共建共治 workbook. Each function reads its rows (problems
recorded against them), and writes them only when its sheet has no error; the workbook is one
transaction, so a bad sheet anywhere leaves the database as it was. Re-importing a workbook
updates what it names (by unit name, community + post or project name, alliance name …),
keeping what a row leaves empty; a claim already recorded is kept as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from geo.errors import InvalidInput
from geo.hours import off_hours, to_osm
from geo.importers.common import Loaded
from geo.importers.store import fetch_pairs
from geo.importers.values import Row, choice, count, flag, normalize_phone, number, phone
from geo.importers.values import date as day

UNIT_KINDS = {"机关": "government", "党政机关": "government", "市直": "government",
              "市直单位": "government", "区直": "government", "区直单位": "government",
              "事业单位": "public_institution", "企事业单位": "public_institution",
              "物业企业": "property_company",
              "国企": "state_enterprise", "国有企业": "state_enterprise",
              "非公企业": "private_enterprise", "民营企业": "private_enterprise",
              "社会组织": "social_organization", "物业": "property_company",
              "物业公司": "property_company", "金融机构": "financial", "银行": "financial",
              "其他": "other"}
PROJECT_STATUS = {"计划": "planned", "筹备": "planned", "进行中": "active", "实施中": "active",
                  "已完成": "done", "完成": "done"}
ALLIANCE_KINDS = {"商圈": "business_district", "园区": "industrial_park", "街道": "street",
                  "社区": "community"}


class Names:
    """What rows name, looked up in the database (again for each sheet: earlier sheets of the
    same workbook may have added units, posts or alliances)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        areas = fetch_pairs(conn, "SELECT code, name FROM areas")
        self.areas = {code for code, _ in areas}
        named: dict[str, list[str]] = {}
        for code, name in areas:
            named.setdefault(name, []).append(code)
        self.area_names = {n: c[0] for n, c in named.items() if len(c) == 1}
        self.units = dict(fetch_pairs(conn, "SELECT name, id FROM co_units"))
        self.people: dict[str, list[tuple[int, str | None]]] = {}
        for pid, name, ph in fetch_pairs(conn, "SELECT id, name, phone FROM people ORDER BY id"):
            self.people.setdefault(name, []).append((pid, ph))
        self.posts = {(c, n): i for i, c, n in fetch_pairs(
            conn, "SELECT id, community_code, name FROM service_posts")}
        self.projects = {(c, n): i for i, c, n in fetch_pairs(
            conn, "SELECT id, community_code, name FROM projects")}
        self.alliances = dict(fetch_pairs(conn, "SELECT name, id FROM alliances"))
        self.grids = dict(fetch_pairs(conn, "SELECT g.code, g.id FROM grids g JOIN grid_layers l "
                                      "ON l.id = g.layer_id WHERE l.status = 'active' "
                                      "AND l.theme = 'unified'"))

    def area(self, row: Row, field: str, levels: tuple[int, ...] = (12,)) -> str | None:
        value = row.get(field)
        if value is None:
            return None
        code = value if value in self.areas else self.area_names.get(value)
        if code is None or len(code) not in levels:
            what = "community" if levels == (12,) else "community or street"
            row.problems.error(row.at, f"{row.label(field)}: unknown {what} {value!r}")
            return None
        return code

    def unit(self, row: Row, field: str = "unit") -> int | None:
        name = row.get(field)
        if name is None:
            return None
        if name not in self.units:
            row.problems.error(row.at, f"{row.label(field)}: no unit {name!r} (list it in the "
                               "共建单位 sheet)")
        return self.units.get(name)

    def person(self, row: Row) -> int | None:
        name, ph = row.get("person"), row.get("phone", phone)
        if name is None:
            return None
        found = self.people.get(name, [])
        if ph is not None:
            found = [m for m in found if m[1] is not None and normalize_phone(m[1]) == ph]
        if len(found) == 1:
            return found[0][0]
        who = f"{name} / {ph}" if ph else name
        row.problems.error(row.at, f"no person {who} (import people first)" if not found
                           else f"{len(found)} people match {who}; add a phone")
        return None


Sheet = Callable[[psycopg.Connection, Loaded, Names], int]


def _rows(loaded: Loaded, check: Callable[[Row], tuple[Any, ...] | None]) -> list[tuple[Any, ...]]:
    """The rows that passed their checks. They are written even when others failed (the
    workbook is then rolled back as a whole), so that later sheets find what they name and
    report only their own problems."""
    out = []
    for row in loaded.rows():
        r = check(row)
        if r is not None and not loaded.problems.failed(row.at):
            out.append(r)
    return out


def _write(conn: psycopg.Connection, sql: str, rows: list[tuple[Any, ...]]) -> int:
    with conn.cursor() as cur:
        cur.executemany(sql, rows)
    return len(rows)


def units(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        name, kind = row.required("name"), row.required("kind", choice, UNIT_KINDS)
        values = (name, kind, row.get("address"), names.area(row, "community"),
                  row.get("joint", flag))
        return values if name and kind else None
    return _write(conn, "INSERT INTO co_units (name, kind, address, community_code, "
                  "joint_meeting_member) VALUES (%s, %s, %s, %s, coalesce(%s, false)) "
                  "ON CONFLICT (name) DO "
                  "UPDATE SET kind = EXCLUDED.kind, address = coalesce(EXCLUDED.address, "
                  "co_units.address), community_code = coalesce(EXCLUDED.community_code, "
                  "co_units.community_code), joint_meeting_member = "
                  "coalesce(%s, co_units.joint_meeting_member)",
                  [(*r, r[-1]) for r in _rows(loaded, check)])


def registrations(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        values = (names.unit(row), names.area(row, "community"), row.required("date", day))
        return values if all(v is not None for v in values) else None
    return _write(conn, "INSERT INTO unit_registrations (unit_id, community_code, "
                  "registered_on) VALUES (%s, %s, %s) ON CONFLICT (unit_id, community_code) "
                  "DO UPDATE SET registered_on = EXCLUDED.registered_on", _rows(loaded, check))


def posts(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        community, name = names.area(row, "community"), row.required("name")
        slots = row.get("slots", count)
        if slots is not None and slots < 1:
            row.problems.error(row.at, f"{row.label('slots')} must be at least 1")
        return (community, name, row.get("kind"), slots) if community and name else None
    return _write(conn, "INSERT INTO service_posts (community_code, name, kind, slots) VALUES "
                  "(%s, %s, %s, coalesce(%s, 1)) ON CONFLICT (community_code, name) DO UPDATE "
                  "SET kind = coalesce(EXCLUDED.kind, service_posts.kind), slots = "
                  "coalesce(%s, service_posts.slots)",
                  [(*r, r[-1]) for r in _rows(loaded, check)])


def projects(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        community, name = names.area(row, "community"), row.required("name")
        status = row.get("status", choice, PROJECT_STATUS) or "active"
        values = (community, name, row.get("kind"), status, row.get("date", day))
        return values if community and name else None
    return _write(conn, "INSERT INTO projects (community_code, name, kind, status, started_on) "
                  "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (community_code, name) DO UPDATE SET "
                  "kind = EXCLUDED.kind, status = EXCLUDED.status, started_on = "
                  "coalesce(EXCLUDED.started_on, projects.started_on)", _rows(loaded, check))


def claims(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        community = names.area(row, "community")
        post, project = row.get("post"), row.get("project")
        unit = names.unit(row) if row.get("unit") else None
        person = names.person(row) if row.get("person") else None
        if (post is None) == (project is None):
            row.problems.error(row.at, "name a post (岗位名称) or a project (项目名称), one of them")
        if (row.get("unit") is None) == (row.get("person") is None):
            row.problems.error(row.at, "name the unit or the party member who claims it, one")
        target = (names.posts if post else names.projects).get((community or "", post or project))
        if community and (post or project) and target is None:
            row.problems.error(row.at, f"{community} offers no {'post' if post else 'project'} "
                               f"{post or project!r}")
        when = row.get("date", day) or date.today()
        return (target if post else None, target if project else None, unit, person, when,
                bool(row.get("leads", flag)))
    return _write(conn, "INSERT INTO claims (post_id, project_id, unit_id, person_id, "
                  "claimed_on, leads) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                  _rows(loaded, check))


_QUARTER = re.compile(r"^(\d{4})\s*(?:Q|年第?)\s*([1-4一二三四])\s*(?:季度)?$", re.IGNORECASE)


def _quarter(value: Any, field: str) -> str | None:
    from geo.importers.values import BadValue, text

    s = text(value)
    if s is None:
        return None
    m = _QUARTER.match(s)
    if m is None:
        raise BadValue(f"{field} {s!r} is not a quarter (2026Q3 or 2026年第3季度)")
    return f"{m[1]}Q{'一二三四'.index(m[2]) + 1 if m[2] in '一二三四' else m[2]}"


def seats(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        person, area = names.person(row), names.area(row, "area", (9, 12))
        unit = names.unit(row) if row.get("unit") else None
        quarter = row.required("quarter", _quarter)
        n = [row.get(k, count) or 0 for k in ("meetings", "projects_led", "matters")]
        if person is None or area is None or quarter is None:
            return None
        return (person, area, unit, row.get("date", day) or date.today(), quarter, *n)
    rows = _rows(loaded, check)
    for person, area, unit, since, quarter, meetings, led, matters in rows:
        seat = conn.execute(
            "SELECT id FROM role_assignments WHERE person_id = %s AND area_code = %s AND role = "
            "'committee_member' AND (valid_to IS NULL OR valid_to >= current_date) ORDER BY id "
            "LIMIT 1", (person, area)).fetchone()
        if seat is None:
            seat = conn.execute(
                "INSERT INTO role_assignments (person_id, role, area_code, unit_id, valid_from) "
                "VALUES (%s, 'committee_member', %s, %s, %s) RETURNING id",
                (person, area, unit, since)).fetchone()
        assert seat is not None
        conn.execute("INSERT INTO duty_records (seat_id, quarter, meetings, projects_led, "
                     "matters) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (seat_id, quarter) DO "
                     "UPDATE SET meetings = EXCLUDED.meetings, projects_led = "
                     "EXCLUDED.projects_led, matters = EXCLUDED.matters",
                     (seat[0], quarter, meetings, led, matters))
    return len(rows)


def alliances(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        name, kind = row.required("name"), row.required("kind", choice, ALLIANCE_KINDS)
        area = names.area(row, "area", (6, 9, 12))
        code = row.get("grid")
        if code is not None and code not in names.grids:
            row.problems.error(row.at, f"{row.label('grid')}: no active grid {code!r}")
        lead = names.unit(row, "lead") if row.get("lead") else None
        values = (name, kind, area, names.grids.get(code or ""), lead, row.get("date", day))
        return values if name and kind and area else None
    return _write(conn, "INSERT INTO alliances (name, kind, area_code, grid_id, lead_unit_id, "
                  "founded_on) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                  "kind = EXCLUDED.kind, area_code = EXCLUDED.area_code, grid_id = "
                  "coalesce(EXCLUDED.grid_id, alliances.grid_id), lead_unit_id = "
                  "coalesce(EXCLUDED.lead_unit_id, alliances.lead_unit_id), founded_on = "
                  "coalesce(EXCLUDED.founded_on, alliances.founded_on)", _rows(loaded, check))


def members(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    def check(row: Row) -> tuple[Any, ...] | None:
        name, unit = row.required("alliance"), names.unit(row)
        if name is not None and name not in names.alliances:
            row.problems.error(row.at, f"no alliance {name!r} (list it in the 区域党建联盟 sheet)")
        alliance = names.alliances.get(name or "")
        return (alliance, unit, row.get("date", day)) if alliance and unit else None
    return _write(conn, "INSERT INTO alliance_members (alliance_id, unit_id, joined_on) VALUES "
                  "(%s, %s, %s) ON CONFLICT (alliance_id, unit_id) DO UPDATE SET joined_on = "
                  "EXCLUDED.joined_on", _rows(loaded, check))


def _hours(row: Row) -> str | None:
    text = row.get("hours")
    if text is None:
        return None
    try:
        return to_osm(text)
    except InvalidInput as exc:
        row.problems.error(row.at, f"{row.label('hours')}: {exc}")
        return None


def sites(conn: psycopg.Connection, loaded: Loaded, names: Names) -> int:
    found: dict[tuple[str, str | None], list[int]] = {}
    for fid, name, comm in fetch_pairs(conn, "SELECT id, name, community_code FROM facilities"):
        found.setdefault((name, None), []).append(fid)
        found.setdefault((name, comm), []).append(fid)

    def check(row: Row) -> tuple[Any, ...] | None:
        name, community = row.required("name"), names.area(row, "community")
        ids = found.get((name or "", community), [])
        if name and len(ids) != 1:
            row.problems.error(row.at, f"no site named {name!r}" if not ids else
                               f"{len(ids)} sites are named {name!r}; give the community")
        area, hours = row.get("area", number), _hours(row)
        if area is not None and area <= 0:
            row.problems.error(row.at, f"{row.label('area')} must be positive")
        windows = [w.strip() for w in re.split(r"[、,，;；/]", row.get("windows") or "")
                   if w.strip()]
        return (area, hours, None if hours is None else off_hours(hours),
                Jsonb(windows) if windows else None, ids[0]) if len(ids) == 1 else None
    return _write(conn, "UPDATE facilities SET floor_area_m2 = coalesce(%s, floor_area_m2), "
                  "opening_hours = coalesce(%s, opening_hours), off_hours_service = "
                  "coalesce(%s, off_hours_service), service_windows = coalesce(%s, "
                  "service_windows) WHERE id = %s", _rows(loaded, check))


SHEETS: dict[str, Sheet] = {"units": units, "registrations": registrations, "posts": posts,
                            "projects": projects, "claims": claims, "seats": seats,
                            "alliances": alliances, "members": members, "sites": sites}
