"""Coverage indicators (/api/v1/coverage) against counts made independently from the demo
data in Python, plus targets, flags, suppression and scope."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest

from geo import coverage
from geo.settings import Settings
from tests.conftest import volunteers_left


def _get(live_server: str, headers: dict[str, str], **params: str) -> httpx.Response:
    auth = {k: v for k, v in headers.items() if k in ("Authorization", "X-API-Key")}
    return httpx.get(f"{live_server}/api/v1/coverage", params=params, headers=auth, timeout=30)


def _current(valid_from: date, valid_to: date | None) -> bool:
    today = date.today()
    return valid_from <= today and (valid_to is None or valid_to >= today)


def independent_counts(conn: psycopg.Connection, street: str) -> dict[str, dict[str, int]]:
    """Per grid code: the counts, from plain rows counted in Python."""
    grids = {gid: code for gid, code in conn.execute(
        "SELECT g.id, g.code FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
        "WHERE l.theme = 'unified' AND l.status = 'active' AND g.community_code LIKE %s",
        (street + "%",)).fetchall()}
    out: dict[str, dict[str, int]] = defaultdict(Counter)
    building_grid = {}
    for bid, gid, households, residents in conn.execute(
            "SELECT id, grid_id, households, residents FROM buildings").fetchall():
        building_grid[bid] = gid
        if gid in grids:
            c = out[grids[gid]]
            c["buildings"] += 1
            c["households"] += households
            c["residents"] += residents
    heads, workers, volunteers = set(), defaultdict(set), defaultdict(set)
    for person, role, gid, bid, start, end in conn.execute(
            "SELECT person_id, role, grid_id, building_id, valid_from, valid_to "
            "FROM role_assignments").fetchall():
        if not _current(start, end):
            continue
        if role == "building_head":
            heads.add(bid)
        elif role in ("grid_worker_full", "grid_worker_part") and gid in grids:
            workers[grids[gid]].add(person)
        elif role == "volunteer":
            g = gid if gid is not None else building_grid.get(bid)
            if g in grids:
                volunteers[grids[g]].add(person)
    for bid, gid in building_grid.items():
        if gid in grids and bid in heads:
            out[grids[gid]]["buildings_with_head"] += 1
    for code in grids.values():
        out[code]["grid_workers"] = len(workers[code])
        out[code]["volunteers"] = len(volunteers[code])
    for status, home in conn.execute(
            "SELECT party_status, home_building_id FROM people WHERE party_status IS NOT NULL"
            ).fetchall():
        g = building_grid.get(home)
        if g in grids:
            out[grids[g]]["party_members"] += 1
            out[grids[g]]["in_service"] += status == "in_service"
    return {code: dict(out[code]) for code in grids.values()}


def test_grid_counts_and_values_match_an_independent_count(
        live_server: str, accounts: dict[str, dict[str, str]], conn: psycopg.Connection) -> None:
    street = accounts["street_leader"]["scope"]
    expected = independent_counts(conn, street)
    r = _get(live_server, accounts["admin"], level="grid", within=street)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    got = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert set(got) == set(expected) and len(got) > 5
    for code, want in expected.items():
        counts = got[code]["counts"]
        for key in ("buildings", "households", "residents", "buildings_with_head",
                    "grid_workers", "volunteers", "party_members", "in_service"):
            assert counts[key] == want.get(key, 0), (code, key)
        ind = got[code]["indicators"]
        if want.get("buildings"):
            assert ind["building_head_share"]["value"] == pytest.approx(
                want.get("buildings_with_head", 0) / want["buildings"], abs=1e-4)
            assert ind["volunteers_per_building"]["value"] == pytest.approx(
                want["volunteers"] / want["buildings"], abs=1e-4)
        assert ind["grid_worker"]["value"] == (1.0 if want["grid_workers"] else 0.0)
    assert any(f["properties"]["indicators"]["building_head_share"]["pass"] is False
               for f in body["features"]) or all(
        w.get("buildings_with_head", 0) == w.get("buildings", 0) for w in expected.values())


def test_flags_follow_targets_and_a_street_sums_its_grids(
        live_server: str, accounts: dict[str, dict[str, str]]) -> None:
    street = accounts["street_leader"]["scope"]
    grids = _get(live_server, accounts["admin"], level="grid", within=street).json()
    streets = _get(live_server, accounts["admin"], level="street", within=street).json()
    assert [f["id"] for f in streets["features"]] == [street]
    total = streets["features"][0]["properties"]["counts"]
    for key in ("buildings", "households", "volunteers", "grid_workers", "issues_open"):
        assert total[key] == sum(f["properties"]["counts"][key] for f in grids["features"])
    for f in grids["features"] + streets["features"]:
        for key, judged in f["properties"]["indicators"].items():
            ind = coverage.INDICATORS[key]
            if judged["value"] is None or judged["target"] is None:
                assert judged["pass"] is None
            elif ind.at_most:
                assert judged["pass"] == (judged["value"] <= judged["target"])
            else:
                assert judged["pass"] == (judged["value"] >= judged["target"])
    summary = grids["summary"]["grid_worker"]
    assert summary["pass"] + summary["short"] + summary["unknown"] == len(grids["features"])


def test_counts_of_people_are_suppressed_for_the_analyst(
        live_server: str, accounts: dict[str, dict[str, str]], demo_url: str) -> None:
    """A grid left with two current volunteers (the others' roles ended, then restored):
    the admin sees 2, the analyst null, and null for every indicator made from it."""
    k = Settings().k_anonymity
    with volunteers_left(demo_url, 2) as (code, _, had):
        assert had > k
        admin = _get(live_server, accounts["admin"], within=code[:12]).json()
        analyst = _get(live_server, accounts["analyst"], within=code[:12]).json()
    mine = next(f["properties"] for f in admin["features"] if f["id"] == code)
    theirs = next(f["properties"] for f in analyst["features"] if f["id"] == code)
    assert mine["counts"]["volunteers"] == 2
    assert theirs["counts"]["volunteers"] is None
    for key in ("volunteers_per_building", "volunteers_per_party_member",
                "volunteers_per_resident"):
        assert mine["indicators"][key]["value"] is not None
        assert theirs["indicators"][key] == {"value": None, "target": mine["indicators"][key][
            "target"], "pass": None}
    assert theirs["counts"]["buildings"] == mine["counts"]["buildings"]  # not people
    for key in coverage.PEOPLE:  # every count of people shown is 0 or at least k
        for f in analyst["features"]:
            n = f["properties"]["counts"].get(key)  # communities' facts: not at grid level
            assert n is None or n == 0 or n >= k


def test_scope_limits_what_each_role_sees(live_server: str,
                                          accounts: dict[str, dict[str, str]]) -> None:
    assert _get(live_server, {}).status_code == 401
    worker = accounts["grid_worker"]
    own = _get(live_server, worker).json()
    assert [f["id"] for f in own["features"]] == [worker["scope"]]
    leader = accounts["street_leader"]
    mine = _get(live_server, leader, level="community").json()
    assert mine["features"] and all(f["id"].startswith(leader["scope"])
                                    for f in mine["features"])
    outside = _get(live_server, leader, within="520603")
    assert outside.status_code == 404 and "outside your scope" in outside.text


def test_bad_parameters_say_what_is_wrong(live_server: str,
                                          accounts: dict[str, dict[str, str]]) -> None:
    r = _get(live_server, accounts["admin"], indicator="grid_worker,nope")
    assert r.status_code == 422 and "nope" in r.text
    r = _get(live_server, accounts["admin"], level="district")
    assert r.status_code == 422 and "level" in r.text


def test_a_configured_target_replaces_the_default() -> None:
    counts: dict[str, Any] = dict.fromkeys(coverage.SUMMED, 0)
    counts.update(buildings=10, volunteers=25, grids=1)
    wanted = [coverage.INDICATORS["volunteers_per_building"]]
    default = coverage.judged(counts, wanted, {}, "admin", 5)["volunteers_per_building"]
    assert default == {"value": 2.5, "target": 2.0, "pass": True}
    stricter = coverage.judged(counts, wanted, {"volunteers_per_building": 3.0}, "admin", 5)
    assert stricter["volunteers_per_building"]["pass"] is False
    untargeted = coverage.judged(counts, wanted, {"volunteers_per_building": None}, "admin", 5)
    assert untargeted["volunteers_per_building"]["pass"] is None


def test_an_unknown_indicator_in_the_settings_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown indicator.*nope"):
        Settings(coverage_targets={"nope": 1.0})
    assert Settings(coverage_targets={"grid_worker": 0.9}).coverage_targets == {
        "grid_worker": 0.9}
