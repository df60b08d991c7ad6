"""多网合一, the overlay report (geo.merge.overlay, /api/v1/merges/overlay): a hand-made case
with known answers, the intersection against geopandas.overlay on the demo's four layers,
and the API."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import psycopg
import pytest
import shapely

from geo.merge.crosswalk import as_csv, crosswalk
from geo.merge.overlay import Layer, compare, coverage, homes, intersect, report

SLIVER = 200.0
OWN = np.array([True])  # the one community is the area's own


def _layer(theme: str, boxes: list[tuple[float, float, float, float]], points: Any) -> Layer:
    geoms = np.array([shapely.box(*b) for b in boxes], dtype=object)
    return Layer(theme, [f"{theme}{i + 1}" for i in range(len(boxes))], geoms,
                 homes(geoms, points))


@pytest.fixture
def case() -> tuple[list[Layer], np.ndarray, np.ndarray, Any]:
    """A 100 m × 50 m community. A: left and right halves. B: one grid over all of it. C: top
    and bottom halves. D: A's halves with the boundary 0.5 m to the right (a sliver) and the
    right half 10 m beyond the community."""
    points = shapely.points([(25, 25), (75, 10), (75, 40), (49.8, 30)])
    households = np.array([10, 20, 30, 5])
    layers = [_layer("A", [(0, 0, 50, 50), (50, 0, 100, 50)], points),
              _layer("B", [(0, 0, 100, 50)], points),
              _layer("C", [(0, 0, 100, 25), (0, 25, 100, 50)], points),
              _layer("D", [(0, 0, 50.5, 50), (50.5, 0, 110, 50)], points)]
    community = np.array([shapely.box(0, 0, 100, 50)], dtype=object)
    return layers, households, community, points


def test_nested_layers_agree_and_the_whole_grid_is_split(case: Any) -> None:
    (a, b, _, _), households, _, _ = case
    got = compare(a, b, households, SLIVER)
    assert [(m["a"], m["b"], m["area_m2"], m["households"]) for m in got["matrix"]] == [
        ("A1", "B1", 2500.0, 15), ("A2", "B1", 2500.0, 50)]
    assert got["agreement"] == 1.0 and got["households_in_both"] == 65
    assert got["a_split"] == [] and got["slivers"] == []
    (split,) = got["b_split"]
    assert split["grid"] == "B1" and [p["grid"] for p in split["parts"]] == ["A1", "A2"]
    assert [p["area_share"] for p in split["parts"]] == [0.5, 0.5]
    assert sorted(p["household_share"] for p in split["parts"]) == [round(15 / 65, 4),
                                                                    round(50 / 65, 4)]


def test_crossing_layers_split_both_ways(case: Any) -> None:
    (a, _, c, _), households, _, _ = case
    got = compare(a, c, households, SLIVER)
    assert len(got["matrix"]) == 4 and {m["area_m2"] for m in got["matrix"]} == {1250.0}
    assert got["agreement"] == 0.0
    assert [s["grid"] for s in got["a_split"]] == ["A1", "A2"]
    assert [s["grid"] for s in got["b_split"]] == ["C1", "C2"]
    a2 = got["a_split"][1]["parts"]
    assert {p["grid"]: p["households"] for p in a2} == {"C1": 20, "C2": 30}


def test_a_boundary_half_a_metre_off_is_a_sliver_not_a_disagreement(case: Any) -> None:
    (a, _, _, d), households, community, _ = case
    got = compare(a, d, households, SLIVER)
    assert [(s["a"], s["b"], s["area_m2"]) for s in got["slivers"]] == [("A2", "D1", 25.0)]
    assert got["a_split"] == [] and got["agreement"] == 1.0
    # the building 0.2 m left of A's boundary is in A1 and D1: nesting, counted clean
    assert got["households_nesting"] == 65
    outside = coverage(d, community, OWN, households, SLIVER)
    assert outside["outside_communities"] == [{"grid": "D2", "area_m2": 500.0}]
    assert outside["gap_area_m2"] == 0.0 and outside["gap_households"] == 0
    gappy = Layer("E", ["E1"], np.array([shapely.box(0, 0, 60, 50)], dtype=object),
                  homes(np.array([shapely.box(0, 0, 60, 50)], dtype=object), case[3]))
    holes = coverage(gappy, community, OWN, households, SLIVER)
    assert holes["gap_area_m2"] == 2000.0 and holes["gap_households"] == 50


def test_the_report_counts_households_nesting_in_every_pair(case: Any) -> None:
    (a, b, c, d), households, community, _ = case
    got = report([a, b, d], community, OWN, households, SLIVER)
    # D2 reaches 10 m past B1 (500 m², more than a sliver): its 50 households do not nest
    assert got["agreement"] == round(15 / 65, 4) and len(got["pairs"]) == 3
    assert got["households_nesting_everywhere"] == 15
    assert report([a, b], community, OWN, households, SLIVER)["agreement"] == 1.0
    crossing = report([a, b, c], community, OWN, households, SLIVER)
    assert crossing["agreement"] == 0.0 and crossing["households"] == 65
    assert "nesting_pairs" not in crossing["pairs"][0]


@pytest.fixture(scope="module")
def demo_layers(demo_url: str) -> dict[str, gpd.GeoDataFrame]:
    with psycopg.connect(demo_url) as c:
        rows = c.execute("SELECT l.theme, g.code, ST_AsBinary(ST_Transform(g.geom, 4545)) "
                         "FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
                         "WHERE l.status = 'active' ORDER BY 1, 2").fetchall()
    out = {}
    for theme in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == theme]
        out[theme] = gpd.GeoDataFrame({"code": [r[1] for r in mine]}, geometry=shapely.from_wkb(
            [bytes(r[2]) for r in mine]), crs=4545)
    return out


def test_the_intersection_equals_geopandas_overlay(demo_layers: dict[str, gpd.GeoDataFrame]
                                                   ) -> None:
    assert len(demo_layers) == 4
    themes = sorted(demo_layers)
    for x, y in [(themes[0], themes[1]), (themes[2], themes[3]), (themes[1], themes[3])]:
        a, b = demo_layers[x], demo_layers[y]
        ours = intersect(a.geometry.to_numpy(), b.geometry.to_numpy())
        theirs = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
        theirs = theirs[theirs.area > 1.0]
        mine = {(a.code[i], b.code[j]): s for i, j, s in zip(ours.left, ours.right, ours.area,
                                                           strict=True)}
        expected = dict(zip(zip(theirs.code_1, theirs.code_2, strict=True), theirs.area,
                            strict=True))
        assert set(mine) == set(expected) and len(mine) > 100
        assert all(abs(mine[k] - expected[k]) <= 1e-6 * expected[k] for k in mine)


def _get(live_server: str, who: dict[str, str], **params: Any) -> httpx.Response:
    headers = {k: v for k, v in who.items() if k in ("Authorization", "X-API-Key")}
    return httpx.get(f"{live_server}/api/v1/merges/overlay", params=params, headers=headers,
                     timeout=120)


def test_the_overlay_report_over_http(live_server: str, accounts: dict[str, dict[str, str]],
                                      conn: psycopg.Connection) -> None:
    leader = accounts["street_leader"]
    r = _get(live_server, leader, layers="unified,综治,城管")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["within"] == leader["scope"] and body["epsg"] == 4545
    assert [p["a"] + "/" + p["b"] for p in body["pairs"]] == [
        "unified/综治", "unified/城管", "综治/城管"]
    households = conn.execute("SELECT sum(households) FROM buildings WHERE community_code "
                              "LIKE %s", (leader["scope"] + "%",)).fetchone()[0]  # type: ignore[index]
    assert body["households"] == households
    for pair in body["pairs"]:
        assert sum(m["households"] for m in pair["matrix"]) == pair["households_in_both"]
        assert 0 <= pair["agreement"] <= 1
        for split in pair["a_split"]:
            shares = [p["area_share"] for p in split["parts"]]
            assert len(shares) >= 1 and sum(shares) <= 1.0001
    # unified grids lie in their communities: nothing outside, no gap
    unified = body["layers"][0]
    assert unified["theme"] == "unified" and unified["outside_communities"] == []
    assert unified["gap_households"] == 0
    for params, word in (({"layers": "unified,消防"}, "消防"), ({"layers": "综治"}, "two"),
                         ({"layers": "综治,综治"}, "two")):
        bad = _get(live_server, leader, **params)
        assert bad.status_code == 422 and word in bad.text, bad.text
    assert _get(live_server, {}).status_code == 401
    assert _get(live_server, leader, within="520603").status_code == 404


def test_the_crosswalk_shares_sum_to_one_per_grid(case: Any) -> None:
    (a, _, _, d), households, _, _ = case
    rows = crosswalk(d, a, households)
    assert [(r["old"], r["new"], r["area_m2"]) for r in rows] == [
        ("D1", "A1", 2500.0), ("D1", "A2", 25.0), ("D2", "A2", 2475.0), ("D2", None, 500.0)]
    for grid in ("D1", "D2"):
        mine = [r for r in rows if r["old"] == grid]
        assert sum(r["area_share"] for r in mine) == pytest.approx(1.0)
        assert sum(r["household_share"] or 0 for r in mine) == pytest.approx(1.0)
    assert {r["new"]: r["households"] for r in rows if r["old"] == "D1"} == {"A1": 15, "A2": 0}
    back = crosswalk(a, d, households)  # the other way
    assert {(r["old"], r["new"]) for r in back} == {("A1", "D1"), ("A2", "D1"), ("A2", "D2")}
    text = as_csv(rows, "D", "A")
    assert text.startswith("\ufeffD网格,A网格") and "（未覆盖）" in text


def test_the_crosswalk_over_http(live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    planner = accounts["planner"]
    headers = {"Authorization": planner["Authorization"]}
    url = f"{live_server}/api/v1/merges/crosswalk"
    body = httpx.get(url, params={"from": "综治", "to": "unified"}, headers=headers,
                     timeout=120).json()
    per_old: dict[str, float] = {}
    for r in body["rows"]:
        per_old[r["old"]] = per_old.get(r["old"], 0.0) + r["area_share"]
    assert len(per_old) > 100 and all(abs(v - 1) < 1e-4 for v in per_old.values())
    back = httpx.get(url, params={"from": "unified", "to": "综治"}, headers=headers,
                     timeout=120).json()
    there = {(r["old"], r["new"]) for r in body["rows"] if r["new"]}
    assert there == {(r["new"], r["old"]) for r in back["rows"] if r["new"]}
    got = httpx.get(url, params={"from": "综治", "to": "unified", "format": "csv"},
                    headers=headers, timeout=120)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert len(got.text.strip().splitlines()) == len(body["rows"]) + 1
    bad = httpx.get(url, params={"to": "unified"}, headers=headers, timeout=60)
    assert bad.status_code == 422 and "from" in bad.text
