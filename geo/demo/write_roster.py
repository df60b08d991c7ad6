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
    copy_rows(conn, "unit_registrations", ["unit_id", "community_code", "registered_on",
                                           "service_posts", "projects"],
              [(int(unit_ids[u]), c, d, posts, proj) for u, c, d, posts, proj in r.registrations])
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
    for k, (issue, g) in enumerate(zip(r.issues, wkb, strict=True)):
        (code, cat, kind, channel, status, text, bi, reported, assigned, resolved, closed, due,
         sat, has_reporter) = issue
        b = city.buildings[bi]
        grid = city.block_grid[b.block]
        who = (names[k % len(names)], phones[k % len(phones)]) if has_reporter else (None, None)
        rows.append((code, cat, kind, channel, status, text, g, int(bld_ids[bi]),
                     int(grid_ids[grid]), city.grids[grid].community, reported, assigned,
                     resolved, closed, due, sat, *who))
    copy_rows(conn, "resident_issues", [
        "receipt_code", "category", "kind", "channel", "status", "description", "geom",
        "building_id", "grid_id", "community_code", "reported_at", "assigned_at", "resolved_at",
        "closed_at", "due_at", "satisfaction", "reporter_name", "reporter_phone"], rows)
