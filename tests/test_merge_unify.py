"""多网合一, the unified layer (geo.merge.unify, POST /api/v1/merges): a hand-made case with
a known answer, and a street of the demo city merged through the API into a draft that
passes validation, keeps every household and maps every old grid through the crosswalk."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import psycopg
import pytest
import shapely

from geo.merge.unify import _fill_gaps, _joined, unify
from geo.plan.cells import locate
from geo.plan.model import PlanBuilding, PlanGrid, Rules, Scope

X0, Y0 = 109.20, 27.70
STEP = 0.0004  # about 40 m


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0 * STEP, Y0 + y0 * STEP, X0 + x1 * STEP, Y0 + y1 * STEP)


def hand_made() -> Scope:
    """A community of 10 × 5 steps with one base grid over it and three buildings of 15
    households in every column."""
    community = "520602001001"
    bound = box(0, 0, 10, 5)
    buildings = [PlanBuilding(id=i + 1, point=shapely.Point(X0 + (x + 0.5) * STEP,
                                                            Y0 + (y + 0.5) * STEP),
                              households=15, grid=1, community_code=community)
                 for i, (x, y) in enumerate((x, y) for x in range(10) for y in range(0, 5, 2))]
    old = PlanGrid(key=1, code=community + "001", name="第1网格", kind="base",
                   dedicated_type=None, community_code=community, geom=bound)
    return Scope(community, 4545, {community: bound}, [old], buildings)


def held_roles(url: str, street: str) -> list[tuple[int, str, str]]:
    """(person, role, grid code) of every current role on a street's active unified grids."""
    with psycopg.connect(url) as c:
        return c.execute(
            "SELECT r.person_id, r.role, g.code FROM role_assignments r JOIN grids g ON "
            "g.id = r.grid_id JOIN grid_layers l ON l.id = g.layer_id WHERE l.status = "
            "'active' AND l.theme = 'unified' AND g.code LIKE %s AND r.valid_from <= "
            "current_date AND (r.valid_to IS NULL OR r.valid_to >= current_date)",
            (street + "%",)).fetchall()


def test_a_hand_made_case_keeps_the_priority_grid_in_range_and_redivides_the_rest() -> None:
    """A community of 10 × 5 steps, three buildings of 15 households in every column.
    Priority layer P: a left grid (x 0–4) holding 180 households, a right grid (x 4–10)
    holding 270. Layer Q: one grid over all of it. Range 100–200: P's left grid is kept as it
    is, its right grid is divided in two of 135."""
    scope = hand_made()
    bound, buildings = scope.communities[scope.code], scope.buildings
    sources = [("P", "P1", box(0, 0, 4, 5)), ("P", "P2", box(4, 0, 10, 5)),
               ("Q", "Q1", box(-1, -1, 11, 6))]
    rules = Rules(households_min=100, households_max=200)
    result = unify(sources)(scope, rules)
    assert result.removed == {1} and len(result.created) == 3
    grids = {g.key: g for g in result.grids}
    held: dict[int, int] = {}
    for b in buildings:
        key = result.assignment[b.id]
        assert key is not None and grids[key].geom.covers(b.point)
        held[key] = held.get(key, 0) + b.households
    assert sorted(held.values()) == [135, 135, 180]
    assert sum(held.values()) == 15 * len(buildings)  # every household kept
    kept = [g for g in grids.values() if g.geom.equals_exact(box(0, 0, 4, 5), 1e-9)
            or g.geom.normalize().equals(box(0, 0, 4, 5).normalize())]
    assert len(kept) == 1 and held[kept[0].key] == 180  # P1 as it was
    union = shapely.union_all([g.geom for g in grids.values()])
    assert abs(union.area - bound.area) < 1e-12 and all(
        bound.buffer(1e-9).covers(g.geom) for g in grids.values())
    assert all(not g.locked for g in grids.values())
    assert all(g.lineage == (1,) for g in grids.values())
    assert locate(buildings, list(grids.values())) == result.assignment


def test_a_lower_layer_stands_where_the_priority_grid_cannot() -> None:
    """The same community and P, and a third layer R cutting P's right grid (270 households,
    out of range) into two of 135: R's grids stand there as they are, P's left grid too."""
    scope = hand_made()
    community = scope.code
    sources = [("P", "P1", box(0, 0, 4, 5)), ("P", "P2", box(4, 0, 10, 5)),
               ("Q", "Q1", box(-1, -1, 11, 6)),
               ("R", "R1", box(4, 0, 7, 5)), ("R", "R2", box(7, 0, 10, 5))]
    result = unify(sources)(scope, Rules(households_min=100, households_max=200))
    shapes = sorted((g.geom.bounds for g in result.grids), key=lambda b: b[0])
    expected = sorted((box(*b).bounds for b in [(0, 0, 4, 5), (4, 0, 7, 5), (7, 0, 10, 5)]),
                      key=lambda b: b[0])
    assert len(shapes) == 3 and all(
        max(abs(p - q) for p, q in zip(a, b, strict=True)) < 1e-9
        for a, b in zip(shapes, expected, strict=True))
    codes = [g.code for g in sorted(result.grids, key=lambda g: g.geom.bounds[0])]
    assert codes == [community + "001", community + "002", community + "003"]  # west → east


def _post(live_server: str, who: dict[str, str], **body: Any) -> httpx.Response:
    return httpx.post(f"{live_server}/api/v1/merges", json=body, timeout=300,
                      headers={"Authorization": who["Authorization"]})


def test_ground_no_grid_took_goes_with_its_buildings() -> None:
    """A notch of the community that no new grid covers joins the new grid it shares the
    longest edge with, and the buildings standing in it are assigned to that grid."""
    scope = hand_made()
    west = PlanGrid(key=-1, code="", name="", kind="base", dedicated_type=None,
                    community_code=scope.code, geom=box(0, 0, 4, 5))
    east = replace(west, key=-2, geom=box(4, 0, 10, 5).difference(box(8, 1, 10, 4)))
    grids, standing = _fill_gaps(scope, Rules(), [west, east])
    notch = box(8, 1, 10, 4)
    inside = {b.id for b in scope.buildings if notch.covers(b.point)}
    assert inside and standing == dict.fromkeys(inside, -2)
    assert grids[0] == west and grids[1].geom.covers(notch)


# A grid and the gap beside it, from the 100k-building bench district: they share a 97 m
# edge whose vertices lie a float's width apart, and a plain union left them two polygons.
CRACKED_GRID = ("01030000000100000007000000153E9D4C6A4D5B40C6CDAEA3EEBA3B408AEFA3094C4D5B404FD1"
                "D0385FBA3B40B48D0676344D5B404EB1959A5FBA3B4076E71B89384D5B40660B94F2E6BA3B4061"
                "9A0D11114D5B4086ED3077E5BA3B40079FB5E5164D5B40386E34DC42BB3B40153E9D4C6A4D5B40"
                "C6CDAEA3EEBA3B40")
CRACKED_GAP = ("010300000001000000050000008982092F184D5B40761E4C7757BB3B40B78E8406274D5B40BA28A3"
               "6256BB3B406A7A4C54264D5B40316AD44633BB3B40049FB5E5164D5B40C46D34DC42BB3B408982"
               "092F184D5B40761E4C7757BB3B40")


def test_a_gap_joined_along_a_cracked_edge_makes_one_polygon() -> None:
    grid, gap = shapely.from_wkb(CRACKED_GRID), shapely.from_wkb(CRACKED_GAP)
    joined = _joined(grid, gap, 4545)
    assert joined.geom_type == "Polygon"
    assert joined.area == pytest.approx(grid.area + gap.area, rel=1e-9)


def test_a_street_merged_through_the_api(live_server: str, accounts: dict[str, dict[str, str]],
                                         demo_url: str) -> None:
    planner, street = accounts["planner"], accounts["street_leader"]["scope"]
    auth = {"Authorization": planner["Authorization"]}

    def drafts() -> int:
        with psycopg.connect(demo_url) as c:
            return int(c.execute("SELECT count(*) FROM grid_layers WHERE status = 'draft'"
                                 ).fetchone()[0])  # type: ignore[index]

    before = drafts()
    assert _post(live_server, {"Authorization": ""}, scope=street, layers=["综治"]
                 ).status_code == 401
    analyst = httpx.post(f"{live_server}/api/v1/merges", json={"scope": street, "layers": [
        "综治"]}, headers={"X-API-Key": accounts["analyst"]["X-API-Key"]}, timeout=60)
    assert analyst.status_code == 403  # reading plans is not redrawing them
    bad = _post(live_server, planner, scope=street, layers=["综治", "消防"])
    assert bad.status_code == 422 and "消防" in bad.text and drafts() == before
    r = _post(live_server, planner, scope=street, layers=["综治", "城管", "应急"])
    assert r.status_code == 201, r.text
    body = r.json()
    draft = body["draft"]
    try:
        assert drafts() == before + 1 and body["errors"] == 0
        with psycopg.connect(demo_url) as c:
            households = c.execute("SELECT sum(households) FROM buildings WHERE community_code "
                                   "LIKE %s", (street + "%",)).fetchone()[0]  # type: ignore[index]
        assert body["metrics"]["draft"]["households"] == households  # nothing lost
        with psycopg.connect(demo_url) as c:  # stored counts = sums of the stored assignment
            wrong = c.execute("""
                SELECT g.code FROM grids g LEFT JOIN (
                    SELECT d.grid_id, sum(b.households) AS h, sum(b.residents) AS r
                    FROM draft_buildings d JOIN buildings b ON b.id = d.building_id
                    WHERE d.layer_id = %(d)s GROUP BY 1) s ON s.grid_id = g.id
                WHERE g.layer_id = %(d)s AND (g.households, g.residents)
                      IS DISTINCT FROM (coalesce(s.h, 0)::int, coalesce(s.r, 0)::int)""",
                              {"d": draft}).fetchall()
            counted = c.execute("SELECT count(*), sum(residents) FROM grids WHERE layer_id = %s",
                                (draft,)).fetchone()
        assert wrong == [] and counted[0] == body["metrics"]["draft"]["grids"] and counted[1] > 0
        assert body["metrics"]["draft"]["within_range"] >= 0.8
        cross = httpx.get(f"{live_server}/api/v1/merges/crosswalk", headers=auth, timeout=120,
                          params={"from": "综治", "to": f"draft:{draft}", "within": street}
                          ).json()
        shares: dict[str, float] = {}
        for row in cross["rows"]:
            shares[row["old"]] = shares.get(row["old"], 0.0) + row["area_share"]
        assert shares and all(abs(v - 1) < 1e-4 for v in shares.values())
        _check_people(live_server, accounts, demo_url, draft, street)
        audit = httpx.get(f"{live_server}/api/v1/audit", params={"action": "merge"},
                          headers={"Authorization": accounts["admin"]["Authorization"]},
                          timeout=60)
        assert audit.status_code == 200 and str(draft) in audit.text
    finally:
        httpx.delete(f"{live_server}/api/v1/drafts/{draft}", timeout=60,
                     headers={**auth, "If-Match": "*"})


def _check_people(live_server: str, accounts: dict[str, dict[str, str]], demo_url: str,
                  draft: int, street: str) -> None:
    """Every current role on the street's old unified grids is proposed once per person on
    the unified grid that took most of the old grid's households; names only for roles
    that may read people, and that read is audited."""
    url = f"{live_server}/api/v1/merges/{draft}/people"
    planner = httpx.get(url, headers={"Authorization": accounts["planner"]["Authorization"]},
                        timeout=300).json()
    leader = httpx.get(url, headers={"Authorization": accounts["street_leader"][
        "Authorization"]}, timeout=300).json()
    assert not planner["names_shown"] and all(p["name"] is None and p["person_id"] is None
                                              for p in planner["people"])
    quiet = httpx.get(url, params={"names": "false"}, timeout=300, headers={
        "Authorization": accounts["street_leader"]["Authorization"]}).json()
    assert not quiet["names_shown"] and all(p["name"] is None for p in quiet["people"])
    assert leader["names_shown"] and all(p["name"] for p in leader["people"])
    with psycopg.connect(demo_url) as c:
        codes = {r[0] for r in c.execute("SELECT code FROM grids WHERE layer_id = %s",
                                         (draft,)).fetchall()}
    held = held_roles(demo_url, street)
    people = {p["person_id"]: p for p in leader["people"]}
    assert len(people) == len(leader["people"]) == len({h[0] for h in held})
    for person_id, role, grid in held:
        duty = [d for d in people[person_id]["duties"] if d["from"] == grid and d["role"] == role]
        assert len(duty) == 1 and duty[0]["to"] in codes
    staffed = {d["to"] for p in leader["people"] for d in p["duties"]
               if d["role"].startswith("grid_worker")}
    assert {f["grid"] for f in leader["flags"] if f["problem"] == "no_grid_worker"} == \
        codes - staffed
    with psycopg.connect(demo_url) as c:
        assert c.execute("SELECT count(*) FROM audit_log WHERE action = 'read_people' AND "
                         "object_id = %s", (str(draft),)).fetchone() == (1,)
