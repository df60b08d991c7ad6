"""Heat maps (/api/v1/heatmap) against counts made independently in Python with h3-py from
the demo rows, the stored cells against h3-py, the trigger that clears moved points, filters,
suppression, scope and bad input."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import h3
import httpx
import numpy as np
import psycopg
import pytest

from geo.h3cells import RESOLUTIONS, all_resolutions, cells, fill
from geo.heatmap import CHINA_TZ
from geo.settings import Settings


def _get(live_server: str, who: dict[str, str], **params: Any) -> httpx.Response:
    auth = {k: v for k, v in who.items() if k in ("Authorization", "X-API-Key")}
    return httpx.get(f"{live_server}/api/v1/heatmap", params=params, headers=auth, timeout=30)


def _counts(body: dict[str, Any]) -> dict[int, int]:
    return {int(f["properties"]["cell"], 16): f["properties"]["count"] for f in body["features"]}


def _cell(lon: float, lat: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, res))


def test_cells_equal_h3_py_at_every_resolution() -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(73.5, 134.8, 2000), rng.uniform(18.2, 53.5, 2000)
    found = all_resolutions(lon, lat)
    for res in RESOLUTIONS:
        assert found[res].tolist() == [_cell(x, y, res) for x, y in zip(lon, lat, strict=True)]
    assert cells([], []).tolist() == []
    many = rng.uniform(109.1, 109.3, 250_000), rng.uniform(27.6, 27.8, 250_000)  # in threads
    assert cells(*many, 9)[::97].tolist() == [_cell(x, y, 9) for x, y in
                                             zip(many[0][::97], many[1][::97], strict=True)]


def test_stored_cells_equal_h3_py_and_a_moved_point_is_refilled(conn: psycopg.Connection) -> None:
    rows = conn.execute("SELECT ST_X(geom), ST_Y(geom), h3_7, h3_8, h3_9, h3_10 FROM "
                        "resident_issues ORDER BY id LIMIT 300").fetchall()
    for x, y, *stored in rows:
        assert stored == [_cell(x, y, r) for r in RESOLUTIONS]
    bid, before = conn.execute("SELECT id, h3_10 FROM buildings ORDER BY id LIMIT 1").fetchone()  # type: ignore[misc]
    conn.execute("UPDATE buildings SET households = households WHERE id = %s", (bid,))
    assert conn.execute("SELECT h3_10 FROM buildings WHERE id = %s", (bid,)).fetchone() == (before,)
    conn.execute("UPDATE buildings SET geom = ST_Translate(geom, 0.01, 0) WHERE id = %s", (bid,))
    assert conn.execute("SELECT h3_10 FROM buildings WHERE id = %s", (bid,)).fetchone() == (None,)
    assert fill(conn, "buildings") == 1
    x, y, now = conn.execute("SELECT ST_X(geom), ST_Y(geom), h3_10 FROM buildings "
                             "WHERE id = %s", (bid,)).fetchone()  # type: ignore[misc]
    assert now == _cell(x, y, 10) != before


def issues_by_cell(conn: psycopg.Connection, res: int, prefix: str = "",
                   statuses: set[str] | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> Counter[int]:
    out: Counter[int] = Counter()
    for x, y, community, status, reported in conn.execute(
            "SELECT ST_X(geom), ST_Y(geom), community_code, status, reported_at "
            "FROM resident_issues").fetchall():
        if not (community or "").startswith(prefix) or (prefix and community is None):
            continue
        if statuses and status not in statuses:
            continue
        if (since and reported < since) or (until and reported >= until):
            continue
        out[_cell(x, y, res)] += 1
    return out


@pytest.mark.parametrize("res", [7, 9])
def test_issue_counts_equal_python(live_server: str, accounts: dict[str, dict[str, str]],
                                   conn: psycopg.Connection, res: int) -> None:
    r = _get(live_server, accounts["admin"], layer="issues", res=res)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert _counts(body) == issues_by_cell(conn, res)
    assert body["total"] == sum(_counts(body).values()) > 1000
    ring = body["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 7 and ring[0] == ring[-1]  # a closed hexagon
    assert h3.str_to_int(h3.latlng_to_cell(ring[0][1], ring[0][0], res)) != 0


def test_issue_filters(live_server: str, accounts: dict[str, dict[str, str]],
                       conn: psycopg.Connection) -> None:
    first = conn.execute("SELECT min(reported_at) FROM resident_issues").fetchone()[0]  # type: ignore[index]
    start = first.astimezone(CHINA_TZ).date() + timedelta(days=40)
    end = start + timedelta(days=60)
    r = _get(live_server, accounts["admin"], layer="issues", res=8, status="closed,resolved",
             **{"from": start.isoformat(), "to": end.isoformat()})
    assert r.status_code == 200, r.text
    expected = issues_by_cell(conn, 8, statuses={"closed", "resolved"},
                              since=datetime.combine(start, datetime.min.time(), CHINA_TZ),
                              until=datetime.combine(end + timedelta(days=1),
                                                     datetime.min.time(), CHINA_TZ))
    assert _counts(r.json()) == expected and sum(expected.values()) > 50
    category = conn.execute("SELECT category FROM resident_issues GROUP BY 1 "
                            "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]  # type: ignore[index]
    only = _counts(_get(live_server, accounts["admin"], layer="issues", res=7,
                        category=category).json())
    assert sum(only.values()) == conn.execute(
        "SELECT count(*) FROM resident_issues WHERE category = %s", (category,)).fetchone()[0]  # type: ignore[index]


def test_people_layers_equal_python(live_server: str, accounts: dict[str, dict[str, str]],
                                    conn: psycopg.Connection) -> None:
    street = accounts["street_leader"]["scope"]
    where = {b: (x, y) for b, x, y in conn.execute(
        "SELECT id, ST_X(geom), ST_Y(geom) FROM buildings WHERE community_code LIKE %s",
        (street + "%",)).fetchall()}
    residents: Counter[int] = Counter()
    for b, n in conn.execute("SELECT id, residents FROM buildings WHERE community_code LIKE %s",
                             (street + "%",)).fetchall():
        residents[_cell(*where[b], 9)] += n
    party: Counter[int] = Counter(
        _cell(*where[b], 9) for (b,) in conn.execute(
            "SELECT home_building_id FROM people WHERE party_status IS NOT NULL").fetchall()
        if b in where)
    today = date.today()
    volunteers: dict[int, set[int]] = {}
    for person, home, bid, start, end in conn.execute(
            "SELECT r.person_id, p.home_building_id, r.building_id, r.valid_from, r.valid_to "
            "FROM role_assignments r JOIN people p ON p.id = r.person_id "
            "WHERE r.role = 'volunteer'").fetchall():
        b = home if home is not None else bid
        if b in where and start <= today and (end is None or end >= today):
            volunteers.setdefault(_cell(*where[b], 9), set()).add(person)
    leader = accounts["street_leader"]
    got = {layer: _counts(_get(live_server, leader, layer=layer, res=9).json())
           for layer in ("residents", "party_members", "volunteers")}
    assert got["residents"] == {c: n for c, n in residents.items() if n > 0}
    assert got["party_members"] == dict(party) and sum(party.values()) > 100
    assert got["volunteers"] == {c: len(p) for c, p in volunteers.items()}


def test_small_counts_are_left_out_for_roles_that_need_it(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection,
        test_settings: Settings) -> None:
    k = test_settings.k_anonymity
    full = _counts(_get(live_server, accounts["admin"], layer="volunteers", res=10,
                        within=accounts["grid_worker"]["scope"][:9]).json())
    assert any(0 < n < k for n in full.values())
    body = _get(live_server, accounts["analyst"], layer="volunteers", res=10,
                within=accounts["grid_worker"]["scope"][:9]).json()
    assert body["min_count_shown"] == k
    assert _counts(body) == {c: n for c, n in full.items() if n >= k}


def test_scope_and_bad_input(live_server: str, accounts: dict[str, dict[str, str]],
                             conn: psycopg.Connection) -> None:
    leader = accounts["street_leader"]
    street = leader["scope"]
    mine = _get(live_server, leader, layer="issues", res=8).json()
    assert mine["within"] == street
    assert _counts(mine) == issues_by_cell(conn, 8, prefix=street)
    other = conn.execute("SELECT code FROM areas WHERE level = 'street' AND code <> %s "
                         "ORDER BY code LIMIT 1", (street,)).fetchone()[0]  # type: ignore[index]
    assert _get(live_server, leader, layer="issues", res=8, within=other).status_code == 404
    assert httpx.get(f"{live_server}/api/v1/heatmap", params={"layer": "issues"}).status_code \
        == 401
    cases: list[tuple[dict[str, Any], str]] = [
        ({"layer": "crowds"}, "layer"), ({"layer": "issues", "res": 11}, "res"),
        ({"layer": "residents", "status": "closed"}, "status"),
        ({"layer": "issues", "status": "lost"}, "status"),
        ({"layer": "issues", "from": "2026-02-30"}, "from"),
        ({"layer": "issues", "from": "2026-03-01", "to": "2026-02-01"}, "to")]
    for params, word in cases:
        r = _get(live_server, accounts["admin"], **params)
        assert r.status_code == 422 and word in r.text, (params, r.text)


def test_an_issue_written_through_the_api_shows_at_once_and_moves(
        live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    admin = accounts["admin"]
    auth = {"Authorization": admin["Authorization"]}
    here, there = (109.2031, 27.7291), (109.2110, 27.7352)

    def count_at(point: tuple[float, float]) -> int:
        body = _get(live_server, admin, layer="issues", res=10).json()
        return _counts(body).get(_cell(*point, 10), 0)

    before_here, before_there = count_at(here), count_at(there)
    r = httpx.post(f"{live_server}/api/v1/issues", headers=auth, json={
        "category": "环境卫生", "kind": "immediate", "channel": "hotline",
        "description": "楼下垃圾未清运", "geometry": {"type": "Point", "coordinates": here}})
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert count_at(here) == before_here + 1
    r = httpx.patch(f"{live_server}/api/v1/issues/{oid}", headers=auth, json={
        "geometry": {"type": "Point", "coordinates": there}})
    assert r.status_code == 200, r.text
    assert (count_at(here), count_at(there)) == (before_here, before_there + 1)
    assert httpx.delete(f"{live_server}/api/v1/issues/{oid}", headers=auth).status_code == 204
    assert count_at(there) == before_there
