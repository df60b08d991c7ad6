"""待办民情 on /dashboard in Debian's headless Chromium: a grid worker signs in, sees the open
issues of their grid in deadline order (as the API lists them), opens one, reads the
reporter's phone (asked for, audited) and starts it; a community worker routes a report left
near a grid edge to the grid they choose."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.browser import chromium
from tests.test_dashboard_page import _signed_in
from tests.test_issues_api import Accounts, auth, deep_inside, grid_geoms, near_edge

pytestmark = pytest.mark.browser


def _report(live_server: str, accounts: Accounts, role: str, point: list[float]) -> int:
    r = httpx.post(f"{live_server}/api/v1/issues", headers=auth(accounts, role), json={
        "category": "治安", "description": "单元门禁损坏", "channel": "grid_worker",
        "kind": "immediate", "reporter_phone": "13600007777",
        "geometry": {"type": "Point", "coordinates": point}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _status(demo_url: str, oid: int) -> tuple[str, str | None]:
    with psycopg.connect(demo_url, autocommit=True) as db:
        row = db.execute("SELECT i.status, g.code FROM resident_issues i LEFT JOIN grids g "
                         "ON g.id = i.grid_id WHERE i.id = %s", (oid,)).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.parametrize("role", ["grid_worker", "community_worker"])
def test_the_queue_on_the_dashboard(live_server: str, accounts: Accounts, demo_url: str,
                                    role: str) -> None:
    grid = accounts["grid_worker"]["scope"]
    with psycopg.connect(demo_url, autocommit=True) as db:
        geoms = grid_geoms(db, grid[:12])
    point, neighbour = near_edge(geoms, grid)
    if role == "grid_worker":
        oid = _report(live_server, accounts, role, deep_inside(geoms[grid]))
        action, expect = "start", ("in_progress", grid)
    else:
        oid = _report(live_server, accounts, role, point)
        assert _status(demo_url, oid)[0] == "received"
        action, expect = "assign", ("assigned", neighbour)
    api = httpx.get(f"{live_server}/api/v1/issues/queue", headers=auth(accounts, role)).json()
    with chromium({"width": 1400, "height": 900}, locale="zh-CN") as ctx:
        page = _signed_in(ctx, live_server, accounts[role])
        page.wait_for_selector("#queue-list", timeout=60_000)
        page.wait_for_function("() => !document.body.dataset.busy", timeout=60_000)
        shown = page.eval_on_selector_all("#queue-list button",
                                          "bs => bs.map(b => Number(b.dataset.id))")
        assert shown == [f["id"] for f in api["features"]]
        assert f"（{len(shown)} 件" in page.inner_text("#queue h3")
        page.click(f"#queue-list button[data-id='{oid}']")
        assert "13600007777" not in page.content()  # personal data only when asked for
        page.click("#queue-detail button.contact")
        page.wait_for_selector("#queue-detail .who", timeout=10_000)
        assert "13600007777" in page.inner_text("#queue-detail .who")
        if action == "assign":
            page.select_option("#queue-detail select[name=grid]", neighbour)
        page.click(f"#queue-detail button[data-action={action}]")
        page.wait_for_function("() => !document.body.dataset.busy", timeout=30_000)
        assert "失败" not in page.inner_text("#status")
    assert _status(demo_url, oid) == expect
    with psycopg.connect(demo_url, autocommit=True) as db:
        assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'read' AND "
                          "object_type = 'issues' AND object_id = %s AND actor = %s",
                          (str(oid), accounts[role]["username"])).fetchone() == (1,)
