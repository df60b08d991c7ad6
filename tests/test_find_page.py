"""The resident page /find in Debian's headless Chromium, phone-sized, offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize

from tests.browser import chromium

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 390, "height": 844}
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with chromium(PHONE, locale="zh-CN") as ctx:
        yield ctx


def open_find(context: BrowserContext, live_server: str) -> tuple[Page, list[str]]:
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(live_server + "/find")
    page.wait_for_selector("body[data-ready], body[data-error]", timeout=60_000)
    assert page.get_attribute("body", "data-error") is None
    return page, seen


def expected_for(conn: psycopg.Connection, building_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT g.code, g.name, array(SELECT p.name FROM role_assignments r JOIN people p "
        "ON p.id = r.person_id WHERE r.grid_id = g.id AND r.published AND r.role IN "
        "('grid_worker_full', 'grid_worker_part', 'grid_leader', 'grid_assistant')), "
        "(SELECT p.name FROM role_assignments r JOIN people p ON p.id = r.person_id "
        " WHERE r.building_id = b.id AND r.role = 'building_head' AND r.published LIMIT 1) "
        "FROM buildings b JOIN active_grid_parts a ON ST_Covers(a.geom, b.geom) "
        "JOIN grids g ON g.id = a.grid_id WHERE b.id = %s ORDER BY g.code LIMIT 1",
        (building_id,)).fetchone()
    assert row is not None
    return {"code": row[0], "name": row[1], "contacts": row[2], "head": row[3]}


def test_type_an_address_and_see_the_grid_worker_card(context: BrowserContext, live_server: str,
                                                      conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT b.id, b.address FROM buildings b WHERE EXISTS (SELECT 1 FROM role_assignments r "
        "WHERE r.building_id = b.id AND r.role = 'building_head' AND r.published) "
        "AND b.address ~ '[0-9]栋$' ORDER BY b.id DESC LIMIT 1").fetchone()
    assert row is not None
    building_id, address = row
    want = expected_for(conn, building_id)
    page, seen = open_find(context, live_server)
    page.fill("#q", address)
    page.press("#q", "Enter")
    page.wait_for_selector("#results li button", timeout=10_000)
    page.locator("#results button", has_text=address).first.click()
    page.wait_for_selector(f"body[data-result='{want['code']}']", timeout=10_000)
    card = page.text_content("#card") or ""
    assert want["name"] in card and address in card
    assert want["contacts"] and all(name in card for name in want["contacts"])
    if want["head"]:
        assert want["head"] in card
    assert "党群服务中心" in card and "分钟" in card
    route = page.evaluate("() => window.gridgovFind.map.getSource('route').serialize().data")
    assert route["geometry"]["type"] == "LineString" and len(route["geometry"]["coordinates"]) >= 2
    selected = page.evaluate("() => window.gridgovFind.map.getSource('selected').serialize().data")
    assert [f["properties"]["code"] for f in selected["features"]] == [want["code"]]
    hosts = {urlparse(u).hostname for u in seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    # Phones in the card are work numbers (tel: links) or masked; never a full mobile.
    links = page.eval_on_selector_all("#card a.tel", "els => els.map(e => e.getAttribute('href'))")
    assert all(href.startswith("tel:") for href in links)
    assert not MOBILE.search(card + " ".join(links))


def test_tap_the_map_and_use_my_location(context: BrowserContext, live_server: str,
                                         conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), "
                       "ST_Y(ST_PointOnSurface(g.geom)) FROM grids g JOIN grid_layers l "
                       "ON l.id = g.layer_id WHERE l.theme = 'unified' AND l.status = 'active' "
                       "ORDER BY g.code LIMIT 1 OFFSET 40").fetchone()
    assert row is not None
    code, lon, lat = row
    page, _ = open_find(context, live_server)
    page.evaluate(f"() => window.gridgovFind.map.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
    page.wait_for_function("() => window.gridgovFind.map.loaded()", timeout=30_000)
    xy = page.evaluate(f"() => window.gridgovFind.map.project([{lon}, {lat}])")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])
    page.wait_for_selector(f"body[data-result='{code}']", timeout=10_000)
    context.grant_permissions(["geolocation"], origin=live_server)
    context.set_geolocation({"longitude": lon, "latitude": lat})
    page.evaluate("() => { delete document.body.dataset.result; }")
    page.click("#locate")
    page.wait_for_selector(f"body[data-result='{code}']", timeout=10_000)
    assert "您的位置" in (page.text_content("#status") or "")


def test_outside_is_said_kindly(context: BrowserContext, live_server: str) -> None:
    page, _ = open_find(context, live_server)
    page.evaluate("() => window.gridgovFind.lookup(116.397, 39.909)")
    page.wait_for_selector("body[data-result='none']", timeout=10_000)
    assert "不在我们服务的社区范围内" in (page.text_content("#status") or "")
    assert page.is_hidden("#card")


def test_names_from_data_stay_text(context: BrowserContext, live_server: str,
                                   demo_url: str) -> None:
    evil = '测试<img src=x onerror="window.__owned=1">大厦1栋'
    with psycopg.connect(demo_url, autocommit=True) as c:
        bid = c.execute("INSERT INTO buildings (address, community_code, geom) VALUES (%s, "
                        "'520602001001', ST_SetSRID(ST_MakePoint(109.2, 27.73), 4326)) "
                        "RETURNING id", (evil,)).fetchone()[0]  # type: ignore[index]
    try:
        page, _ = open_find(context, live_server)
        page.fill("#q", "测试 大厦1栋")
        page.press("#q", "Enter")
        page.wait_for_selector("#results li button", timeout=10_000)
        assert evil in (page.text_content("#results") or "")
        assert page.evaluate("() => window.__owned") is None
        assert page.locator("#results img").count() == 0
    finally:
        with psycopg.connect(demo_url, autocommit=True) as c:
            c.execute("DELETE FROM buildings WHERE id = %s", (bid,))
