"""The resident page /report in Debian's headless Chromium, phone-sized: a resident taps the
map, picks a category, writes, attaches a phone's photo (shrunk on the page) and submits;
follows the issue by its code; once staff have resolved it and published the answer, reads
the answer and rates it."""

from __future__ import annotations

import io

import httpx
import numpy as np
import psycopg
import pytest
from PIL import Image

from tests.browser import chromium
from tests.test_issues_api import Accounts, auth, deep_inside, grid_geoms

pytestmark = pytest.mark.browser


def test_a_resident_reports_on_the_page_and_follows_it(
        live_server: str, accounts: Accounts, demo_url: str, tmp_path: object) -> None:
    grid = accounts["grid_worker"]["scope"]
    with psycopg.connect(demo_url, autocommit=True) as db:
        lon, lat = deep_inside(grid_geoms(db, grid[:12])[grid])
    # a phone's photo: over the server's 4 MB limit, so it only goes through shrunk on the page
    noise = np.random.default_rng(7).integers(0, 256, (2600, 3400, 3), dtype=np.uint8)
    jpeg = io.BytesIO()
    Image.fromarray(noise).save(jpeg, "JPEG", quality=95)
    assert len(jpeg.getvalue()) > 4096 * 1024
    with chromium({"width": 412, "height": 915}, locale="zh-CN") as ctx:
        page = ctx.new_page()
        page.goto(f"{live_server}/report")
        page.wait_for_selector("body[data-ready]", timeout=20000)
        page.evaluate("([lon, lat]) => gridgovReport.map.jumpTo({center: [lon, lat], zoom: 16})",
                      [lon, lat])
        box = page.locator("#map").bounding_box()
        assert box is not None
        at = page.evaluate("([lon, lat]) => gridgovReport.map.project([lon, lat])", [lon, lat])
        page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
        page.wait_for_selector("#place.chosen", timeout=10000)
        assert "第" in page.inner_text("#place")

        page.click("#submit")  # no text yet: refused on the page, nothing sent
        assert "请写几句话" in page.inner_text("#status")
        page.select_option("#category", "设施维修")
        page.fill("#description", "小区东门路灯不亮，晚上出行不便")
        page.set_input_files("#photos", files=[{"name": "lamp.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg.getvalue()}])
        page.fill("#reporter_phone", "13700005555")
        page.click("#submit")
        page.wait_for_selector("body[data-receipt]", timeout=10000)
        code = page.get_attribute("body", "data-receipt")
        assert code and page.inner_text("#receipt-code") == code

        with psycopg.connect(demo_url, autocommit=True) as db:
            row = db.execute(
                "SELECT i.id, i.category, g.code, i.reporter_phone, i.status, "
                "(SELECT max(greatest(p.width, p.height)) FROM issue_photos p "
                "WHERE p.issue_id = i.id) "
                "FROM resident_issues i JOIN grids g ON g.id = i.grid_id "
                "WHERE i.receipt_code = %s", (code,)).fetchone()
        assert row is not None
        oid = row[0]
        assert row[1:] == ("设施维修", grid, "13700005555", "assigned", 2048)

        page.click("#follow-new")
        page.wait_for_selector("body[data-progress=assigned]", timeout=10000)
        assert page.inner_text("#progress-status") == "已分派"
        assert "13700005555" not in page.content()

        worker = auth(accounts, "community_worker")
        for body in ({"action": "start"}, {"action": "resolve", "note": "更换灯泡"},
                     {"action": "publish", "feedback": "东门路灯已更换，恢复照明。"}):
            r = httpx.post(f"{live_server}/api/v1/issues/{oid}/actions", headers=worker,
                           json=body)
            assert r.status_code == 200, r.text

        page.goto(f"{live_server}/report?code={code}")
        page.wait_for_selector("body[data-progress=feedback_published]", timeout=10000)
        text = page.inner_text("#progress")
        assert "东门路灯已更换，恢复照明。" in text and "开始办理" in text and "办结" in text
        page.click(".stars button[data-stars='5']")
        page.wait_for_selector(".stars button[data-stars='5'][aria-pressed=true]", timeout=10000)
        page.screenshot(path=f"{tmp_path}/report.png", full_page=True)
    with psycopg.connect(demo_url, autocommit=True) as db:
        assert db.execute("SELECT satisfaction FROM resident_issues WHERE id = %s",
                          (oid,)).fetchone() == (5,)
