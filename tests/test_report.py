"""The street report (/api/v1/reports/street/{code} and `gridgov report street`): the HTML
names no external resource and renders its map in Chromium with the network cut off; the CSV
and XLSX hold the same numbers as /api/v1/coverage; scope and bad codes."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import Route

from tests.browser import chromium
from tests.conftest import ROOT

URL = re.compile(r"https?://[^\s\"'<>)]+")
NAMESPACES = ("http://www.w3.org/",)
LEAFLET_JS = ROOT / "web" / "node_modules" / "leaflet" / "dist" / "leaflet.js"


def _auth(who: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in who.items() if k in ("Authorization", "X-API-Key")}


def _report(live_server: str, who: dict[str, str], code: str, fmt: str = "html") -> httpx.Response:
    return httpx.get(f"{live_server}/api/v1/reports/street/{code}", params={"format": fmt},
                     headers=_auth(who), timeout=60)


def external_urls(html: str) -> list[str]:
    """Addresses the file names: in src/href attributes, CSS url() or @import, and any other
    http(s) address except XML namespaces. Leaflet's own code (npm's leaflet.js, inlined as
    it ships) is left out of the scan: its one address is the link of its attribution
    control, which the report does not show."""
    leaflet = LEAFLET_JS.read_text(encoding="utf-8")
    assert leaflet in html
    own = html.replace(leaflet, "")
    loads = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)[^"' >]*""", own, re.I)
    loads += re.findall(r"""url\(\s*["']?(?:https?:|//)[^)]*|@import[^;]*""", own, re.I)
    others = [u for u in URL.findall(own) if not u.startswith(NAMESPACES)]
    return loads + others


def test_the_report_is_self_contained_and_renders_offline(
        live_server: str, accounts: dict[str, dict[str, str]], tmp_path: Path) -> None:
    street = accounts["street_leader"]["scope"]
    r = _report(live_server, accounts["street_leader"], street)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert f"street-report-{street}.html" in r.headers["content-disposition"]
    html = r.text
    assert "网格工作报告" in html and "未达标网格" in html
    assert external_urls(html) == []
    grids = httpx.get(f"{live_server}/api/v1/coverage", params={"within": street},
                      headers=_auth(accounts["street_leader"])).json()["features"]
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    with chromium({"width": 1200, "height": 900}) as ctx:
        page = ctx.new_page()
        reached: list[str] = []

        def cut_off(route: Route) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:", "about:")):
                route.continue_()
            else:
                reached.append(url)
                route.abort()

        page.route("**/*", cut_off)
        page.goto(path.as_uri())
        page.wait_for_selector("path.leaflet-interactive", timeout=30_000)
        shown = page.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
        page.screenshot(path=str(tmp_path / "report.png"))
    assert reached == []
    assert shown == sum(1 for g in grids if g["geometry"])  # one indicator layer is shown


def test_csv_and_xlsx_hold_the_coverage_numbers(
        live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    street = leader["scope"]
    coverage = httpx.get(f"{live_server}/api/v1/coverage", params={"within": street},
                         headers=_auth(leader)).json()
    by_code = {f["properties"]["code"]: f["properties"] for f in coverage["features"]}
    name = coverage["indicators"]["building_head_share"]["name_zh"]
    r = _report(live_server, leader, street, "csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype={"网格编码": str})
    assert sorted(table["网格编码"]) == sorted(by_code)
    for _, row in table.iterrows():
        judged = by_code[row["网格编码"]]["indicators"]["building_head_share"]
        assert row[name] == pytest.approx(judged["value"])
        assert row[f"{name}·达标"] == ("达标" if judged["pass"] else "未达标")
        assert row["计数:households"] == by_code[row["网格编码"]]["counts"]["households"]
    r = _report(live_server, leader, street, "xlsx")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames == ["网格", "汇总"]
    assert book["网格"].max_row == len(by_code) + 1
    assert book["汇总"].max_row == len(coverage["summary"]) + 1


def test_scope_and_bad_codes(live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    leader = accounts["street_leader"]
    other = "520602002" if leader["scope"] != "520602002" else "520602001"
    assert _report(live_server, leader, other).status_code == 404
    assert _report(live_server, accounts["admin"], "520602999").status_code == 404
    r = _report(live_server, accounts["admin"], "5206")
    assert r.status_code == 404 and "street code" in r.json()["detail"]
    assert _report(live_server, accounts["admin"], leader["scope"], "pdf").status_code == 422
    assert httpx.get(f"{live_server}/api/v1/reports/street/{leader['scope']}").status_code == 401


def test_the_command_line_writes_three_files(demo_url: str, tmp_path: Path,
                                             accounts: dict[str, dict[str, str]]) -> None:
    street = accounts["street_leader"]["scope"]
    env = {**os.environ, "GRIDGOV_DATABASE_URL": demo_url}
    cli = [str(Path(sys.executable).parent / "gridgov")]
    done = subprocess.run([*cli, "report", "street", street, "-o", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"street-report-{street}.{s}" for s in ("csv", "html", "xlsx")]
    assert external_urls((tmp_path / files[1]).read_text(encoding="utf-8")) == []
    bad = subprocess.run([*cli, "report", "street", "520602999", "-o", str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "street 520602999 does not exist" in bad.stderr
    assert "Traceback" not in bad.stderr
