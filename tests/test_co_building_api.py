"""共建共治 records over HTTP on the demo city: each resource lists, reads, creates, changes
and deletes with the access rules (organisations public, who did what for staff, duty posts
only for roles that may see party members); every write is audited."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.test_issues_api import Accounts, auth

PUBLIC = ["units", "unit-registrations", "service-posts", "projects", "honours", "alliances",
          "alliance-members"]


@pytest.mark.parametrize("resource", PUBLIC)
def test_organisations_are_public_and_in_scope_for_staff(live_server: str, accounts: Accounts,
                                                         resource: str) -> None:
    anon = httpx.get(f"{live_server}/api/v1/{resource}", params={"limit": 3})
    assert anon.status_code == 200, anon.text
    body = anon.json()
    items = body.get("features", body.get("items"))
    assert items, f"the demo city has {resource}"
    worker = httpx.get(f"{live_server}/api/v1/{resource}", params={"limit": 50},
                       headers=auth(accounts, "community_worker"))
    assert worker.status_code == 200


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("planner", 403), ("analyst", 403),
                                              ("street_leader", 200), ("grid_worker", 200)])
def test_duty_posts_and_records_name_party_members(live_server: str, accounts: Accounts,
                                                   role: str | None, status: int) -> None:
    headers = auth(accounts, role) if role else {}
    for resource in ("duty-posts", "duty-records"):
        r = httpx.get(f"{live_server}/api/v1/{resource}", params={"limit": 5}, headers=headers)
        assert r.status_code == status, (resource, r.text)
    honour = httpx.get(f"{live_server}/api/v1/honours", params={"kind": "model_household",
                                                                "limit": 5}, headers=headers)
    assert honour.status_code == 200
    shown = honour.json()["items"]
    assert shown and all(("person_id" in h) == (status == 200) for h in shown)


def test_a_community_worker_records_a_post_claim_and_duty(live_server: str, accounts: Accounts,
                                                          demo_url: str) -> None:
    worker = auth(accounts, "community_worker")
    community = accounts["community_worker"]["scope"]

    def post(resource: str, body: dict[str, Any], who: dict[str, str] = worker) -> httpx.Response:
        return httpx.post(f"{live_server}/api/v1/{resource}", headers=who, json=body)

    made = post("service-posts", {"community_code": community, "name": "楼道清洁", "slots": 2})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    with psycopg.connect(demo_url, autocommit=True) as db:
        unit = db.execute("SELECT unit_id FROM unit_registrations WHERE community_code = %s "
                          "ORDER BY unit_id LIMIT 1", (community,)).fetchone()
        seat = db.execute("SELECT id FROM role_assignments WHERE role = 'committee_member' "
                          "AND area_code = %s ORDER BY id LIMIT 1", (community,)).fetchone()
    assert unit is not None
    claim = post("claims", {"post_id": pid, "unit_id": unit[0], "claimed_on": "2026-11-01"})
    assert claim.status_code == 201, claim.text
    got = httpx.get(f"{live_server}/api/v1/service-posts/{pid}").json()
    assert (got["claimed"], got["slots"]) == (1, 2)
    assert post("claims", {"post_id": pid, "project_id": 1, "unit_id": unit[0]}).status_code \
        == 422  # a claim is of a post or of a project
    assert post("service-posts", {"community_code": community, "name": "x", "slots": 0}
                ).status_code == 422
    other = "520602002001"  # another street's community
    assert post("service-posts", {"community_code": other, "name": "越界"}).status_code == 403
    assert post("service-posts", {"community_code": community, "name": "y"},
                auth(accounts, "grid_worker")).status_code == 403
    if seat is not None:
        rec = post("duty-records", {"seat_id": seat[0], "quarter": "2026Q4", "meetings": 1,
                                    "projects_led": 1, "matters": 3})
        assert rec.status_code == 201, rec.text
        assert post("duty-records", {"seat_id": seat[0], "quarter": "2026-4"}).status_code == 422
    assert httpx.delete(f"{live_server}/api/v1/service-posts/{pid}",
                        headers=worker).status_code == 204
    with psycopg.connect(demo_url, autocommit=True) as db:
        assert db.execute("SELECT count(*) FROM claims WHERE post_id = %s", (pid,)).fetchone() \
            == (0,)  # its claims went with it
        actions = [r[0] for r in db.execute(
            "SELECT action FROM audit_log WHERE object_type = 'service_posts' AND object_id = %s "
            "ORDER BY id", (str(pid),))]
    assert actions == ["create", "delete"]


def test_member_registrations_are_suppressed_for_small_groups(live_server: str,
                                                              accounts: Accounts) -> None:
    body = httpx.get(f"{live_server}/api/v1/coverage", headers=auth(accounts, "analyst"),
                     params={"level": "community", "within": "520602"}).json()
    counts = [f["properties"]["counts"]["member_registrations"] for f in body["features"]]
    assert counts and all(c is None or c == 0 or c >= 5 for c in counts)


def test_a_sites_hours_are_read_and_its_off_hours_follow(live_server: str, accounts: Accounts,
                                                         demo_url: str) -> None:
    worker = auth(accounts, "street_leader")
    with psycopg.connect(demo_url, autocommit=True) as db:
        site = db.execute("SELECT id, opening_hours, off_hours_service, community_code FROM "
                          "facilities WHERE category = 'party_service_center' AND community_code "
                          "LIKE %s ORDER BY id LIMIT 1",
                          (accounts["street_leader"]["scope"] + "%",)).fetchone()
    assert site is not None
    community = site[3]
    url = f"{live_server}/api/v1/facilities/{site[0]}"
    try:
        r = httpx.patch(url, headers=worker, json={"opening_hours": "周一至周五 8:30-17:30"})
        assert r.status_code == 200, r.text
        props = r.json()["properties"]
        assert (props["opening_hours"], props["off_hours_service"]) == ("Mo-Fr 08:30-17:30",
                                                                       False)
        r = httpx.patch(url, headers=worker, json={
            "opening_hours": "周一至周五 8:30-17:30；工作日 18:00-21:00", "off_hours_service": False})
        assert r.json()["properties"]["off_hours_service"] is True  # the hours say so
        bad = httpx.patch(url, headers=worker, json={"opening_hours": "看心情"})
        assert bad.status_code == 422 and "body.opening_hours" in bad.text
        # hours stored in Chinese by an older import still count, and never break coverage
        with psycopg.connect(demo_url, autocommit=True) as db:
            db.execute("UPDATE facilities SET opening_hours = '周六 9:00-12:00' WHERE id = %s",
                       (site[0],))
        cov = httpx.get(f"{live_server}/api/v1/coverage", headers=worker,
                        params={"level": "community", "within": community,
                                "indicator": "site_off_hours"})
        assert cov.status_code == 200, cov.text
        assert cov.json()["features"][0]["properties"]["counts"]["sites_off_hours"] == 1
    finally:
        with psycopg.connect(demo_url, autocommit=True) as db:
            db.execute("UPDATE facilities SET opening_hours = %s, off_hours_service = %s "
                       "WHERE id = %s", (site[1], site[2], site[0]))
