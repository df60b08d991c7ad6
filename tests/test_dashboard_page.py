"""The street dashboard /dashboard in Debian's headless Chromium against the real API: a street
leader signs in and sees only their street, picks an indicator (the table of grids short of
target matches the API and sorts), clicks a grid, switches to the issues heat map and its
month slider, downloads the report, and reads the 一刻钟生活圈 layer (minutes, gap cells,
isochrones from a click)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser import chromium
from tests.conftest import ACCOUNT_PASSWORD
from tests.test_report import external_urls

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with chromium({"width": 1400, "height": 900}, locale="zh-CN") as ctx:
        yield ctx


def _idle(page: Page) -> None:
    page.wait_for_function("() => !document.body.dataset.busy", timeout=60_000)


def _api(live_server: str, who: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    headers = {k: v for k, v in who.items() if k == "Authorization"}
    r = httpx.get(f"{live_server}/api/v1{path}", params=params, headers=headers, timeout=30)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


def _signed_in(context: BrowserContext, live_server: str, who: dict[str, str]) -> Page:
    page = context.new_page()
    page.goto(f"{live_server}/dashboard")
    page.wait_for_selector("#login[open]", timeout=60_000)
    page.fill("#username", who["username"])
    page.fill("#password", ACCOUNT_PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    _idle(page)
    return page


def _names(page: Page) -> list[str]:
    return page.eval_on_selector_all("#short-table tbody tr td:first-child",
                                     "tds => tds.map(t => t.textContent)")


def test_a_street_leader_reads_the_dashboard(context: BrowserContext, live_server: str,
                                            accounts: dict[str, dict[str, str]],
                                            tmp_path: Path) -> None:
    leader = accounts["street_leader"]
    street = leader["scope"]
    page = _signed_in(context, live_server, leader)
    assert page.eval_on_selector_all("#street option", "os => os.map(o => o.value)") == [street]

    coverage = _api(live_server, leader, "/coverage", within=street)
    assert f"{len(coverage['features'])} 个网格" in page.inner_text("#summary")
    page.select_option("#indicator", "building_head_share")
    _idle(page)
    short = sorted(f["properties"]["name"] for f in coverage["features"]
                   if f["properties"]["indicators"]["building_head_share"]["pass"] is False)
    assert short, "the demo street has grids short of a 楼栋长 in every building"
    assert sorted(_names(page)) == short
    gaps = page.eval_on_selector_all("#short-table tbody tr td:last-child",
                                     "tds => tds.map(t => t.textContent)")
    assert gaps == sorted(gaps, key=lambda g: float(g.rstrip("%")), reverse=True)  # widest first
    page.click("#short-table th button[data-sort='name']")
    assert page.get_attribute("#short-table th[aria-sort]", "aria-sort") == "ascending"
    names = _names(page)
    page.click("#short-table th button[data-sort='name']")
    assert _names(page) == names[::-1] and sorted(names) == short
    first = _names(page)[0]
    page.click("#short-table tbody tr:first-child")
    assert first in page.inner_text("#selected")
    assert page.get_attribute("#short-table tbody tr:first-child", "class") == "sel"
    assert "楼栋长覆盖率" in page.inner_text("#legend")

    page.check("input[name=layer][value=issues]")
    page.wait_for_function("() => (window.gridgovDash.state.heat || {}).layer === 'issues'",
                           timeout=30_000)
    _idle(page)
    assert page.is_visible("#time")
    res = page.evaluate("() => window.dashMap.resolution(window.gridgovDash.map.getZoom())")
    expected = _api(live_server, leader, "/heatmap", layer="issues", res=res, within=street)
    shown = page.evaluate("() => window.gridgovDash.state.heat.features.length")
    assert shown == len(expected["features"]) > 0
    page.wait_for_function("() => window.gridgovDash.map.querySourceFeatures('heat').length > 0",
                           timeout=30_000)  # and the hexagons are on the map
    page.screenshot(path=str(tmp_path / "dashboard-issues.png"))
    page.eval_on_selector("#month", "m => { m.value = 6; m.dispatchEvent(new Event('input')); "
                                    "m.dispatchEvent(new Event('change')); }")
    page.wait_for_function("() => !document.body.dataset.busy", timeout=30_000)
    label = page.inner_text("#month-label")
    assert "年" in label and "月" in label
    month = page.evaluate("() => window.gridgovDash.state.months[6]")
    in_month = _api(live_server, leader, "/heatmap", layer="issues", res=res, within=street,
                    **{"from": month[0], "to": month[1]})
    page.wait_for_function(
        f"() => window.gridgovDash.state.heat.total === {in_month['total']}",
        timeout=30_000)

    with page.expect_download() as download:
        page.click("#report")
    saved = tmp_path / "report.html"
    download.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert "网格工作报告" in html and external_urls(html) == []


def test_the_service_circle_layer_draws_minutes_gaps_and_isochrones(
        context: BrowserContext, live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    street = leader["scope"]
    page = _signed_in(context, live_server, leader)
    page.check("input[name=layer][value=circle]")
    page.wait_for_function("() => window.gridgovDash.state.circle !== null", timeout=60_000)
    _idle(page)
    assert page.is_visible("#circle-opts") and not page.is_visible("#time")
    page.select_option("#circle-category", "market")
    page.wait_for_function(
        "() => window.gridgovDash.state.circle.category.code === 'market'", timeout=60_000)
    _idle(page)
    gaps = _api(live_server, leader, "/service-circle/gaps", category="market", within=street)
    assert f"圈外 {gaps['buildings_outside']} 栋楼" in page.inner_text("#status")
    assert "菜市场" in page.inner_text("#legend") and "10 分钟" in page.inner_text("#legend")
    page.wait_for_function("() => window.gridgovDash.map.querySourceFeatures('gaps').length > 0",
                           timeout=30_000)
    page.evaluate("() => window.gridgovDash.map.jumpTo({zoom: 14.5})")
    page.wait_for_function(
        "() => window.gridgovDash.map.querySourceFeatures('circle', {sourceLayer: 'circle'})"
        ".some(f => f.properties.market !== undefined)", timeout=60_000)
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#status').textContent"
                           ".startsWith('等时圈')", timeout=60_000)
    assert "15 分钟" in page.inner_text("#status")
    page.wait_for_function("() => window.gridgovDash.map.querySourceFeatures('iso').length > 0",
                           timeout=30_000)  # and the areas are on the map
