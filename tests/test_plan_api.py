"""Planners' drafts through the real API (httpx against uvicorn) on a demo city of its own
(activation changes the active generation, which the other modules' demo must not see):
open, split, merge, move, reshape, dedicated, If-Match (428/412), validation gating
activation (409), activation re-pointing references, generations, diff, revert, audit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import shapely
from shapely.geometry import LineString, mapping, shape

from geo.auth import hash_password
from tests.conftest import demo_database, serve_database

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def plan_url() -> Iterator[str]:
    with demo_database("_plan") as url:
        yield url


@pytest.fixture(scope="module")
def server(plan_url: str) -> Iterator[str]:
    with serve_database(plan_url) as url:
        yield url


@pytest.fixture(scope="module")
def community(plan_url: str) -> str:
    """A community of the demo with at least four base grids."""
    with psycopg.connect(plan_url) as c:
        row = c.execute("SELECT g.community_code FROM grids g JOIN grid_layers l ON "
                        "l.id = g.layer_id WHERE l.theme = 'unified' AND g.kind = 'base' "
                        "GROUP BY 1 HAVING count(*) >= 4 ORDER BY 1 LIMIT 1").fetchone()
    assert row
    return str(row[0])


def _token(http: httpx.Client, plan_url: str, name: str, role: str, scope: str | None
           ) -> dict[str, str]:
    with psycopg.connect(plan_url, autocommit=True) as c:
        c.execute("INSERT INTO users (username, password_hash, role, scope_code) VALUES "
                  "(%s, %s, %s, %s) ON CONFLICT (username) DO NOTHING",
                  (name, hash_password(PASSWORD), role, scope))
    r = http.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def planner(http: httpx.Client, plan_url: str) -> dict[str, str]:
    return _token(http, plan_url, "p_planner", "planner", "520602")


@pytest.fixture(scope="module")
def other_planner(http: httpx.Client, plan_url: str) -> dict[str, str]:
    return _token(http, plan_url, "p_planner2", "planner", "520602")


def _open(http: httpx.Client, who: dict[str, str], scope: str) -> dict[str, Any]:
    r = http.post("/api/v1/drafts", json={"scope": scope}, headers=who)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == r.json()["etag"]
    return r.json()


def _grids(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return draft["grids"]["features"]


def _adjacent_pair(draft: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    feats = [f for f in _grids(draft) if f["properties"]["kind"] == "base"]
    for i, a in enumerate(feats):
        for b in feats[i + 1:]:
            if shape(a["geometry"]).boundary.intersection(shape(b["geometry"]).boundary).length > 1e-4:
                return a, b
    raise AssertionError("no two adjacent grids")


def _cut_line(feature: dict[str, Any]) -> dict[str, Any]:
    """A north-south line through the middle of a grid, reaching past it at both ends."""
    g = shape(feature["geometry"])
    x = g.representative_point().x
    _, miny, _, maxy = g.bounds
    return mapping(LineString([(x, miny - 0.001), (x, maxy + 0.001)]))


def _split(http: httpx.Client, who: dict[str, str], draft: dict[str, Any],
           grid: dict[str, Any], etag: str | None = None) -> httpx.Response:
    """Split ``grid`` of ``draft`` through its middle, with its ETag (or ``etag``)."""
    return http.post(f"/api/v1/drafts/{draft['id']}/split",
                     json={"grid": grid["id"], "line": _cut_line(grid)},
                     headers={**who, "If-Match": etag or grid["properties"]["etag"]})


def test_opening_needs_a_planner(http: httpx.Client, plan_url: str, community: str) -> None:
    assert http.post("/api/v1/drafts", json={"scope": community}).status_code == 401
    worker = _token(http, plan_url, "p_worker", "community_worker", community)
    r = http.post("/api/v1/drafts", json={"scope": community}, headers=worker)
    assert r.status_code == 403 and "plans" in r.json()["detail"]


def test_a_draft_copies_the_active_grids_with_problems_and_metrics(
        http: httpx.Client, planner: dict[str, str], plan_url: str, community: str) -> None:
    draft = _open(http, planner, community)
    with psycopg.connect(plan_url) as c:
        active = {r[0] for r in c.execute(
            "SELECT g.code FROM grids g JOIN grid_layers l ON l.id = g.layer_id WHERE "
            "l.theme = 'unified' AND l.status = 'active' AND g.community_code = %s",
            (community,))}
    assert {f["properties"]["code"] for f in _grids(draft)} == active
    assert all(f["properties"]["etag"].startswith('"') for f in _grids(draft))
    assert draft["metrics"]["draft"]["grids"] == len(active)
    assert {m["code"] for m in draft["metrics"]["grids"]} == active
    assert draft["errors"] == sum(1 for f in draft["problems"]["features"]
                                  if f["properties"]["severity"] == "error")


def test_edits_need_if_match_and_a_stale_one_is_refused(
        http: httpx.Client, planner: dict[str, str], other_planner: dict[str, str],
        plan_url: str, community: str) -> None:
    draft = _open(http, planner, community)
    a, b = _adjacent_pair(draft)
    url = f"/api/v1/drafts/{draft['id']}/merge"
    body = {"grids": [a["id"], b["id"]]}
    r = http.post(url, json=body, headers=planner)
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]
    # two planners read the same grids; the first edit wins, the second is refused
    tags = f'{a["properties"]["etag"]}, {b["properties"]["etag"]}'
    with psycopg.connect(plan_url) as c:
        (building,) = c.execute("SELECT building_id FROM draft_buildings WHERE layer_id = %s "
                                "AND grid_id = %s ORDER BY building_id LIMIT 1",
                                (draft["id"], b["id"])).fetchone()  # type: ignore[misc]
    first = http.post(f"/api/v1/drafts/{draft['id']}/move-buildings",
                      json={"buildings": [building], "to": a["id"]},
                      headers={**other_planner, "If-Match": a["properties"]["etag"]})
    assert first.status_code == 200, first.text
    second = http.post(url, json=body, headers={**planner, "If-Match": tags})
    assert second.status_code == 412, second.text
    assert a["properties"]["code"] in second.json()["detail"]
    reread = http.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json()
    assert {a["id"], b["id"]} <= {f["id"] for f in _grids(reread)}  # nothing merged
    # a grid that an edit removed is reported as stale too, not as unknown
    fresh = {g["id"]: g["etag"] for g in first.json()["changed"]}
    assert set(fresh) == {a["id"], b["id"]}  # the donor changed too
    split = _split(http, other_planner, draft, b, fresh[b["id"]])
    assert split.status_code == 200, split.text
    again = http.post(url, json=body, headers={**planner, "If-Match": tags})
    assert again.status_code == 412 and "no longer" in again.json()["detail"]


def test_split_then_merge_back_keeps_codes_lineage_and_coverage(
        http: httpx.Client, planner: dict[str, str], community: str) -> None:
    draft = _open(http, planner, community)
    a, _ = _adjacent_pair(draft)
    r = _split(http, planner, draft, a)
    assert r.status_code == 200, r.text
    after = http.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json()
    pieces = [f for f in _grids(after) if a["id"] in f["properties"]["lineage"]]
    assert len(pieces) >= 2
    assert a["properties"]["code"] in {p["properties"]["code"] for p in pieces}
    whole = shape(a["geometry"])
    union = shapely.union_all([shape(p["geometry"]) for p in pieces])
    # GeoJSON carries 7 decimals (~1 cm): areas agree to that rounding along the outline
    assert abs(union.area - whole.area) / whole.area < 1e-5
    assert after["version"] == draft["version"] + 1
    assert after["etag"] != draft["etag"]
    tags = ", ".join(p["properties"]["etag"] for p in pieces)
    r = http.post(f"/api/v1/drafts/{draft['id']}/merge",
                  json={"grids": [p["id"] for p in pieces]}, headers={**planner, "If-Match": tags})
    assert r.status_code == 200, r.text
    merged = [f for f in _grids(http.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json())
              if f["properties"]["code"] == a["properties"]["code"]]
    assert len(merged) == 1
    assert shape(merged[0]["geometry"]).symmetric_difference(whole).area / whole.area < 1e-5


def test_bad_edits_say_what_is_wrong(http: httpx.Client, planner: dict[str, str],
                                     community: str) -> None:
    draft = _open(http, planner, community)
    a, _ = _adjacent_pair(draft)
    far = mapping(LineString([(100.0, 30.0), (100.1, 30.1)]))
    r = http.post(f"/api/v1/drafts/{draft['id']}/split", json={"grid": a["id"], "line": far},
                  headers={**planner, "If-Match": a["properties"]["etag"]})
    assert r.status_code == 422 and "line" in r.json()["detail"]
    r = http.post(f"/api/v1/drafts/{draft['id']}/split",
                  json={"grid": a["id"], "line": {"type": "Point", "coordinates": [1, 2]}},
                  headers={**planner, "If-Match": "*"})
    assert r.status_code == 422 and "LineString" in r.json()["detail"]
    unchanged = http.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json()
    assert unchanged["version"] == draft["version"]


def test_moving_buildings_moves_their_households(
        http: httpx.Client, planner: dict[str, str], plan_url: str, community: str) -> None:
    draft = _open(http, planner, community)
    a, b = _adjacent_pair(draft)
    with psycopg.connect(plan_url) as c:
        moved = [r[0] for r in c.execute(
            "SELECT d.building_id FROM draft_buildings d JOIN buildings bl ON bl.id = "
            "d.building_id WHERE d.layer_id = %s AND d.grid_id = %s ORDER BY ST_Distance("
            "bl.geom, (SELECT geom FROM grids WHERE id = %s)) LIMIT 2",
            (draft["id"], a["id"], b["id"]))]
        households = c.execute("SELECT sum(households) FROM buildings WHERE id = ANY(%s)",
                               (moved,)).fetchone()[0]  # type: ignore[index]
    assert moved
    r = http.post(f"/api/v1/drafts/{draft['id']}/move-buildings",
                  json={"buildings": moved, "to": b["id"]},
                  headers={**planner, "If-Match": b["properties"]["etag"]})
    assert r.status_code == 200, r.text
    metrics = {m["key"]: m for m in r.json()["metrics"]["grids"]}
    before = {m["key"]: m for m in draft["metrics"]["grids"]}
    assert metrics[b["id"]]["households"] == before[b["id"]]["households"] + households
    assert metrics[a["id"]]["households"] == before[a["id"]]["households"] - households


def test_activation_is_refused_while_the_draft_has_errors(
        http: httpx.Client, planner: dict[str, str], community: str) -> None:
    draft = _open(http, planner, community)
    a, _ = _adjacent_pair(draft)
    small = shape(a["geometry"]).buffer(-0.0005)  # leaves a ring of gap around it
    r = http.put(f"/api/v1/drafts/{draft['id']}/grids/{a['id']}/geometry",
                 json={"geometry": mapping(small)},
                 headers={**planner, "If-Match": a["properties"]["etag"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert any(f["properties"]["rule"] == "gap" for f in body["problems"]["features"])
    r = http.post(f"/api/v1/drafts/{draft['id']}/activate",
                  headers={**planner, "If-Match": body["etag"]})
    assert r.status_code == 409
    rules = {f["properties"]["rule"] for f in r.json()["problems"]["features"]}
    assert "gap" in rules
    assert all(f["geometry"] for f in r.json()["problems"]["features"]
               if f["properties"]["rule"] == "gap")


def _active_generation(plan_url: str) -> int:
    with psycopg.connect(plan_url) as c:
        row = c.execute("SELECT generation FROM grid_layers WHERE theme = 'unified' AND "
                        "status = 'active'").fetchone()
    assert row
    return int(row[0])


def test_activation_publishes_a_generation_and_moves_references(
        http: httpx.Client, planner: dict[str, str], plan_url: str, community: str) -> None:
    before = _active_generation(plan_url)
    draft = _open(http, planner, community)
    a, _ = _adjacent_pair(draft)
    r = _split(http, planner, draft, a)
    assert r.status_code == 200 and r.json()["errors"] == 0, r.text
    stale = http.post(f"/api/v1/drafts/{draft['id']}/activate",
                      headers={**planner, "If-Match": draft["etag"]})
    assert stale.status_code == 412
    diff = http.get(f"/api/v1/drafts/{draft['id']}/diff", headers=planner).json()
    assert diff["summary"]["added"] >= 1 and diff["summary"]["changed"] + diff["summary"][
        "removed"] >= 1
    r = http.post(f"/api/v1/drafts/{draft['id']}/activate",
                  headers={**planner, "If-Match": r.json()["etag"]})
    assert r.status_code == 200, r.text
    assert r.json()["generation"] == before + 1 == _active_generation(plan_url)
    with psycopg.connect(plan_url) as c:
        # every building, current post and open issue points at a grid of the active generation
        for table, where in (("buildings", "TRUE"),
                             ("role_assignments", "t.valid_to IS NULL"),
                             ("resident_issues", "t.status <> 'closed'")):
            stale_refs = c.execute(
                f"SELECT count(*) FROM {table} t JOIN grids g ON g.id = t.grid_id "
                f"JOIN grid_layers l ON l.id = g.layer_id WHERE l.theme = 'unified' "
                f"AND l.status <> 'active' AND {where}").fetchone()[0]  # type: ignore[index]
            assert stale_refs == 0, table
        # buildings sit in the grid that covers them
        wrong = c.execute(
            "SELECT count(*) FROM buildings b JOIN grids g ON g.id = b.grid_id WHERE "
            "b.community_code = %s AND NOT ST_Covers(g.geom, b.geom)", (community,)
        ).fetchone()[0]  # type: ignore[index]
        assert wrong == 0
        audit = c.execute("SELECT action FROM audit_log WHERE object_type = 'grid_layer' AND "
                          "object_id = %s ORDER BY id", (str(draft["id"]),)).fetchall()
    assert [x[0] for x in audit] == ["open_draft", "split", "activate"]
    old = http.get("/api/v1/grids", params={"generation": before, "within": community}).json()
    new = http.get("/api/v1/grids", params={"within": community}).json()
    assert len(new["features"]) == len(old["features"]) + len(diff["grids"]["features"]) - 1
    gens = http.get("/api/v1/generations", headers=planner).json()
    assert [g["generation"] for g in gens if g["status"] != "draft"][-2:] == [before, before + 1]
    assert gens[-2]["valid_to"] is not None and gens[-1]["valid_to"] is None


def test_diff_and_revert_between_generations(
        http: httpx.Client, planner: dict[str, str], plan_url: str, community: str) -> None:
    now = _active_generation(plan_url)
    if now == 1:  # make a second generation first
        test_activation_publishes_a_generation_and_moves_references(http, planner, plan_url,
                                                                    community)
        now = _active_generation(plan_url)
    r = http.get("/api/v1/generations/diff",
                 params={"from": now - 1, "to": now, "scope": community}, headers=planner)
    assert r.status_code == 200, r.text
    summary = r.json()["summary"]
    assert summary["added"] + summary["removed"] + summary["changed"] >= 1
    r = http.post(f"/api/v1/generations/{now - 1}/revert", json={"scope": community},
                  headers=planner)
    assert r.status_code == 201, r.text
    reverted = http.get(r.json()["href"], headers=planner).json()
    old = http.get("/api/v1/grids", params={"generation": now - 1, "within": community}).json()
    assert sorted(f["properties"]["code"] for f in _grids(reverted)) == sorted(
        f["properties"]["code"] for f in old["features"])


def test_a_draft_opened_before_another_activation_of_its_scope_is_refused(
        http: httpx.Client, planner: dict[str, str], other_planner: dict[str, str],
        community: str) -> None:
    mine = _open(http, planner, community)
    theirs = _open(http, other_planner, community)
    a, _ = _adjacent_pair(theirs)
    r = _split(http, other_planner, theirs, a)
    assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/drafts/{theirs['id']}/activate",
                  headers={**other_planner, "If-Match": r.json()["etag"]})
    assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/drafts/{mine['id']}/activate",
                  headers={**planner, "If-Match": mine["etag"]})
    assert r.status_code == 409 and "open a new draft" in r.json()["detail"]


def _cli(plan_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": plan_url}
    return subprocess.run([str(Path(sys.executable).parent / "gridgov"), "grid", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_cli_drafts_merges_and_activates(plan_url: str) -> None:
    with psycopg.connect(plan_url) as c:
        community, first, second = c.execute("""
            SELECT a.community_code, a.code, b.code FROM grids a
            JOIN grids b ON b.layer_id = a.layer_id AND b.community_code = a.community_code
                        AND a.code < b.code
            JOIN grid_layers l ON l.id = a.layer_id
            WHERE l.theme = 'unified' AND l.status = 'active' AND a.kind = 'base'
              AND b.kind = 'base' AND a.community_code LIKE '520602002%'
              AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 1e-4
            ORDER BY 1, 2, 3 LIMIT 1""").fetchone()  # type: ignore[misc]
    opened = _cli(plan_url, "open", community)
    assert opened.returncode == 0, opened.stderr
    draft = re.search(r"draft (\d+) version", opened.stdout).group(1)  # type: ignore[union-attr]
    bad = _cli(plan_url, "merge", draft, first, "520602999999999")
    assert bad.returncode == 1 and "520602999999999" in bad.stderr
    assert "Traceback" not in bad.stderr
    merged = _cli(plan_url, "merge", draft, first, second)
    assert merged.returncode == 0, merged.stderr
    assert "0 error(s)" in merged.stdout
    before = _active_generation(plan_url)
    activated = _cli(plan_url, "activate", draft)
    assert activated.returncode == 0, activated.stderr
    assert _active_generation(plan_url) == before + 1
    with psycopg.connect(plan_url) as c:
        codes = {r[0] for r in c.execute(
            "SELECT g.code FROM grids g JOIN grid_layers l ON l.id = g.layer_id WHERE "
            "l.theme = 'unified' AND l.status = 'active' AND g.community_code = %s",
            (community,))}
        actor = c.execute("SELECT actor FROM audit_log WHERE action = 'activate' "
                          "ORDER BY id DESC LIMIT 1").fetchone()[0]  # type: ignore[index]
    assert first in codes and second not in codes
    assert actor.startswith("cli:")


def test_a_proposal_balances_the_households_of_a_community(
        http: httpx.Client, planner: dict[str, str], plan_url: str) -> None:
    with psycopg.connect(plan_url) as c:
        (community,) = c.execute(
            "SELECT community_code FROM buildings WHERE community_code LIKE '520602003%' "
            "GROUP BY 1 HAVING sum(households) > 1500 ORDER BY 1 LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    draft = _open(http, planner, community)
    r = http.post(f"/api/v1/drafts/{draft['id']}/propose", json={"community": community},
                  headers={**planner, "If-Match": "*"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == 0, [f["properties"]["message"] for f in body["problems"]["features"]]
    base = [m for m in body["metrics"]["grids"] if m["kind"] == "base"]
    assert base and all(m["in_range"] for m in base)
    assert all(m["contiguous"] for m in body["metrics"]["grids"])
    bad = http.post(f"/api/v1/drafts/{draft['id']}/propose",
                    json={"households_min": 600, "households_max": 400},
                    headers={**planner, "If-Match": "*"})
    assert bad.status_code == 422 and "households_min" in bad.json()["detail"]


def test_an_allowed_gap_lets_a_gap_pass_validation(
        http: httpx.Client, planner: dict[str, str], community: str, plan_url: str) -> None:
    draft = _open(http, planner, community)
    a, _ = _adjacent_pair(draft)
    whole = shape(a["geometry"])
    small = whole.buffer(-0.0003)
    r = http.put(f"/api/v1/drafts/{draft['id']}/grids/{a['id']}/geometry",
                 json={"geometry": mapping(small)},
                 headers={**planner, "If-Match": a["properties"]["etag"]})
    assert r.status_code == 200, r.text
    assert "gap" in {f["properties"]["rule"] for f in r.json()["problems"]["features"]}
    park = {"kind": "park", "name": "滨河公园",
            "geometry": mapping(whole.difference(small).buffer(0.00005))}
    assert http.post("/api/v1/allowed-gaps", json=park).status_code == 401
    bad = http.post("/api/v1/allowed-gaps", headers=planner,
                    json={**park, "geometry": {"type": "Point", "coordinates": [109.2, 27.7]}})
    assert bad.status_code == 422 and "geometry" in bad.text
    r = http.post("/api/v1/allowed-gaps", json=park, headers=planner)
    assert r.status_code == 201, r.text
    gap = r.json()
    assert gap["properties"]["community_code"] == community
    assert gap["geometry"]["type"] == "MultiPolygon"
    try:
        after = http.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json()
        assert "gap" not in {f["properties"]["rule"] for f in after["problems"]["features"]}
    finally:
        assert http.delete(f"/api/v1/allowed-gaps/{gap['id']}",
                           headers=planner).status_code == 204
    again = http.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json()
    assert "gap" in {f["properties"]["rule"] for f in again["problems"]["features"]}
    with psycopg.connect(plan_url) as c:
        actions = [x[0] for x in c.execute(
            "SELECT action FROM audit_log WHERE object_type = 'allowed_gaps' AND object_id = %s "
            "ORDER BY id", (str(gap["id"]),))]
    assert actions == ["create", "delete"]


def _at_once(*calls: Any) -> list[httpx.Response]:
    """Run the calls in threads released together; their answers in the calls' order."""
    barrier = threading.Barrier(len(calls))
    out: list[httpx.Response | None] = [None] * len(calls)

    def run(k: int) -> None:
        barrier.wait()
        out[k] = calls[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in out)
    return out  # type: ignore[return-value]


def test_concurrent_edits_and_activations_one_wins_nothing_is_lost(
        server: str, planner: dict[str, str], other_planner: dict[str, str], plan_url: str,
        community: str) -> None:
    """Over many rounds: two planners move the same building with the same ETag at once
    (one 200, one 412, the building in one grid, households conserved); then two drafts of
    the same scope are activated at once (one 200, the other 409 or 412)."""
    with httpx.Client(base_url=server, timeout=120) as one, \
            httpx.Client(base_url=server, timeout=120) as two:
        draft = _open(one, planner, community)
        for _ in range(8):
            draft = one.get(f"/api/v1/drafts/{draft['id']}", headers=planner).json()
            a, b = _adjacent_pair(draft)
            with psycopg.connect(plan_url) as c:
                (building,) = c.execute(
                    "SELECT building_id FROM draft_buildings WHERE layer_id = %s AND "
                    "grid_id = %s ORDER BY building_id LIMIT 1", (draft["id"], b["id"])
                ).fetchone()  # type: ignore[misc]
                total = c.execute("SELECT sum(households) FROM grids WHERE layer_id = %s",
                                  (draft["id"],)).fetchone()[0]  # type: ignore[index]
            body = {"buildings": [building], "to": a["id"]}
            tags = f'{a["properties"]["etag"]}, {b["properties"]["etag"]}'
            url = f"/api/v1/drafts/{draft['id']}/move-buildings"
            answers = _at_once(
                lambda u=url, bd=body, t=tags: one.post(u, json=bd, headers={**planner,
                                                                             "If-Match": t}),
                lambda u=url, bd=body, t=tags: two.post(u, json=bd, headers={**other_planner,
                                                                             "If-Match": t}))
            assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]
            with psycopg.connect(plan_url) as c:
                held = c.execute("SELECT grid_id FROM draft_buildings WHERE layer_id = %s AND "
                                 "building_id = %s", (draft["id"], building)).fetchall()
                after = c.execute("SELECT sum(households) FROM grids WHERE layer_id = %s",
                                  (draft["id"],)).fetchone()[0]  # type: ignore[index]
            assert held == [(a["id"],)] and after == total
        for _ in range(2):
            mine, theirs = _open(one, planner, community), _open(two, other_planner, community)
            answers = _at_once(
                lambda d=mine: one.post(f"/api/v1/drafts/{d['id']}/activate",
                                        headers={**planner, "If-Match": d["etag"]}),
                lambda d=theirs: two.post(f"/api/v1/drafts/{d['id']}/activate",
                                          headers={**other_planner, "If-Match": d["etag"]}))
            codes = sorted(r.status_code for r in answers)
            assert codes[0] == 200 and codes[1] in (409, 412), [r.text for r in answers]
