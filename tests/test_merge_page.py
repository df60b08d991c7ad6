"""The 多网合一 page /merge in Debian's headless Chromium against the real API, on a database
of its own (the walk-through activates a new generation): a planner analyses a street's
layers, picks a conflict, merges, reads the crosswalk and people, and activates."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page

from geo.auth import hash_password
from tests.browser import chromium
from tests.conftest import demo_database, serve_database
from tests.test_merge_unify import held_roles

pytestmark = pytest.mark.browser
PASSWORD = "merge page secret"


@pytest.fixture(scope="module")
def merge_db() -> Iterator[str]:
    with demo_database("_mergepage") as url:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("INSERT INTO users (username, password_hash, role, scope_code) VALUES "
                      "('merge_planner', %s, 'planner', '520602')", (hash_password(PASSWORD),))
        yield url


@pytest.fixture(scope="module")
def server(merge_db: str) -> Iterator[str]:
    with serve_database(merge_db) as url:
        yield url


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with chromium({"width": 1500, "height": 900}, locale="zh-CN") as ctx:
        yield ctx


def _idle(page: Page) -> None:
    page.wait_for_function("() => !document.body.dataset.busy", timeout=120_000)


def test_a_planner_merges_a_street_through_the_page(context: BrowserContext, server: str,
                                                    merge_db: str) -> None:
    page = context.new_page()
    page.goto(f"{server}/merge")
    page.wait_for_selector("#login[open]", timeout=60_000)
    page.fill("#username", "merge_planner")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    _idle(page)
    street = page.eval_on_selector("#street", "s => s.value")
    with psycopg.connect(merge_db, autocommit=True) as c:  # a 综治 grid worker on the street
        c.execute("INSERT INTO role_assignments (person_id, role, grid_id) SELECT "
                  "(SELECT min(id) FROM people), 'grid_worker_full', g.id FROM grids g JOIN "
                  "grid_layers l ON l.id = g.layer_id JOIN areas a ON a.code = %s AND "
                  "ST_Covers(a.geom, ST_PointOnSurface(g.geom)) WHERE l.theme = '综治' AND "
                  "l.status = 'active' ORDER BY g.code LIMIT 1", (street,))
    layers = page.eval_on_selector_all("#layers input", "is => is.map(i => i.value)")
    assert sorted(layers) == ["城管", "应急", "综治"]
    page.uncheck(f"#layers input[value='{layers[1]}']")
    page.click("#layers button[data-up='2']")  # the last layer moves up one
    moved = page.eval_on_selector_all("#layers input", "is => is.map(i => i.value)")
    assert moved == [layers[0], layers[2], layers[1]]
    ticked = page.eval_on_selector_all("#layers input", "is => is.map(i => i.checked)")
    assert ticked == [True, True, False]  # the unticked layer stays out when moved
    page.check(f"#layers input[value='{layers[1]}']")

    page.click("#analyse")
    page.wait_for_selector("#conflicts li", timeout=120_000)
    _idle(page)
    with httpx.Client(base_url=server, timeout=300) as http:
        token = http.post("/api/v1/auth/token", data={"username": "merge_planner",
                                                      "password": PASSWORD}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        report = http.get("/api/v1/merges/overlay", headers=auth, params={
            "within": street, "layers": ",".join(["unified", *moved])}).json()
    shown = f"{round(report['agreement'] * 1000) / 10:g}%"  # as the page writes it
    assert f"全部嵌套一致的户数：{shown}" in page.inner_text("#report")
    splits = sum(len(p["a_split"]) for p in report["pairs"])
    assert len(page.query_selector_all("#conflicts li")) >= splits > 0
    page.click("#conflicts li:first-child button")
    page.wait_for_function(
        "() => window.gridgovMerge.state.view.left.map.querySourceFeatures('picked').length > 0",
        timeout=30_000)

    page.click("#merge")
    page.wait_for_selector("#crosswalk tbody tr", timeout=180_000)
    _idle(page)
    merged = page.evaluate("() => window.gridgovMerge.state.merged")
    assert merged["errors"] == 0 and "合并草案" in page.inner_text("#right-title")
    with httpx.Client(base_url=server, timeout=300) as http:
        cross = http.get("/api/v1/merges/crosswalk", headers=auth, params={
            "from": moved[0], "to": f"draft:{merged['draft']}", "within": street}).json()
    assert len(page.query_selector_all("#crosswalk tbody tr")) == len(cross["rows"])
    assert "人员调整建议" in page.inner_text("#result")

    with httpx.Client(base_url=server, timeout=300) as http:
        proposed = http.get(f"/api/v1/merges/{merged['draft']}/people", headers=auth).json()
    held = held_roles(merge_db, street)  # who held what on the street's unified grids
    # the planner sends one departmental post elsewhere than proposed and accepts the rest
    rows = page.eval_on_selector_all("#posts select", "ss => ss.map(s => [s.dataset.post, "
                                     "s.value, [...s.options].map(o => o.value)])")
    assert len(rows) == len(proposed["posts"]) > 0
    post, was, options = next(r for r in rows if not r[0].startswith('["unified"') and r[1])
    other = next(o for o in options if o and o != was)
    page.select_option(f"#posts select[data-post='{post}']", other)
    page.click("#accept")
    page.wait_for_function("() => document.querySelector('#status').textContent"
                           ".startsWith('已接受人员安排')", timeout=60_000)
    with httpx.Client(base_url=server, timeout=300) as http:
        plan = http.get(f"/api/v1/merges/{merged['draft']}/people?names=false",
                        headers=auth).json()
    assert plan["accepted"]
    edited = {tuple(p_[k] for k in ("layer", "grid", "role")): p_["to"] for p_ in plan["posts"]}
    assert edited[tuple(json.loads(post))] == other
    page.click("#activate")
    page.wait_for_function("() => document.querySelector('#status').textContent"
                           ".startsWith('已启用')", timeout=120_000)
    with psycopg.connect(merge_db) as c:
        status = c.execute("SELECT status FROM grid_layers WHERE id = %s",
                           (merged["draft"],)).fetchone()
    assert status == ("active",)
    # activation moved every current role on the street's old unified grids exactly where
    # the people proposal said it would go (a planner sees no names nor ids: by grid)
    assert all(p["person_id"] is None and p["name"] is None for p in proposed["people"])
    goes = {d["from"]: d["to"] for p in proposed["people"] for d in p["duties"]
            if d["layer"] == "unified"}
    with psycopg.connect(merge_db) as c:
        now = now_all(c, merged["draft"])
    assert held and all((pid, role, goes[code]) in now for pid, role, code in held)

    # and every departmental post of the accepted plan is now also held on its new grid, by
    # the same people (the edited one where the planner sent it)
    with psycopg.connect(merge_db) as c:
        for (layer, grid, role), to in edited.items():
            if layer == "unified" or to is None:
                continue
            holders = {r[0] for r in c.execute(
                "SELECT r.person_id FROM role_assignments r JOIN grids g ON g.id = r.grid_id "
                "JOIN grid_layers l ON l.id = g.layer_id WHERE l.theme = %s AND l.status = "
                "'active' AND g.code = %s AND r.role = %s AND (r.valid_to IS NULL OR "
                "r.valid_to >= current_date)", (layer, grid, role))}
            assert holders and all((pid, role, to) in now for pid in holders)


def now_all(c: psycopg.Connection, layer_id: int) -> set[tuple[int, str, str]]:
    return {(r[0], r[1], r[2]) for r in c.execute(
        "SELECT r.person_id, r.role, g.code FROM role_assignments r JOIN grids g ON "
        "g.id = r.grid_id WHERE g.layer_id = %s AND r.valid_from <= current_date AND "
        "(r.valid_to IS NULL OR r.valid_to >= current_date)", (layer_id,))}


def _auth(server: str) -> dict[str, str]:
    with httpx.Client(base_url=server) as http:
        token = http.post("/api/v1/auth/token", data={"username": "merge_planner",
                                                      "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_district_merged_in_one_request(server: str, merge_db: str) -> None:
    auth = _auth(server)
    with httpx.Client(base_url=server, timeout=300, headers=auth) as http:
        r = http.post("/api/v1/merges", json={"scope": "520602", "layers": ["综治", "城管"]})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["errors"] == 0 and body["metrics"]["draft"]["within_range"] == 1.0
        with psycopg.connect(merge_db) as c:
            held, total, placed = c.execute(
                "SELECT (SELECT sum(households) FROM grids WHERE layer_id = %(d)s), "
                "(SELECT sum(households) FROM buildings WHERE community_code LIKE '520602%%'), "
                "(SELECT count(*) FROM draft_buildings WHERE layer_id = %(d)s AND grid_id IS "
                "NOT NULL)", {"d": body["draft"]}).fetchone()  # type: ignore[misc]
            buildings = c.execute("SELECT count(*) FROM buildings WHERE community_code LIKE "
                                  "'520602%'").fetchone()[0]  # type: ignore[index]
        assert held == total and placed == buildings  # households conserved, all placed
        gone = http.delete(f"/api/v1/drafts/{body['draft']}", headers={"If-Match": "*"})
        assert gone.status_code == 204


def test_a_people_plan_that_names_no_post_or_grid_is_refused(server: str, merge_db: str
                                                               ) -> None:
    auth = _auth(server)
    with httpx.Client(base_url=server, timeout=300, headers=auth) as http:
        draft = http.post("/api/v1/merges", json={"scope": "520602002", "layers": [
            "应急", "综治"]}).json()["draft"]
        plan = http.get(f"/api/v1/merges/{draft}/people?names=false").json()
        post = plan["posts"][0]
        bad = [({"layer": "综治", "grid": "999", "role": "volunteer", "to": None}, "edits[0]"),
               ({**{k: post[k] for k in ("layer", "grid", "role")}, "to": "520602999999001"},
                "edits[0].to")]
        for edit, where in bad:
            r = http.post(f"/api/v1/merges/{draft}/people/accept", json={"edits": [edit]})
            assert r.status_code == 422 and where in r.text
        again = http.get(f"/api/v1/merges/{draft}/people?names=false").json()
        assert not again["accepted"]  # nothing stored
        ok = http.post(f"/api/v1/merges/{draft}/people/accept", json={"edits": []})
        assert ok.status_code == 200 and ok.json()["posts"] == len(plan["posts"])
        # an accepted plan naming a grid the draft then lost blocks activation
        with psycopg.connect(merge_db, autocommit=True) as c:
            c.execute("UPDATE merge_posts SET to_code = '520602002001999' WHERE draft_id = %s "
                      "AND ctid = (SELECT ctid FROM merge_posts WHERE draft_id = %s LIMIT 1)",
                      (draft, draft))
        etag = http.get(f"/api/v1/drafts/{draft}").json()["etag"]
        r = http.post(f"/api/v1/drafts/{draft}/activate", headers={"If-Match": etag})
        assert r.status_code == 409 and "people plan" in r.text
        http.delete(f"/api/v1/drafts/{draft}", headers={"If-Match": "*"})


def test_a_city_without_a_unified_layer_gets_its_first(server: str, merge_db: str) -> None:
    """Only departmental grids so far (the unified layer renamed away): the merge makes the
    first, empty unified generation and its draft; activation publishes generation 2."""
    with psycopg.connect(merge_db, autocommit=True) as c:
        c.execute("UPDATE grid_layers SET theme = '党建' WHERE theme = 'unified'")
    auth = _auth(server)
    with httpx.Client(base_url=server, timeout=300, headers=auth) as http:
        r = http.post("/api/v1/merges", json={"scope": "520602003", "layers": ["综治", "党建"]})
        assert r.status_code == 201, r.text
        draft = r.json()["draft"]
        with psycopg.connect(merge_db) as c:
            made = c.execute("SELECT generation, (SELECT count(*) FROM grids g WHERE g.layer_id"
                             " = l.id) FROM grid_layers l WHERE theme = 'unified' AND status = "
                             "'active'").fetchall()
        assert made == [(1, 0)]
        etag = http.get(f"/api/v1/drafts/{draft}").json()["etag"]
        done = http.post(f"/api/v1/drafts/{draft}/activate", headers={"If-Match": etag})
        assert done.status_code == 200, done.text
        assert done.json()["generation"] == 2
