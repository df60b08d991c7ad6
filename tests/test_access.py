"""Role × endpoint × in-scope/out-of-scope: every role sees exactly what it may (DESIGN §6)."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

ROLES = ["anonymous", "admin", "planner", "street_leader", "community_worker", "grid_worker",
         "analyst"]


def headers(accounts: dict[str, dict[str, str]], role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    return {k: v for k, v in accounts[role].items() if k in ("Authorization", "X-API-Key")}


@pytest.fixture(scope="module")
def http(live_server: str) -> httpx.Client:
    return httpx.Client(base_url=live_server, timeout=30)


@pytest.fixture(scope="module")
def objects(demo_url: str, accounts: dict[str, Any]) -> dict[str, dict[str, int]]:
    """For each resource, one object inside the grid worker's grid and one in another street."""
    grid = accounts["grid_worker"]["scope"]
    q = {
        "people": "SELECT p.id FROM people p JOIN buildings b ON b.id = p.home_building_id "
                  "JOIN grids g ON g.id = b.grid_id WHERE {} ORDER BY p.id LIMIT 1",
        "roles": "SELECT r.id FROM role_assignments r JOIN grids g ON g.id = r.grid_id "
                 "WHERE {} ORDER BY r.id LIMIT 1",
        "issues": "SELECT i.id FROM resident_issues i JOIN grids g ON g.id = i.grid_id "
                  "WHERE {} ORDER BY i.id LIMIT 1",
        "buildings": "SELECT b.id FROM buildings b JOIN grids g ON g.id = b.grid_id "
                     "WHERE {} ORDER BY b.id LIMIT 1",
        "party-orgs": "SELECT o.id FROM party_orgs o JOIN grids g ON g.id = o.grid_id "
                      "WHERE {} ORDER BY o.id LIMIT 1",
    }
    out: dict[str, dict[str, int]] = {}
    with psycopg.connect(demo_url) as c:
        for name, sql in q.items():
            inside = c.execute(sql.format("g.code = %s"), (grid,)).fetchone()
            outside = c.execute(sql.format("g.code NOT LIKE %s"), (grid[:9] + "%",)).fetchone()
            assert inside and outside, name
            out[name] = {"in": inside[0], "out": outside[0]}
    return out


# expected status for: list, in-scope object, out-of-scope object
READ = {
    "people": {"anonymous": (401, 401, 401), "admin": (200, 200, 200), "planner": (403, 403, 403),
               "street_leader": (200, 200, 404), "community_worker": (200, 200, 404),
               "grid_worker": (200, 200, 404), "analyst": (403, 403, 403)},
    "issues": {"anonymous": (401, 401, 401), "admin": (200, 200, 200), "planner": (200, 200, 200),
               "street_leader": (200, 200, 404), "community_worker": (200, 200, 404),
               "grid_worker": (200, 200, 404), "analyst": (200, 200, 200)},
    "buildings": {r: (200, 200, 200) for r in ROLES},
    "party-orgs": {r: (200, 200, 200) for r in ROLES},
}
READ["roles"] = READ["people"]


@pytest.mark.parametrize("resource", ["people", "roles", "issues", "buildings", "party-orgs"])
@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(http: httpx.Client, accounts: dict[str, Any], objects: dict[str, Any],
                     resource: str, role: str) -> None:
    h = headers(accounts, role)
    want = READ[resource][role]
    got = (http.get(f"/api/v1/{resource}", params={"limit": 5}, headers=h).status_code,
           http.get(f"/api/v1/{resource}/{objects[resource]['in']}", headers=h).status_code,
           http.get(f"/api/v1/{resource}/{objects[resource]['out']}", headers=h).status_code)
    assert got == want


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_only_what_is_in_scope(http: httpx.Client, accounts: dict[str, Any],
                                          role: str) -> None:
    r = http.get("/api/v1/issues", params={"limit": 200}, headers=headers(accounts, role))
    if r.status_code != 200:
        return
    scope = accounts.get(role, {}).get("scope", "")
    codes = [f["properties"]["grid_code"] or f["properties"]["community_code"]
             for f in r.json()["features"]]
    assert codes and all(c.startswith(scope) for c in codes)


PERSONAL = {"admin", "street_leader", "community_worker", "grid_worker"}


@pytest.mark.parametrize("role", ROLES)
def test_personal_fields_only_for_personal_roles(http: httpx.Client, accounts: dict[str, Any],
                                                 objects: dict[str, Any], role: str) -> None:
    h = headers(accounts, role)
    org = http.get(f"/api/v1/party-orgs/{objects['party-orgs']['in']}", headers=h).json()
    assert ("secretary_person_id" in org) == (role in PERSONAL)
    issue = http.get(f"/api/v1/issues/{objects['issues']['in']}", headers=h)
    if issue.status_code == 200:
        props = issue.json()["properties"]
        assert ("reporter_phone" in props) == (role in PERSONAL)


WRITE_BUILDING = {"anonymous": (401, 401), "admin": (200, 200), "planner": (200, 200),
                  "street_leader": (403, 403), "community_worker": (200, 404),
                  "grid_worker": (200, 404), "analyst": (403, 403)}
WRITE_PERSON = {"anonymous": (401, 401), "admin": (200, 200), "planner": (403, 403),
                "street_leader": (200, 404), "community_worker": (200, 404),
                "grid_worker": (200, 404), "analyst": (403, 403)}


@pytest.mark.parametrize("role", ROLES)
def test_write_matrix(http: httpx.Client, accounts: dict[str, Any], objects: dict[str, Any],
                      demo_url: str, role: str) -> None:
    h = headers(accounts, role)
    for resource, body, want in (("buildings", {"floors": 7}, WRITE_BUILDING[role]),
                                 ("people", {"home_unit": "1单元101"}, WRITE_PERSON[role])):
        got = tuple(http.patch(f"/api/v1/{resource}/{objects[resource][side]}", json=body,
                               headers=h).status_code for side in ("in", "out"))
        assert got == want, resource


def test_a_write_may_not_move_an_object_out_of_scope(http: httpx.Client, accounts: dict[str, Any],
                                                     objects: dict[str, Any],
                                                     demo_url: str) -> None:
    h = headers(accounts, "grid_worker")
    pid = objects["people"]["in"]
    before = http.get(f"/api/v1/people/{pid}", headers=h).json()["home_building_id"]
    r = http.patch(f"/api/v1/people/{pid}", json={"home_building_id": objects["buildings"]["out"]},
                   headers=h)
    assert r.status_code == 403 and "outside your scope" in r.json()["detail"]
    assert http.get(f"/api/v1/people/{pid}", headers=h).json()["home_building_id"] == before


def test_create_inside_and_outside_scope(http: httpx.Client, accounts: dict[str, Any],
                                         demo_url: str) -> None:
    h = headers(accounts, "community_worker")
    community = accounts["community_worker"]["scope"]
    with psycopg.connect(demo_url) as c:
        inside = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM "
                           "areas WHERE code = %s) s", (community,)).fetchone()
        outside = c.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM "
                            "areas WHERE level = 'community' AND code <> %s AND code NOT LIKE "
                            "%s ORDER BY code LIMIT 1) s", (community, community[:9] + "%")
                            ).fetchone()
        before = c.execute("SELECT count(*) FROM facilities").fetchone()
    assert inside and outside and before
    body = {"category": "药店", "name": "测试大药房", "geometry": {"type": "Point",
                                                          "coordinates": list(inside)}}
    ok = http.post("/api/v1/facilities", json=body, headers=h)
    assert ok.status_code == 201, ok.text
    feat = ok.json()
    assert feat["properties"]["community_code"] == community
    assert feat["properties"]["category"] == "pharmacy"
    body["geometry"]["coordinates"] = list(outside)  # type: ignore[index]
    refused = http.post("/api/v1/facilities", json=body, headers=h)
    assert refused.status_code == 403
    assert http.delete(f"/api/v1/facilities/{feat['id']}", headers=h).status_code == 204
    with psycopg.connect(demo_url) as c:
        assert c.execute("SELECT count(*) FROM facilities").fetchone() == before


def test_bad_bodies_say_what_is_wrong(http: httpx.Client, accounts: dict[str, Any]) -> None:
    h = headers(accounts, "admin")
    r = http.post("/api/v1/facilities", json={"category": "赌场", "name": "x", "geometry": {
        "type": "Point", "coordinates": [109.2, 27.73]}}, headers=h)
    assert r.status_code == 422 and "category" in r.json()["detail"]
    r = http.post("/api/v1/facilities", json={"category": "药店", "name": "x", "geometry": {
        "type": "Point", "coordinates": [27.73, 109.2]}}, headers=h)
    assert r.status_code == 422 and "outside China" in r.json()["detail"]
    r = http.post("/api/v1/people", json={"name": "某", "colour": "red"}, headers=h)
    assert r.status_code == 422 and "colour" in r.json()["detail"]
    r = http.post("/api/v1/roles", json={"person_id": 999999999, "role": "volunteer",
                                         "area_code": "520602"}, headers=h)
    assert r.status_code == 422 and "999999999" in r.json()["detail"]


def test_paging_follows_next_links(http: httpx.Client, accounts: dict[str, Any]) -> None:
    h = headers(accounts, "street_leader")
    first = http.get("/api/v1/people", params={"limit": 50}, headers=h).json()
    assert first["numberReturned"] == 50 and first["numberMatched"] > 50
    seen = [p["id"] for p in first["items"]]
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = http.get(nxt, headers=h).json()
    ids = [p["id"] for p in second["items"]]
    assert ids and min(ids) > max(seen)
