"""Address search over real HTTP against the demo city."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from geo.db.queries.search import split_units
from geo.settings import Settings
from tests.conftest import serve


@pytest.fixture(scope="module")
def api(test_settings: Settings) -> Iterator[httpx.Client]:
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def address(demo_url: str) -> tuple[str, str, str]:
    """A real building: (address, compound name, number with 栋)."""
    with psycopg.connect(demo_url) as c:
        row = c.execute("SELECT b.address, c.name, substring(b.address from '([0-9]+栋)$') "
                        "FROM buildings b JOIN compounds c ON c.id = b.compound_id "
                        "WHERE b.address ~ '[^0-9]3栋$' AND length(c.name) >= 4 "
                        "ORDER BY b.id LIMIT 1").fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def search(api: httpx.Client, q: str, limit: int = 10) -> list[dict[str, Any]]:
    r = api.get("/api/v1/search", params={"q": q, "limit": limit})
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def test_units() -> None:
    assert split_units("锦江 3栋").shown == ["锦江", "3栋"]
    assert split_units("锦江花园3栋").shown == ["锦江", "江花", "花园", "3栋"]
    assert split_units("3栋 锦江花园").shown == ["3栋", "锦江", "江花", "花园"]
    assert split_units("３栋２单元").shown == ["3栋", "2单"]  # full-width digits, 元 dropped
    assert split_units("A座").shown == ["a座"]
    assert split_units("锦").shown == ["锦"]


def test_no_space_partial_and_misordered_inputs_find_the_building(
        api: httpx.Client, address: tuple[str, str, str]) -> None:
    full, compound, number = address
    for q in (compound + number, f"{number} {compound}", f"{compound[:2]} {number}",
              f"{compound[2:]}{number}"):
        labels = [r["label"] for r in search(api, q, limit=50)]
        assert full in labels, q
    assert search(api, compound + number)[0]["label"] == full


def test_exact_address_ranks_first(api: httpx.Client, address: tuple[str, str, str]) -> None:
    full, compound, _ = address
    results = search(api, full)
    assert results[0]["label"] == full and results[0]["type"] == "building"
    assert results[0]["score"] == 1.0
    assert all(r["score"] <= 1.0 for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    top = search(api, compound)[0]
    assert top["type"] == "compound" and top["label"] == compound  # the shortest full match


def test_results_carry_community_and_coordinates(api: httpx.Client,
                                                 address: tuple[str, str, str]) -> None:
    for r in search(api, address[0], limit=5):
        assert re.fullmatch(r"520602\d{6}", r["community"]["code"]) and r["community"]["name"]
        assert 109.0 < r["lon"] < 109.4 and 27.6 < r["lat"] < 27.9
    centres = search(api, "党群服务中心", limit=5)
    assert centres and all(r["type"] == "facility" for r in centres)


def test_three_dong_does_not_match_thirteen_dong(api: httpx.Client, demo_url: str) -> None:
    with psycopg.connect(demo_url, autocommit=True) as c:
        cid = c.execute("INSERT INTO compounds (name, community_code) VALUES ('测试花园', "
                        "'520602001001') RETURNING id").fetchone()[0]  # type: ignore[index]
        for n in ("3", "13", "23"):
            c.execute("INSERT INTO buildings (address, compound_id, community_code, geom) VALUES "
                      "(%s, %s, '520602001001', ST_SetSRID(ST_MakePoint(109.2, 27.73), 4326))",
                      (f"测试路1号测试花园{n}栋", cid))
    try:
        results = search(api, "测试花园 3栋")
        assert results[0]["label"] == "测试路1号测试花园3栋" and results[0]["score"] == 1.0
        others = {r["label"]: r["score"] for r in results[1:]}
        assert others["测试路1号测试花园13栋"] < 1.0 and others["测试路1号测试花园23栋"] < 1.0
        buildings = [r for r in search(api, "3号", limit=50) if r["type"] == "building"]
        assert buildings
        for r in buildings:
            assert re.search(r"(^|[^0-9])3号", r["label"]), r  # never 13号 or 213号
    finally:
        with psycopg.connect(demo_url, autocommit=True) as c:
            c.execute("DELETE FROM buildings WHERE compound_id = %s", (cid,))
            c.execute("DELETE FROM compounds WHERE id = %s", (cid,))


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "   "}, {"q": "锦" * 65}, {"q": "!!?"},
                                    {"q": "锦江", "limit": "0"}, {}])
def test_bad_queries_are_422(api: httpx.Client, params: dict[str, str]) -> None:
    r = api.get("/api/v1/search", params=params)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "q" in detail or "limit" in detail
