"""共建共治 in the demo city, written after the roster from what it holds: the posts and
projects each community offers (more slots than units claim in some), the claims of its
registered units, "1+1+N" duty records of the 116 part-time committee members for three
quarters, duty posts of some registered party members at their homes, 党员示范户 and
先锋楼/示范楼, an alliance per street (大工委) and per market 商圈, service windows of the
党群服务中心 and a volunteer station beside each (seeds 001–004)."""

from __future__ import annotations

import numpy as np
import psycopg

from geo.db.bulk import copy_rows
from geo.resources_co import DUTY_TYPES

QUARTERS = ("2026Q1", "2026Q2", "2026Q3")
WINDOWS = ("党建服务", "政务服务", "社保医保", "民政救助", "就业服务", "法律服务", "志愿服务")


def write_co_building(conn: psycopg.Connection, rng: np.random.Generator,
                      registrations: list[tuple[int, str, object, list[str], list[str]]],
                      unit_ids: np.ndarray) -> None:
    _posts_and_projects(conn, rng, registrations, unit_ids)
    _duty_records(conn, rng)
    _duty_posts_and_honours(conn, rng)
    _unit_places(conn)
    _alliances(conn, rng)
    _sites(conn, rng)


def _posts_and_projects(conn: psycopg.Connection, rng: np.random.Generator,
                        registrations: list[tuple[int, str, object, list[str], list[str]]],
                        unit_ids: np.ndarray) -> None:
    claims: dict[tuple[str, str], list[tuple[int, object]]] = {}
    wanted: dict[tuple[str, str], list[tuple[int, object]]] = {}
    for u, comm, day, posts, projects in registrations:
        for name in posts:
            claims.setdefault((comm, name), []).append((int(unit_ids[u]), day))
        for name in projects:
            wanted.setdefault((comm, name), []).append((int(unit_ids[u]), day))
    # a fifth of the posts offer a slot or two more than the units took
    copy_rows(conn, "service_posts", ["community_code", "name", "kind", "slots"],
              [(c, n, "便民服务" if n == "便民服务" else "志愿服务",
                len(who) + (int(rng.integers(1, 3)) if rng.random() < 0.2 else 0))
               for (c, n), who in sorted(claims.items())])
    copy_rows(conn, "projects", ["community_code", "name", "kind", "status", "started_on"],
              [(c, n, "帮扶", str(rng.choice(["active", "done"], p=[0.7, 0.3])), who[0][1])
               for (c, n), who in sorted(wanted.items())])
    conn.execute("CREATE TEMP TABLE demo_claims (community_code text, name text, unit_id int, "
                 "day date, is_post boolean, leads boolean) ON COMMIT DROP")
    rows = [(c, n, unit, day, True, False) for (c, n), who in claims.items() for unit, day in who]
    rows += [(c, n, unit, day, False, k == 0) for (c, n), who in wanted.items()
             for k, (unit, day) in enumerate(who)]
    copy_rows(conn, "demo_claims", ["community_code", "name", "unit_id", "day", "is_post",
                                    "leads"], rows)
    conn.execute("""
        INSERT INTO claims (post_id, project_id, unit_id, claimed_on, leads)
        SELECT s.id, j.id, d.unit_id, d.day, d.leads FROM demo_claims d
        LEFT JOIN service_posts s ON d.is_post AND s.community_code = d.community_code
                                  AND s.name = d.name
        LEFT JOIN projects j ON NOT d.is_post AND j.community_code = d.community_code
                             AND j.name = d.name
        ORDER BY d.community_code, d.name, d.unit_id""")


def _duty_records(conn: psycopg.Connection, rng: np.random.Generator) -> None:
    seats = [r[0] for r in conn.execute(
        "SELECT id FROM role_assignments WHERE role = 'committee_member' ORDER BY id")]
    rows = []
    for seat in seats:
        keen = rng.random() < 0.75  # most keep to 1+1+N; some miss a meeting or a project
        for q in QUARTERS:
            rows.append((seat, q, int(rng.integers(1, 3)) if keen else int(rng.integers(0, 2)),
                         int(rng.integers(1, 2)) if keen else int(rng.integers(0, 2)),
                         int(rng.integers(1, 7))))
    copy_rows(conn, "duty_records", ["seat_id", "quarter", "meetings", "projects_led",
                                     "matters"], rows)


def _duty_posts_and_honours(conn: psycopg.Connection, rng: np.random.Generator) -> None:
    members = conn.execute("""
        SELECT p.id, b.id, b.grid_id, b.community_code, ST_PointOnSurface(b.footprint)
        FROM people p JOIN buildings b ON b.id = p.home_building_id
        WHERE p.party_status = 'registered' AND b.community_code IS NOT NULL
        ORDER BY p.id""").fetchall()
    chosen = [m for m in members if rng.random() < 0.3]
    copy_rows(conn, "duty_posts", ["person_id", "post_type", "community_code", "grid_id",
                                   "building_id", "geom", "valid_from"],
              [(pid, str(rng.choice(DUTY_TYPES)), comm, grid, bid, geom, "2025-03-01")
               for pid, bid, grid, comm, geom in chosen])
    households = [(pid, comm) for pid, _b, _g, comm, _geom in chosen if rng.random() < 0.08]
    copy_rows(conn, "honours", ["kind", "person_id", "community_code", "awarded_on"],
              [("model_household", pid, comm, "2025-07-01") for pid, comm in households])
    conn.execute("""
        INSERT INTO honours (kind, building_id, community_code, awarded_on)
        SELECT CASE WHEN rank = 1 THEN 'pioneer_building' ELSE 'model_building' END, id,
               community_code, DATE '2025-07-01'
        FROM (SELECT b.id, b.community_code, row_number() OVER (
                  PARTITION BY b.community_code ORDER BY count(*) DESC, b.id) AS rank
              FROM buildings b JOIN people p ON p.home_building_id = b.id
              WHERE p.party_status IS NOT NULL AND b.community_code IS NOT NULL
              GROUP BY b.id, b.community_code) ranked
        WHERE rank <= 2""")


def _unit_places(conn: psycopg.Connection) -> None:
    """Each unit at a point of its community (seeded: the same city every time)."""
    conn.execute("""
        UPDATE co_units u SET geom = ST_GeometryN(ST_GeneratePoints(a.geom, 1, u.id), 1)
        FROM areas a WHERE a.code = u.community_code""")


def _alliances(conn: psycopg.Connection, rng: np.random.Generator) -> None:
    conn.execute("""
        INSERT INTO alliances (name, kind, area_code, founded_on)
        SELECT name || '区域党建联盟', 'street', code, DATE '2022-06-01' FROM areas
        WHERE level = 'street' AND parent_code = '520602' ORDER BY code""")
    conn.execute("""
        INSERT INTO alliances (name, kind, area_code, grid_id, founded_on)
        SELECT replace(g.name, '专属网格', '') || '商圈党建联盟', 'business_district',
               g.community_code, g.id, DATE '2023-03-01'
        FROM grids g JOIN grid_layers l ON l.id = g.layer_id
        WHERE l.theme = 'unified' AND l.status = 'active' AND g.dedicated_type = 'market'
        ORDER BY g.code""")
    pairs = conn.execute("""
        SELECT a.id, r.unit_id FROM alliances a
        JOIN unit_registrations r ON r.community_code LIKE left(a.area_code, 9) || '%'
        ORDER BY a.id, r.unit_id""").fetchall()
    seen: set[tuple[int, int]] = set()
    rows = []
    for alliance, unit in pairs:
        if (alliance, unit) not in seen and rng.random() < 0.35:
            seen.add((alliance, unit))
            rows.append((alliance, unit, "2023-06-01"))
    copy_rows(conn, "alliance_members", ["alliance_id", "unit_id", "joined_on"], rows)
    conn.execute("""
        UPDATE alliances a SET lead_unit_id = (
            SELECT min(m.unit_id) FROM alliance_members m WHERE m.alliance_id = a.id)""")


def _sites(conn: psycopg.Connection, rng: np.random.Generator) -> None:
    centres = conn.execute("SELECT id FROM facilities WHERE category = 'party_service_center' "
                           "ORDER BY id").fetchall()
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE facilities SET service_windows = %s::jsonb WHERE id = %s",
            [(_windows(rng), fid) for (fid,) in centres])
    conn.execute("""
        INSERT INTO facilities (category, name, address, opening_hours, off_hours_service,
                                community_code, geom)
        SELECT 'volunteer_station', replace(name, '党群服务中心', '志愿服务站'), address,
               'Mo-Su 08:00-20:00', true, community_code,
               ST_Project(geom::geography, 30, radians(90))::geometry
        FROM facilities WHERE category = 'party_service_center' ORDER BY id""")


def _windows(rng: np.random.Generator) -> str:
    import json

    picked = rng.choice(WINDOWS[1:], int(rng.integers(2, 6)), replace=False).tolist()
    return json.dumps(["党建服务", *sorted(picked)], ensure_ascii=False)
