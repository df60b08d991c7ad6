"""The map page in Debian's headless Chromium: it draws the demo city, offline."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser

from tests.browser import chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium({"width": 1280, "height": 800}) as ctx:
        yield ctx  # type: ignore[misc]


def test_map_draws_the_demo_city_with_nothing_from_outside(browser: Browser,
                                                          live_server: str) -> None:
    page = browser.new_page()
    seen: list[str] = []
    failed: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-loaded], body[data-error]", timeout=60_000)
    assert page.get_attribute("body", "data-error") is None
    status = page.text_content("#status") or ""
    assert "197 个网格" in status and "43 个社区" in status and "7 个街道" in status
    page.wait_for_function("window.gridgovMap.loaded() && window.gridgovMap.areTilesLoaded()",
                           timeout=30_000)
    drawn = page.evaluate("""() => {
        const m = window.gridgovMap;
        const n = (id) => m.queryRenderedFeatures({layers: [id]}).length;
        return {grids: n('grids-fill'), streets: n('streets'), facilities: n('facilities')};
    }""")
    assert drawn["grids"] >= 150 and drawn["streets"] >= 7 and drawn["facilities"] > 100
    canvas = page.locator("canvas.maplibregl-canvas")
    assert canvas.bounding_box()["width"] > 600  # type: ignore[index]
    hosts = {urlparse(u).hostname for u in seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not failed, failed
    assert any("/vendor/maplibre-gl/maplibre-gl.js" in u for u in seen)


def test_clicking_a_grid_shows_its_details(browser: Browser, live_server: str) -> None:
    page = browser.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector("body[data-loaded]", timeout=60_000)
    page.wait_for_function("window.gridgovMap.loaded()", timeout=30_000)
    point = page.evaluate("""() => {
        const m = window.gridgovMap;
        const f = m.queryRenderedFeatures({layers: ['grids-fill']})
          .find((x) => x.properties.kind === 'base');
        const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0]
                                                   : f.geometry.coordinates[0][0];
        const c = ring.slice(0, -1).reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0])
          .map((v) => v / (ring.length - 1));
        const px = m.project(c);
        return {x: px.x, y: px.y, code: f.properties.code};
    }""")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("#info table", timeout=5_000)
    info = page.text_content("#info") or ""
    assert "户数" in info and ("网格" in info or "楼栋" in info or "设施" in info)


def test_names_from_data_are_shown_as_text_not_markup(browser: Browser, live_server: str,
                                                      demo_url: str) -> None:
    import psycopg

    evil = '<img src=x onerror="window.__owned=1">便利店'
    with psycopg.connect(demo_url, autocommit=True) as c:
        fid = c.execute(
            "INSERT INTO facilities (category, name, community_code, geom) SELECT "
            "'convenience_store', %s, community_code, ST_Centroid(geom) FROM grids "
            "WHERE code LIKE '520602001%%' ORDER BY code LIMIT 1 RETURNING id, "
            "ST_X(geom), ST_Y(geom)", (evil,)).fetchone()
    assert fid is not None
    try:
        page = browser.new_page()
        page.goto(f"{live_server}/#17/{fid[2]}/{fid[1]}")
        page.wait_for_selector("body[data-loaded]", timeout=60_000)
        page.wait_for_function("window.gridgovMap.loaded()", timeout=30_000)
        page.wait_for_timeout(500)
        xy = page.evaluate(f"() => window.gridgovMap.project([{fid[1]}, {fid[2]}])")
        box = page.locator("#map").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])
        page.wait_for_selector("#info table", timeout=5_000)
        assert "<img" in (page.text_content("#info h2") or "")
        assert page.evaluate("() => window.__owned") is None
    finally:
        with psycopg.connect(demo_url, autocommit=True) as c:
            c.execute("DELETE FROM facilities WHERE id = %s", (fid[0],))
