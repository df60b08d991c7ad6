"""The 多网合一 page /merge in Debian's headless Chromium against the real API, on a database
of its own (the walk-through activates a new generation): a planner analyses a street's
layers, picks a conflict, merges, reads the crosswalk and people, and activates."""

from __future__ import annotations

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
        now = {(r[0], r[1], r[2]) for r in c.execute(
            "SELECT r.person_id, r.role, g.code FROM role_assignments r JOIN grids g ON "
            "g.id = r.grid_id WHERE g.layer_id = %s AND r.valid_from <= current_date AND "
            "(r.valid_to IS NULL OR r.valid_to >= current_date)", (merged["draft"],))}
    assert held and all((pid, role, goes[code]) in now for pid, role, code in held)
