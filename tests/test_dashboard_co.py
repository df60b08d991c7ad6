"""共建共治 on /dashboard in Debian's headless Chromium: a street leader switches to the layer
and sees the street's 党群服务中心 coloured by the site standards, its units and party
members' duty posts, and the communities' indicators as the API gives them; a planner sees
the sites and units but no duty post (they name party members)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser import chromium
from tests.test_dashboard_page import _signed_in
from tests.test_issues_api import Accounts, auth

pytestmark = pytest.mark.browser


def _api(live_server: str, who: dict[str, str], path: str, **params: Any) -> Any:
    r = httpx.get(f"{live_server}/api/v1{path}", params=params, headers=auth({"x": who}, "x"),
                  timeout=30)
    return r.json() if r.status_code == 200 else r.status_code


def _source_size(page: Any, source: str) -> int:
    return int(page.evaluate(
        f"() => gridgovDash.map.querySourceFeatures('{source}').map(f => f.id ?? "
        "JSON.stringify(f.geometry.coordinates)).filter((v, i, a) => a.indexOf(v) === i).length"))


@pytest.mark.parametrize("role", ["street_leader", "planner"])
def test_the_co_building_layer(live_server: str, accounts: Accounts, role: str) -> None:
    who = accounts[role]
    street = accounts["street_leader"]["scope"]
    cov = _api(live_server, who, "/coverage", level="community", within=street,
               indicator="posts_claimed,site_area,site_off_hours")
    sites = _api(live_server, who, "/facilities", category="party_service_center", within=street)
    duty = _api(live_server, who, "/duty-posts", within=street, limit=5000)
    assert (duty == 403) == (role == "planner")
    with chromium({"width": 1400, "height": 900}, locale="zh-CN") as ctx:
        page = _signed_in(ctx, live_server, who)
        if role == "planner":
            page.select_option("#street", street)
            page.wait_for_function("() => !document.body.dataset.busy", timeout=60_000)
        page.check("input[name=layer][value=co]")
        page.wait_for_selector("#co-table", timeout=60_000)
        page.wait_for_function("() => !document.body.dataset.busy", timeout=60_000)
        names = page.eval_on_selector_all("#co-table tbody td.name", "tds => tds.map(t => t.textContent)")
        assert names == [f["properties"]["name"] for f in cov["features"]] + ["街道合计"]
        shares = page.eval_on_selector_all("#co-table tbody tr td:nth-child(4)",
                                           "tds => tds.map(t => t.textContent)")
        whole = _api(live_server, who, "/coverage", level="street", within=street,
                     indicator="posts_claimed")["features"][0]
        expected = [f["properties"]["indicators"]["posts_claimed"]["value"]
                    for f in [*cov["features"], whole]]
        assert shares == ["—" if v is None else f"{round(v * 1000) / 10:g}%" for v in expected]
        page.evaluate("() => gridgovDash.map.fitBounds(gridgovDash.map.getBounds())")
        page.wait_for_timeout(500)
        assert _source_size(page, "co-sites") == len(sites["features"])
        legend = page.inner_text("#legend")
        assert ("党员责任岗" in legend) == (role == "street_leader")
        if role == "street_leader":
            assert f"{len(duty['features'])} 个党员责任岗" in legend
