"""民情 over HTTP against the demo city: a resident's report with a photo and its status page,
routing (inside a grid, near an edge, on a building), every step of the flow with its role
rules, ratings, the anonymised board, the worker's queue, bad input changing nothing, and the
heat map and coverage indicators reading new issues."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import shapely
from PIL import Image
from pyproj import Transformer

Accounts = dict[str, dict[str, str]]
EPSG = 4545  # the demo district's Gauss-Krüger zone


def auth(accounts: Accounts, role: str) -> dict[str, str]:
    return {k: v for k, v in accounts[role].items() if k in ("Authorization", "X-API-Key")}


@pytest.fixture(scope="module")
def db(demo_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo_url, autocommit=True) as c:
        yield c


def grid_geoms(db: psycopg.Connection, community: str) -> dict[str, Any]:
    rows = db.execute(
        "SELECT g.code, ST_AsBinary(ST_Transform(g.geom, %s)) FROM grids g "
        "JOIN grid_layers l ON l.id = g.layer_id WHERE l.theme = 'unified' "
        "AND l.status = 'active' AND g.community_code = %s", (EPSG, community)).fetchall()
    return {code: shapely.from_wkb(bytes(w)) for code, w in rows}


TO_WGS = Transformer.from_crs(EPSG, 4326, always_xy=True)


def lonlat(p: shapely.Point) -> list[float]:
    return list(TO_WGS.transform(p.x, p.y))


def deep_inside(geom: Any) -> list[float]:
    """A point at least 60 m inside ``geom`` (no other grid within reach)."""
    return lonlat(geom.buffer(-60).point_on_surface())


def near_edge(geoms: dict[str, Any], code: str) -> tuple[list[float], str]:
    """A point 6 m inside grid ``code`` next to a neighbour, and the neighbour's code."""
    a = geoms[code]
    for other, b in geoms.items():
        shared = a.boundary.intersection(b.boundary)
        if other == code or shared.length < 50:
            continue
        mid = shapely.line_interpolate_point(shapely.line_merge(shared) if shared.geom_type
                                             == "MultiLineString" else shared, 0.5,
                                             normalized=True)
        for dx, dy in [(6, 0), (-6, 0), (0, 6), (0, -6), (4, 4), (-4, 4), (4, -4), (-4, -4)]:
            p = shapely.Point(mid.x + dx, mid.y + dy)
            if a.contains(p) and not b.intersects(p):
                return lonlat(p), other
    raise AssertionError(f"grid {code} has no neighbour in its community")


def photo(size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def expected_worker(db: psycopg.Connection, grid: str) -> int | None:
    """The full-time grid worker, else the first part-time one, else the grid leader."""
    row = db.execute(
        "SELECT r.person_id FROM role_assignments r JOIN grids g ON g.id = r.grid_id "
        "JOIN grid_layers l ON l.id = g.layer_id WHERE g.code = %s AND l.status = 'active' "
        "AND r.role IN ('grid_worker_full', 'grid_worker_part', 'grid_leader') "
        "AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to >= current_date) "
        "ORDER BY CASE r.role WHEN 'grid_worker_full' THEN 0 WHEN 'grid_worker_part' THEN 1 "
        "ELSE 2 END, r.id LIMIT 1",
        (grid,)).fetchone()
    return row[0] if row else None


def counts(db: psycopg.Connection) -> tuple[int, int, int]:
    row = db.execute("SELECT (SELECT count(*) FROM resident_issues), "
                     "(SELECT count(*) FROM issue_photos), (SELECT count(*) FROM issue_events)"
                     ).fetchone()
    assert row is not None
    return row


def test_a_resident_reports_with_a_photo_and_follows_it(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    grid = accounts["grid_worker"]["scope"]
    lon, lat = deep_inside(grid_geoms(db, grid[:12])[grid])
    r = httpx.post(f"{live_server}/api/v1/issues/report", data={
        "category": "环境卫生", "description": "楼下垃圾三天未清运", "lon": lon, "lat": lat,
        "reporter_name": "王小明", "reporter_phone": "13800001234"},
        files=[("photos", ("a.jpg", photo(), "image/jpeg"))])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "assigned" and not made["needs_routing"]
    # a resident learns the code and the deadline, no internal ids
    assert not {"id", "grid_id", "candidates"} & set(made)
    code = made["receipt_code"]
    stored = db.execute("SELECT g.code, i.assignee_id, i.reporter_phone, i.channel "
                        "FROM resident_issues i JOIN grids g ON g.id = i.grid_id "
                        "WHERE i.receipt_code = %s", (code,)).fetchone()
    assert stored == (grid, expected_worker(db, grid), "13800001234", "resident_page")

    page = httpx.get(f"{live_server}/api/v1/issues/receipt/{code}")
    assert page.status_code == 200
    body = page.json()
    assert (body["status"], body["grid_code"], body["photos"]) == ("assigned", grid, 1)
    assert body["description"] == "楼下垃圾三天未清运"
    assert [s["action"] for s in body["steps"]] == ["report", "route"]
    text = page.text
    assert "王小明" not in text and "13800001234" not in text and "actor\"" not in text


def test_a_report_near_a_grid_edge_waits_for_a_person(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    grid = accounts["grid_worker"]["scope"]
    (lon, lat), neighbour = near_edge(grid_geoms(db, grid[:12]), grid)
    worker = auth(accounts, "community_worker")
    r = httpx.post(f"{live_server}/api/v1/issues", headers=worker, json={
        "category": "设施维修", "description": "路灯不亮", "channel": "hotline",
        "kind": "immediate", "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "received" and made["needs_routing"]
    found = {c["code"]: c for c in made["candidates"]}
    assert found[grid]["inside"] and found[grid]["distance_m"] == 0
    assert not found[neighbour]["inside"] and 0 < found[neighbour]["distance_m"] <= 30

    queue = httpx.get(f"{live_server}/api/v1/issues/queue", headers=worker).json()
    mine = [f for f in queue["features"] if f["id"] == made["id"]]
    assert mine and mine[0]["properties"]["needs_routing"]
    assert mine[0]["properties"]["actions"] == ["assign"]

    r = httpx.post(f"{live_server}/api/v1/issues/{made['id']}/actions", headers=worker,
                   json={"action": "assign", "grid": neighbour})
    assert r.status_code == 200, r.text
    row = db.execute("SELECT g.code, i.status, i.route_candidates, i.assignee_id "
                     "FROM resident_issues i JOIN grids g ON g.id = i.grid_id WHERE i.id = %s",
                     (made["id"],)).fetchone()
    assert row == (neighbour, "assigned", None, expected_worker(db, neighbour))


def test_a_report_on_a_building_goes_to_its_grid(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    grid = accounts["grid_worker"]["scope"]
    building = db.execute("SELECT b.id FROM buildings b JOIN grids g ON g.id = b.grid_id "
                          "WHERE g.code = %s ORDER BY b.id LIMIT 1", (grid,)).fetchone()
    assert building is not None
    r = httpx.post(f"{live_server}/api/v1/issues", headers=auth(accounts, "grid_worker"), json={
        "category": "物业", "description": "电梯故障", "channel": "grid_worker",
        "building_id": building[0]})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "assigned"
    assert db.execute("SELECT g.code FROM resident_issues i JOIN grids g ON g.id = i.grid_id "
                      "WHERE i.id = %s", (r.json()["id"],)).fetchone() == (grid,)


BAD_REPORTS = [
    ({"category": "环境卫生", "description": "x", "lon": 100.0, "lat": 40.0}, None, 422,
     "no community"),
    ({"category": "噪音", "description": "x", "lon": 109.2, "lat": 27.73}, None, 422, "category"),
    ({"category": "环境卫生", "description": "x"}, None, 422, "geometry"),
    ({"category": "环境卫生", "description": "x", "lon": 109.2}, None, 422, "lon, lat"),
    ({"category": "环境卫生", "description": "x", "lon": 109.2, "lat": 27.73,
      "building_id": 1}, None, 422, "one of the two"),
    ({"category": "环境卫生", "description": "x", "lon": 109.2, "lat": 27.73,
      "reporter_phone": "call me"}, None, 422, "reporter_phone"),
    ({"category": "环境卫生", "description": "x", "lon": 109.2, "lat": 27.73},
     [("photos", ("big.jpg", photo() + b"\0" * (4097 * 1024), "image/jpeg"))], 413,
     "over the limit"),
    ({"category": "环境卫生", "description": "x", "lon": 109.2, "lat": 27.73},
     [("photos", ("x.jpg", b"GIF89a not really", "image/jpeg"))], 422, "photos[1] (x.jpg)"),
    ({"category": "环境卫生", "description": "x", "lon": 109.2, "lat": 27.73},
     [("photos", (f"{n}.jpg", photo((40, 40)), "image/jpeg")) for n in range(4)], 422,
     "at most 3"),
]


@pytest.mark.parametrize(("form", "files", "status", "says"), BAD_REPORTS)
def test_a_bad_report_is_refused_and_nothing_is_stored(
        live_server: str, db: psycopg.Connection, form: dict[str, Any], files: Any, status: int,
        says: str) -> None:
    before = counts(db)
    r = httpx.post(f"{live_server}/api/v1/issues/report", data=form, files=files)
    assert r.status_code == status, r.text
    assert says in r.text
    assert counts(db) == before


def test_unknown_receipts_and_communities(live_server: str) -> None:
    assert httpx.get(f"{live_server}/api/v1/issues/receipt/MQ20260101-ZZZZZZZZ").status_code \
        == 404
    assert httpx.get(f"{live_server}/api/v1/issues/receipt/drop%20table").status_code == 422
    assert httpx.get(f"{live_server}/api/v1/issues/board/999999999999").status_code == 404
    r = httpx.post(f"{live_server}/api/v1/issues/receipt/MQ20260101-ZZZZZZZZ/rating",
                   json={"satisfaction": 6})
    assert r.status_code == 422


def _new(live_server: str, accounts: Accounts, db: psycopg.Connection) -> tuple[int, str]:
    grid = accounts["grid_worker"]["scope"]
    lon, lat = deep_inside(grid_geoms(db, grid[:12])[grid])
    r = httpx.post(f"{live_server}/api/v1/issues", headers=auth(accounts, "grid_worker"), json={
        "category": "邻里纠纷", "description": "楼上漏水影响楼下", "channel": "grid_worker",
        "reporter_name": "李阿姨", "reporter_phone": "13900002222",
        "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["receipt_code"]


def test_every_step_of_the_flow_by_the_roles_allowed(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    oid, code = _new(live_server, accounts, db)

    def act(role: str, **body: Any) -> httpx.Response:
        return httpx.post(f"{live_server}/api/v1/issues/{oid}/actions",
                          headers=auth(accounts, role), json=body)

    assert act("analyst", action="start").status_code == 403
    assert act("planner", action="start").status_code == 403
    assert act("grid_worker", action="resolve", note="x").status_code == 409  # not started
    assert act("grid_worker", action="start").status_code == 200
    assert act("grid_worker", action="escalate", to="street", note="x").status_code == 403
    r = act("grid_worker", action="escalate", to="community", departments=["物业公司", "房管所"],
            note="需物业协同维修管道")
    assert r.status_code == 200, r.text
    assert act("grid_worker", action="start").status_code == 403  # the community's now
    assert act("community_worker", action="start").status_code == 200
    assert act("community_worker", action="resolve").status_code == 422  # no note
    assert act("community_worker", action="resolve", note="已维修管道").status_code == 200
    rating = httpx.post(f"{live_server}/api/v1/issues/receipt/{code}/rating",
                        json={"satisfaction": 4, "comment": "处理及时"})
    assert rating.status_code == 200, rating.text
    assert act("grid_worker", action="publish", feedback="已修").status_code == 403
    assert act("community_worker", action="publish").status_code == 422  # no answer
    assert act("community_worker", action="publish",
               feedback="楼上管道已由物业维修，渗水停止。").status_code == 200
    assert act("community_worker", action="close").status_code == 200
    assert act("community_worker", action="close").status_code == 409
    assert act("community_worker", action="reopen", note="居民反映再次渗水").status_code == 200

    row = db.execute("SELECT status, level, departments, reopened, resolved_at, satisfaction, "
                     "due_at > now() FROM resident_issues WHERE id = %s", (oid,)).fetchone()
    # reopened: a fresh limit from now, and the rating given before no longer stands
    assert row == ("in_progress", "community", ["物业公司", "房管所"], 1, None, None, True)
    history = httpx.get(f"{live_server}/api/v1/issues/{oid}/events",
                        headers=auth(accounts, "street_leader")).json()
    assert [(e["action"], e["actor"], e["to_status"]) for e in history] == [
        ("report", "t_grid_worker", "received"), ("route", "gridgov", "assigned"),
        ("start", "t_grid_worker", "in_progress"), ("escalate", "t_grid_worker", "escalated"),
        ("start", "t_community_worker", "in_progress"),
        ("resolve", "t_community_worker", "resolved"), ("rate", "reporter", "resolved"),
        ("publish", "t_community_worker", "feedback_published"),
        ("close", "t_community_worker", "closed"), ("reopen", "t_community_worker", "in_progress")]
    assert history[3]["detail"] == {"to": "community", "departments": ["物业公司", "房管所"]}


def test_an_issue_outside_ones_scope_is_not_found(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    other = db.execute("SELECT i.id FROM resident_issues i JOIN grids g ON g.id = i.grid_id "
                       "WHERE g.code NOT LIKE %s AND i.status = 'in_progress' LIMIT 1",
                       (accounts["street_leader"]["scope"] + "%",)).fetchone()
    assert other is not None
    for role in ("street_leader", "community_worker", "grid_worker"):
        r = httpx.post(f"{live_server}/api/v1/issues/{other[0]}/actions",
                       headers=auth(accounts, role), json={"action": "resolve", "note": "x"})
        assert r.status_code == 404, (role, r.text)
        assert httpx.get(f"{live_server}/api/v1/issues/{other[0]}/events",
                         headers=auth(accounts, role)).status_code == 404


def test_two_people_starting_at_once_one_wins(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    for _ in range(5):
        oid, _code = _new(live_server, accounts, db)
        codes: list[int] = []

        def start(role: str, oid: int, codes: list[int]) -> None:
            codes.append(httpx.post(f"{live_server}/api/v1/issues/{oid}/actions",
                                    headers=auth(accounts, role),
                                    json={"action": "start"}).status_code)

        threads = [threading.Thread(target=start, args=(r, oid, codes))
                   for r in ("grid_worker", "community_worker")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 409]
        assert db.execute("SELECT count(*) FROM issue_events WHERE issue_id = %s AND "
                          "action = 'start'", (oid,)).fetchone() == (1,)


def test_the_board_is_anonymised(live_server: str, accounts: Accounts,
                                 db: psycopg.Connection) -> None:
    oid, code = _new(live_server, accounts, db)
    worker = auth(accounts, "community_worker")
    for body in ({"action": "start"}, {"action": "resolve", "note": "已调解"},
                 {"action": "publish", "feedback": "双方已达成一致，漏水已修复。"}):
        assert httpx.post(f"{live_server}/api/v1/issues/{oid}/actions", headers=worker,
                          json=body).status_code == 200
    community = accounts["community_worker"]["scope"]
    r = httpx.get(f"{live_server}/api/v1/issues/board/{community}")
    assert r.status_code == 200
    board = r.json()
    assert board["items"][0]["feedback"] == "双方已达成一致，漏水已修复。"
    assert set(board["items"][0]) == {"category", "kind", "kind_name", "grid_name",
                                      "reported_on", "resolved_on", "in_time", "feedback",
                                      "satisfaction"}
    for secret in (code, "李阿姨", "13900002222", "楼上漏水影响楼下"):
        assert secret not in r.text
    received, resolved = db.execute(
        "SELECT count(*), count(resolved_at) FROM resident_issues WHERE community_code = %s "
        "AND reported_at >= now() - interval '365 days'", (community,)).fetchone()  # type: ignore[misc]
    assert (board["received"], board["resolved"]) == (received, resolved)


def test_the_grid_workers_queue_is_theirs_soonest_first(
        live_server: str, accounts: Accounts) -> None:
    grid = accounts["grid_worker"]["scope"]
    r = httpx.get(f"{live_server}/api/v1/issues/queue", headers=auth(accounts, "grid_worker"))
    assert r.status_code == 200
    features = r.json()["features"]
    assert features and all(f["properties"]["grid_code"] == grid for f in features)
    dues = [f["properties"]["due_at"] for f in features]
    assert dues == sorted(dues)
    assert all(f["properties"]["status"] in ("received", "assigned", "in_progress", "escalated")
               for f in features)
    assert httpx.get(f"{live_server}/api/v1/issues/queue").status_code == 401


HAND = [  # reported, due, resolved, status, satisfaction, second grid?
    ("2001-03-01 10:00", "2001-03-02 00:00", "2001-03-01 20:00", "closed", 5, False),  # 10 h
    ("2001-03-05 10:00", "2001-03-06 00:00", "2001-03-08 10:00", "closed", 2, False),  # 72 h late
    ("2001-03-10 10:00", "2001-03-11 00:00", None, "in_progress", None, False),  # overdue
    ("2001-03-12 10:00", "2099-01-01 00:00", None, "received", None, False),
    ("2001-03-14 10:00", "2001-03-20 00:00", "2001-03-15 16:00", "resolved", 4, True),  # 30 h
]


def test_supervision_figures_against_hand_counts(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    community = accounts["community_worker"]["scope"]
    grids = sorted(grid_geoms(db, community))[:2]
    ids = {code: db.execute("SELECT g.id FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
                            "WHERE g.code = %s AND l.status = 'active'", (code,)).fetchone()[0]  # type: ignore[index]
           for code in grids}
    leader = auth(accounts, "street_leader")

    def overdue_in(grid: str) -> int:
        r = httpx.get(f"{live_server}/api/v1/coverage", headers=leader,
                      params={"level": "grid", "within": community})
        [f] = [f for f in r.json()["features"] if f["id"] == grid]
        return int(f["properties"]["counts"]["issues_overdue"])

    overdue_before = overdue_in(grids[0])
    made = []
    try:
        for n, (rep, due, res, status, sat, second) in enumerate(HAND):
            grid = grids[1] if second else grids[0]
            made.append(db.execute(
                "INSERT INTO resident_issues (receipt_code, category, kind, channel, status, "
                "description, geom, grid_id, community_code, reported_at, due_at, resolved_at, "
                "satisfaction) VALUES (%s, '物业', 'immediate', 'hotline', %s, 'hand', "
                "ST_SetSRID(ST_MakePoint(109.2, 27.73), 4326), %s, %s, %s::timestamptz + "
                "interval '0', %s, %s, %s) RETURNING id",
                (f"MQ20010301-HAND{n}", status, ids[grid], community, rep + "+08", due + "+08",
                 res and res + "+08", sat)).fetchone()[0])  # type: ignore[index]
        r = httpx.get(f"{live_server}/api/v1/issues/stats", headers=auth(accounts, "street_leader"),
                      params={"within": community, "by": "community", "from": "2001-01-01",
                              "to": "2001-12-31"})
        assert r.status_code == 200, r.text
        [c] = r.json()["items"]
        assert c["key"] == community and c["total"] == 5
        assert c["counts"] == {"received": 1, "assigned": 0, "in_progress": 1, "escalated": 0,
                               "resolved": 1, "feedback_published": 0, "closed": 2}
        assert (c["overdue"], c["resolved_total"], c["resolved_in_time"]) == (1, 3, 2)
        assert c["resolved_in_time_share"] == pytest.approx(2 / 3)
        assert c["median_hours_to_resolve"] == pytest.approx(30)
        assert (c["rated"], c["satisfied"]) == (3, 2)
        assert c["mean_satisfaction"] == pytest.approx(11 / 3)
        by_grid = httpx.get(f"{live_server}/api/v1/issues/stats",
                            headers=auth(accounts, "street_leader"),
                            params={"within": community, "by": "grid", "from": "2001-01-01",
                                    "to": "2001-12-31"}).json()["items"]
        assert [(g["key"], g["total"], g["median_hours_to_resolve"]) for g in by_grid] == [
            (grids[0], 4, pytest.approx(41)), (grids[1], 1, pytest.approx(30))]
        assert overdue_in(grids[0]) == overdue_before + 1  # the indicator reads them too
        assert httpx.get(f"{live_server}/api/v1/issues/stats",
                         headers=auth(accounts, "grid_worker"),
                         params={"within": "520602002"}).status_code == 404
    finally:
        db.execute("DELETE FROM resident_issues WHERE id = ANY(%s)", (made,))


def test_new_issues_reach_the_heat_map_and_the_indicators(
        live_server: str, accounts: Accounts, db: psycopg.Connection) -> None:
    grid = accounts["grid_worker"]["scope"]
    leader = auth(accounts, "street_leader")

    def open_issues() -> int:
        r = httpx.get(f"{live_server}/api/v1/coverage", headers=leader,
                      params={"level": "grid", "within": grid[:12]})
        [f] = [f for f in r.json()["features"] if f["id"] == grid]
        return int(f["properties"]["counts"]["issues_open"])

    def heat_total() -> int:
        r = httpx.get(f"{live_server}/api/v1/heatmap", headers=leader,
                      params={"layer": "issues", "res": 9, "within": grid[:12]})
        return sum(int(f["properties"]["count"]) for f in r.json()["features"])

    before, heat = open_issues(), heat_total()
    _new(live_server, accounts, db)
    assert open_issues() == before + 1
    assert heat_total() == heat + 1


def test_the_crud_cannot_bypass_the_flow(live_server: str, accounts: Accounts,
                                         db: psycopg.Connection) -> None:
    oid, _code = _new(live_server, accounts, db)
    worker = auth(accounts, "grid_worker")
    for field, value in (("status", "closed"), ("grid_id", 1), ("due_at", "2099-01-01T00:00:00Z"),
                         ("satisfaction", 5), ("kind", "suggestion")):
        r = httpx.patch(f"{live_server}/api/v1/issues/{oid}", headers=worker,
                        json={field: value})
        assert r.status_code == 422 and f"body.{field}" in r.text, (field, r.text)
    r = httpx.patch(f"{live_server}/api/v1/issues/{oid}", headers=worker,
                    json={"description": "楼上卫生间漏水影响楼下"})
    assert r.status_code == 200, r.text
    assert httpx.delete(f"{live_server}/api/v1/issues/{oid}", headers=worker).status_code == 403
    assert httpx.delete(f"{live_server}/api/v1/issues/{oid}",
                        headers=auth(accounts, "community_worker")).status_code == 403
    assert db.execute("SELECT status, description FROM resident_issues WHERE id = %s",
                      (oid,)).fetchone() == ("assigned", "楼上卫生间漏水影响楼下")


def test_who_reads_what_of_an_issue(live_server: str, accounts: Accounts,
                                    db: psycopg.Connection) -> None:
    oid, code = _new(live_server, accounts, db)
    for role in ("planner", "analyst"):  # no receipt codes, texts or notes for them
        assert httpx.get(f"{live_server}/api/v1/issues/queue",
                         headers=auth(accounts, role)).status_code == 403
        one = httpx.get(f"{live_server}/api/v1/issues/{oid}", headers=auth(accounts, role))
        assert one.status_code == 200 and code not in one.text and "13900002222" not in one.text
        steps = httpx.get(f"{live_server}/api/v1/issues/{oid}/events",
                          headers=auth(accounts, role)).json()
        assert steps and all("actor" not in e and "note" not in e for e in steps)
    before = db.execute("SELECT count(*) FROM audit_log WHERE object_type = 'issue_events' "
                        "AND object_id = %s", (str(oid),)).fetchone()
    full = httpx.get(f"{live_server}/api/v1/issues/{oid}/events",
                     headers=auth(accounts, "community_worker")).json()
    assert full[0]["actor"] == "t_grid_worker"
    after = db.execute("SELECT count(*) FROM audit_log WHERE object_type = 'issue_events' "
                       "AND object_id = %s", (str(oid),)).fetchone()
    assert after[0] == before[0] + 1  # type: ignore[index]
