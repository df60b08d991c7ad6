"""COPY the demo roster (people, roles, units, party organisations, issues) into PostGIS."""

from __future__ import annotations

import numpy as np
import psycopg
import shapely

from geo.db.bulk import copy_rows, ewkb_hex
from geo.demo.city import City
from geo.demo.db import fix_sequence, next_ids, to_wgs
from geo.demo.people import Roster


def write_roster(conn: psycopg.Connection, city: City, r: Roster, grid_ids: np.ndarray,
                 bld_ids: np.ndarray) -> None:
    unit_ids = next_ids(conn, "co_units", len(r.units))
    copy_rows(conn, "co_units", ["id", "name", "kind", "joint_meeting_member"],
              [(int(i), n, k, True) for i, (n, k) in zip(unit_ids, r.units, strict=True)])
    fix_sequence(conn, "co_units")
    copy_rows(conn, "unit_registrations",
              ["unit_id", "community_code", "registered_on"],
              [(int(unit_ids[u]), c, d) for u, c, d, _posts, _proj in r.registrations])
    conn.execute("UPDATE co_units u SET community_code = (SELECT min(r.community_code) "
                 "FROM unit_registrations r WHERE r.unit_id = u.id)")
    pids = next_ids(conn, "people", len(r.people))
    copy_rows(conn, "people", ["id", "name", "phone", "gender", "birth_year", "home_building_id",
                               "home_unit", "party_status"],
              [(int(i), n, ph, g, by, int(bld_ids[home]), unit, party)
               for i, (n, ph, g, by, home, unit, party) in zip(pids, r.people, strict=True)])
    fix_sequence(conn, "people")

    def opt(ids: np.ndarray, k: int | None) -> int | None:
        return None if k is None else int(ids[k])

    copy_rows(conn, "role_assignments", ["person_id", "role", "grid_id", "building_id",
                                         "area_code", "unit_id", "valid_from", "published",
                                         "work_phone"],
              [(int(pids[p]), role, opt(grid_ids, g), opt(bld_ids, b), area, opt(unit_ids, u),
                start, pub, wp) for p, role, g, b, area, u, start, pub, wp in r.roles])
    copy_rows(conn, "party_orgs", ["kind", "name", "area_code", "grid_id", "building_id",
                                   "secretary_person_id", "members"],
              [(k, n, a, opt(grid_ids, g), opt(bld_ids, b), opt(pids, s), m)
               for k, n, a, g, b, s, m in r.party_orgs])
    _write_issues(conn, city, r, grid_ids, bld_ids)


def _write_issues(conn: psycopg.Connection, city: City, r: Roster, grid_ids: np.ndarray,
                  bld_ids: np.ndarray) -> None:
    rng = np.random.default_rng(len(r.issues))
    pts = []
    for issue in r.issues:
        c = city.buildings[issue[6]].footprint.centroid
        dx, dy = rng.normal(0, 12, 2)
        pts.append(shapely.Point(c.x + dx, c.y + dy))
    wkb = ewkb_hex(to_wgs(pts, city.epsg))
    names = [p[0] for p in r.people]
    phones = [p[1] for p in r.people]
    rows = []
    ids = next_ids(conn, "resident_issues", len(r.issues))
    for k, (issue, g) in enumerate(zip(r.issues, wkb, strict=True)):
        (code, cat, kind, channel, status, text, bi, reported, assigned, resolved, feedback_at,
         closed, due, sat, has_reporter) = issue
        b = city.buildings[bi]
        grid = city.block_grid[b.block]
        who = (names[k % len(names)], phones[k % len(phones)]) if has_reporter else (None, None)
        feedback = f"已办结：{cat}问题已由网格员会同物业处理，感谢反映。" if feedback_at else None
        escalated = status == "escalated"
        rows.append((int(ids[k]), code, cat, kind, channel, status, text, g, int(bld_ids[bi]),
                     int(grid_ids[grid]), city.grids[grid].community, reported, assigned,
                     resolved, closed, due, sat, *who, feedback, feedback_at,
                     "community" if escalated else "grid",
                     "{社区居委会,物业公司}" if escalated else "{}"))
    copy_rows(conn, "resident_issues", [
        "id", "receipt_code", "category", "kind", "channel", "status", "description", "geom",
        "building_id", "grid_id", "community_code", "reported_at", "assigned_at", "resolved_at",
        "closed_at", "due_at", "satisfaction", "reporter_name", "reporter_phone", "feedback",
        "feedback_at", "level", "departments"], rows)
    fix_sequence(conn, "resident_issues")
    copy_rows(conn, "issue_events", ["issue_id", "at", "actor", "action", "from_status",
                                     "to_status"], _events(ids, r.issues))


def _events(ids: np.ndarray, issues: list[tuple]) -> list[tuple]:
    """The steps each demo issue went through, from its timestamps."""
    out = []
    for oid, issue in zip(ids, issues, strict=True):
        status, reported, assigned, resolved, feedback_at, closed = (
            issue[4], issue[7], issue[8], issue[9], issue[10], issue[11])
        steps = [(reported, "report", None, "received"), (assigned, "route", "received", "assigned")]
        if assigned is not None:
            steps.append((assigned, "start", "assigned", "in_progress"))
        if status == "escalated":
            steps.append((assigned, "escalate", "in_progress", "escalated"))
        steps += [(resolved, "resolve", "in_progress", "resolved"),
                  (feedback_at, "publish", "resolved", "feedback_published"),
                  (closed, "close", "feedback_published", "closed")]
        out += [(int(oid), at, "demo", action, before, after)
                for at, action, before, after in steps if at is not None]
    return out


def unit_ids_of(conn: psycopg.Connection, r: Roster) -> np.ndarray:
    """The database ids of the roster's units, in the roster's order (names are unique)."""
    ids: dict[str, int] = dict(conn.execute("SELECT name, id FROM co_units").fetchall())
    return np.array([ids[name] for name, _kind in r.units])
