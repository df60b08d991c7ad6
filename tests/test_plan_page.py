"""The planner page /plan in Debian's headless Chromium, against the real API on a demo city of
its own (activation changes the active generation): sign in, open a draft, split a grid with a
drawn line, merge two grids picked on the map, lasso buildings into another grid, activate;
every step checked in the database, the audit log and the page. And an edit made from a
stale copy (another session changed the grid): refused with 412, the page reloads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page
from shapely.geometry import shape

from geo.auth import hash_password
from tests.browser import chromium
from tests.conftest import demo_database, serve_database

pytestmark = pytest.mark.browser
PASSWORD = "plan page secret"
# A map position in page pixels (the map container's offset plus MapLibre's projection).
TO_PIXELS = """([lon, lat]) => { const m = window.gridgovPlan.map;
  const r = m.getContainer().getBoundingClientRect(); const p = m.project([lon, lat]);
  return [r.left + p.x, r.top + p.y]; }"""


@pytest.fixture(scope="module")
def page_db() -> Iterator[str]:
    with demo_database("_planpage") as url:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("INSERT INTO users (username, password_hash, role, scope_code) VALUES "
                      "('page_planner', %s, 'planner', '520602')", (hash_password(PASSWORD),))
        yield url


@pytest.fixture(scope="module")
def server(page_db: str) -> Iterator[str]:
    with serve_database(page_db) as url:
        yield url


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with chromium({"width": 1400, "height": 900}, locale="zh-CN") as ctx:
        yield ctx


def _community(url: str) -> str:
    """A community whose largest base grid has at least 8 buildings (enough to split)."""
    with psycopg.connect(url) as c:
        row = c.execute(
            "SELECT g.community_code FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
            "WHERE l.status = 'active' AND l.theme = 'unified' AND g.kind = 'base' "
            "AND (SELECT count(*) FROM buildings b WHERE b.grid_id = g.id) >= 8 "
            "GROUP BY 1 HAVING count(*) >= 4 ORDER BY 1 LIMIT 1").fetchone()
    assert row
    return str(row[0])


def _idle(page: Page) -> None:
    page.wait_for_function("() => !document.body.dataset.busy", timeout=60_000)


def _grids(page: Page) -> dict[str, dict[str, Any]]:
    """The draft's grids as the page holds them, by code."""
    features = page.evaluate("() => window.gridgovPlan.state.draft.grids.features")
    return {f["properties"]["code"]: {"id": f["id"], **f["properties"],
                                      "geometry": f["geometry"]} for f in features}


def _click(page: Page, lonlat: list[float], shift: bool = False) -> None:
    x, y = page.evaluate(TO_PIXELS, lonlat)
    if shift:
        page.keyboard.down("Shift")
    page.mouse.click(x, y)
    if shift:
        page.keyboard.up("Shift")


def _draw(page: Page, points: list[list[float]]) -> None:
    """Click the points on the map, then Enter (Terra Draw's finish key)."""
    for lonlat in points:
        x, y = page.evaluate(TO_PIXELS, lonlat)
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        time.sleep(0.15)
    page.keyboard.press("Enter")


def _version(page: Page, version: int) -> None:
    page.wait_for_selector(f"body[data-version='{version}']", timeout=60_000)
    _idle(page)


def _sign_in(page: Page, server: str, community: str) -> None:
    page.goto(f"{server}/plan?community={community}")
    page.wait_for_selector("#login[open]", timeout=60_000)
    page.fill("#username", "page_planner")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    _idle(page)


def _split(page: Page, grid: dict[str, Any]) -> None:
    """Select the grid on the map and draw a line across the middle of its box."""
    _click(page, grid["label"])
    page.wait_for_selector("#t-split:not([disabled])")
    page.click("#t-split")
    w, s, e, n = shape(grid["geometry"]).bounds
    mid = (s + n) / 2
    _draw(page, [[w - 0.0004, mid], [e + 0.0004, mid]])


def test_split_merge_lasso_and_activate_through_the_page(context: BrowserContext, server: str,
                                                         page_db: str) -> None:
    community = _community(page_db)
    page = context.new_page()
    seen: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: d.accept())
    _sign_in(page, server, community)
    page.click("#t-new")
    _version(page, 1)
    draft = int(page.get_attribute("body", "data-draft") or 0)
    with psycopg.connect(page_db) as c:
        active = dict(c.execute(
            "SELECT g.code, g.households FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
            "WHERE l.status = 'active' AND l.theme = 'unified' AND g.community_code = %s",
            (community,)).fetchall())
    before = _grids(page)
    assert {c: g["households"] for c, g in before.items()} == active
    assert "校验通过" in (page.text_content("#summary") or "")

    # Split the largest grid with a drawn line: two grids holding its households.
    big = max(before.values(), key=lambda g: g["households"])
    _split(page, big)
    _version(page, 2)
    after = _grids(page)
    assert len(after) == len(before) + 1 and big["id"] not in {g["id"] for g in after.values()}
    made = [g for g in after.values() if g["id"] not in {b["id"] for b in before.values()}]
    assert len(made) == 2 and sum(g["households"] for g in made) == big["households"]
    assert "已切分" in (page.text_content("#status") or "")

    # Merge the two halves again, picked on the map (click, then Shift+click).
    _click(page, made[0]["label"])
    _click(page, made[1]["label"], shift=True)
    assert page.evaluate("() => window.gridgovPlan.state.view.selected.size") == 2
    page.click("#t-merge")
    _version(page, 3)
    merged = _grids(page)
    assert len(merged) == len(before)
    assert sorted(g["households"] for g in merged.values()) == sorted(active.values())

    # Lasso a few buildings of one grid into its neighbour.
    _lasso_into_neighbour(page, page_db, draft)
    _version(page, 4)

    # Activate: the draft becomes the active generation, and the page says so.
    page.wait_for_selector("#t-activate:not([disabled])")
    page.click("#t-activate")
    page.wait_for_selector("body[data-activated]", timeout=60_000)
    _idle(page)
    generation = int(page.get_attribute("body", "data-activated") or 0)
    assert "已启用" in (page.text_content("#status") or "")
    with psycopg.connect(page_db) as c:
        status, gen = c.execute("SELECT status, generation FROM grid_layers WHERE id = %s",
                                (draft,)).fetchone() or (None, None)
        actions = [r[0] for r in c.execute(
            "SELECT action FROM audit_log WHERE object_type = 'grid_layer' AND object_id = %s "
            "AND actor = 'page_planner' ORDER BY id", (str(draft),))]
        now = dict(c.execute(
            "SELECT g.code, g.households FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
            "WHERE l.status = 'active' AND l.theme = 'unified' AND g.community_code = %s",
            (community,)).fetchall())
    assert (status, gen) == ("active", generation)
    assert actions == ["open_draft", "split", "merge", "move_buildings", "activate"]
    assert sum(now.values()) == sum(active.values()) and now != active
    hosts = {urlparse(u).hostname for u in seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not errors, errors


def _lasso_into_neighbour(page: Page, url: str, draft: int) -> None:
    """Lasso the building of one grid that lies nearest another grid, and click that grid;
    the database's draft assignment must follow."""
    with psycopg.connect(url) as c:
        row = c.execute(
            "SELECT d.building_id, ST_X(b.geom), ST_Y(b.geom), g2.id FROM draft_buildings d "
            "JOIN buildings b ON b.id = d.building_id JOIN grids g2 ON g2.layer_id = d.layer_id "
            "AND g2.id <> d.grid_id AND g2.kind = 'base' AND g2.community_code = b.community_code "
            "WHERE d.layer_id = %s ORDER BY ST_Distance(b.geom, g2.geom) LIMIT 1",
            (draft,)).fetchone()
    assert row
    building, lon, lat, target = row
    d = 0.00012  # about 13 m: ~90 px across at zoom 19
    view = page.evaluate("() => { const m = window.gridgovPlan.map; const c = m.getCenter(); "
                         "return [c.lng, c.lat, m.getZoom()]; }")
    page.evaluate("([lon, lat]) => window.gridgovPlan.map.jumpTo({center: [lon, lat], "
                  "zoom: 19})", [lon, lat])
    page.click("#t-lasso")
    _draw(page, [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]])
    page.wait_for_function("() => window.gridgovPlan.state.lasso !== null", timeout=10_000)
    assert page.evaluate("() => window.gridgovPlan.state.lasso.ids") == [building]
    page.evaluate("([lon, lat, zoom]) => window.gridgovPlan.map.jumpTo({center: [lon, lat], "
                  "zoom})", view)
    label = next(g["label"] for g in _grids(page).values() if g["id"] == target)
    _click(page, label)
    page.wait_for_function("() => document.body.dataset.version === '4'", timeout=60_000)
    with psycopg.connect(url) as c:
        now = c.execute("SELECT grid_id FROM draft_buildings WHERE layer_id = %s AND "
                        "building_id = %s", (draft, building)).fetchone()
    assert now == (target,)


def test_an_edit_from_a_stale_copy_is_refused_and_the_page_reloads(
        context: BrowserContext, server: str, page_db: str) -> None:
    with psycopg.connect(page_db) as c:
        row = c.execute(
            "SELECT g.community_code FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
            "WHERE l.status = 'active' AND l.theme = 'unified' AND g.kind = 'base' "
            "GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 DESC LIMIT 1").fetchone()
    assert row
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    _sign_in(page, server, str(row[0]))
    page.click("#t-new")
    _version(page, 1)
    draft = int(page.get_attribute("body", "data-draft") or 0)
    grids = sorted(_grids(page).values(), key=lambda g: g["code"])
    # Another planner's session splits a grid the page still shows as it was.
    with httpx.Client(base_url=server, timeout=60) as http:
        token = http.post("/api/v1/auth/token", data={"username": "page_planner",
                                                      "password": PASSWORD}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        w, s, e, n = shape(grids[0]["geometry"]).bounds
        line = {"type": "LineString", "coordinates": [[w - 0.001, (s + n) / 2],
                                                      [e + 0.001, (s + n) / 2]]}
        r = http.post(f"/api/v1/drafts/{draft}/split", json={"grid": grids[0]["id"], "line": line},
                      headers={**auth, "If-Match": grids[0]["etag"]})
        assert r.status_code == 200, r.text
    _split(page, grids[0])
    page.wait_for_selector("#status.bad", timeout=60_000)
    _version(page, 2)
    assert "412" in (page.text_content("#status") or "")
    with psycopg.connect(page_db) as c:
        server_grids = {r[0] for r in c.execute("SELECT code FROM grids WHERE layer_id = %s",
                                                (draft,))}
        version = c.execute("SELECT version FROM grid_layers WHERE id = %s",
                            (draft,)).fetchone()
    assert set(_grids(page)) == server_grids and version == (2,)


def test_the_service_circle_tool_proposes_sites_on_the_map(context: BrowserContext, server: str,
                                                          page_db: str) -> None:
    community = _community(page_db)
    page = context.new_page()
    _sign_in(page, server, community)
    page.click("#t-circle")
    page.wait_for_function("() => document.querySelector('#circle-category').options.length > 0",
                           timeout=60_000)
    _idle(page)
    assert page.is_visible("#circle-box") and page.get_attribute("#t-circle", "aria-pressed") \
        == "true"
    page.select_option("#circle-category", "supermarket")
    _idle(page)
    assert "分钟" in page.inner_text("#circle-legend")
    assert "步行 15 分钟内" in page.inner_text("#circle-note")  # the community's own figures
    page.fill("#circle-k", "2")
    page.click("#circle-site")
    page.wait_for_function("() => document.querySelectorAll('.site-marker').length === 2",
                           timeout=120_000)
    _idle(page)
    with httpx.Client(base_url=server, timeout=120) as http:
        token = http.post("/api/v1/auth/token", data={"username": "page_planner",
                                                      "password": PASSWORD}).json()
        body = http.post("/api/v1/service-circle/siting", json={
            "category": "supermarket", "k": 2, "within": community},
            headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert f"可覆盖 {body['households_added']} 户" in (page.text_content("#status") or "")
    listed = page.eval_on_selector_all("#circle-sites li", "lis => lis.map(l => l.textContent)")
    assert listed == [f"新增覆盖 {f['properties']['households']} 户（{f['properties']['buildings']}"
                      " 栋）" for f in body["features"]]
    page.click("#t-circle")
    assert not page.is_visible("#circle-box")
    assert page.eval_on_selector_all(".site-marker", "ms => ms.length") == 0
