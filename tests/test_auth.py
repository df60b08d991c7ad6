"""Sign-in, tokens, API keys, the audit log, masking and k-suppression."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from geo.auth import User, issue_token, secret_key
from geo.privacy import mask_phone, suppress
from geo.settings import Settings
from tests.conftest import ACCOUNT_PASSWORD
from tests.test_access import headers

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))


@pytest.fixture(scope="module")
def http(live_server: str) -> httpx.Client:
    return httpx.Client(base_url=live_server, timeout=30)


def test_wrong_password_is_401_and_audited(http: httpx.Client, demo_url: str,
                                           accounts: dict[str, Any]) -> None:
    r = http.post("/api/v1/auth/token", data={"username": "t_admin", "password": "nope nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    with psycopg.connect(demo_url) as c:
        assert c.execute("SELECT count(*) FROM audit_log WHERE action = 'login.failed' AND "
                         "actor = 't_admin'").fetchone()[0] >= 1  # type: ignore[index]


def test_expired_and_forged_tokens_are_refused(http: httpx.Client, test_settings: Settings,
                                               accounts: dict[str, Any]) -> None:
    user = User(1, "t_admin", "admin", None)
    old, _ = issue_token(user, secret_key(test_settings), minutes=-1)
    r = http.get("/api/v1/people", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    forged, _ = issue_token(user, "not the server's key, but long enough for HS256", minutes=5)
    assert http.get("/api/v1/people",
                    headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_me_and_api_keys(http: httpx.Client, accounts: dict[str, Any]) -> None:
    me = http.get("/api/v1/auth/me", headers=headers(accounts, "analyst")).json()
    assert me == {"username": "t_analyst", "role": "analyst", "scope": "520602"}
    token = headers(accounts, "community_worker")
    made = http.post("/api/v1/auth/api-keys", json={"name": "tmp"}, headers=token).json()
    key = {"X-API-Key": made["key"]}
    assert http.get("/api/v1/auth/me", headers=key).json()["username"] == "t_community_worker"
    assert http.delete(f"/api/v1/auth/api-keys/{made['prefix']}",
                       headers=token).status_code == 204
    assert http.get("/api/v1/auth/me", headers=key).status_code == 401
    assert http.get("/api/v1/auth/me", headers={"X-API-Key": "gg_junk"}).status_code == 401


def test_reads_of_personal_data_and_writes_are_audited(http: httpx.Client, demo_url: str,
                                                        accounts: dict[str, Any]) -> None:
    h = headers(accounts, "street_leader")
    person = http.get("/api/v1/people", params={"limit": 1}, headers=h).json()["items"][0]
    http.get(f"/api/v1/people/{person['id']}", headers=h).raise_for_status()
    http.patch(f"/api/v1/people/{person['id']}", json={"home_unit": "2单元202"},
               headers=h).raise_for_status()
    with psycopg.connect(demo_url) as c:
        rows = c.execute("SELECT action, client FROM audit_log WHERE actor = 't_street_leader' "
                         "AND object_type = 'people' AND object_id = %s ORDER BY id",
                         (str(person["id"]),)).fetchall()
    assert ("read", "127.0.0.1") in rows and ("update", "127.0.0.1") in rows


def test_audit_endpoint_is_for_admins_only(http: httpx.Client, accounts: dict[str, Any]) -> None:
    assert http.get("/api/v1/audit").status_code == 401
    for role in ("planner", "street_leader", "analyst", "grid_worker"):
        assert http.get("/api/v1/audit", headers=headers(accounts, role)).status_code == 403
    r = http.get("/api/v1/audit", params={"action": "login", "limit": 2},
                 headers=headers(accounts, "admin"))
    assert r.status_code == 200
    body = r.json()
    assert body["numberReturned"] == 2 and all(e["action"] == "login" for e in body["items"])


def test_audit_log_is_append_only(demo_url: str) -> None:
    with psycopg.connect(demo_url) as c:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            c.execute("DELETE FROM audit_log")
        c.rollback()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            c.execute("UPDATE audit_log SET actor = 'someone else'")
        c.rollback()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            c.execute("TRUNCATE audit_log")


def test_phone_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0856-5212345") == "085****2345"
    assert mask_phone("(0856) 521-23456") == "085*****3456"
    assert mask_phone(None) is None


def test_suppress_helper() -> None:
    rows = [{"n": 3, "m": 0, "x": 12}, {"n": 5, "m": 4, "x": 1}]
    low = suppress(rows, ["n", "m"], "analyst", 5)
    assert low == [{"n": None, "m": 0, "x": 12}, {"n": 5, "m": None, "x": 1}]
    assert suppress(rows, ["n", "m"], "community_worker", 5) == rows


def test_small_counts_are_suppressed_below_community_workers(http: httpx.Client,
                                                             accounts: dict[str, Any]) -> None:
    street = accounts["street_leader"]["scope"]
    public = http.get(f"/api/v1/areas/{street}/people-counts").json()
    full = http.get(f"/api/v1/areas/{street}/people-counts",
                    headers=headers(accounts, "community_worker")).json()
    assert public["suppressed"] and not full["suppressed"]
    fields = ("party_members", "volunteers", "building_heads", "grid_workers")
    raw = [g[f] for g in full["grids"] for f in fields]
    assert any(0 < v < 5 for v in raw), "the demo should have small groups to hide"
    shown = [g[f] for g in public["grids"] for f in fields]
    assert all(v is None or v == 0 or v >= 5 for v in shown)
    assert sum(v is None for v in shown) == sum(0 < v < 5 for v in raw)


def test_cli_user_add_hashes_and_never_defaults(demo_url: str, live_server: str) -> None:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": demo_url}
    res = subprocess.run([GRIDGOV, "user", "add", "cli_planner", "--role", "planner", "--scope",
                          "520602", "--password-stdin"], input=ACCOUNT_PASSWORD + "\n", env=env,
                         text=True, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    with psycopg.connect(demo_url) as c:
        (digest,) = c.execute("SELECT password_hash FROM users WHERE username = 'cli_planner'"
                              ).fetchone()  # type: ignore[misc]
    assert digest.startswith("$argon2id$") and ACCOUNT_PASSWORD not in digest
    token = httpx.post(live_server + "/api/v1/auth/token",
                       data={"username": "cli_planner", "password": ACCOUNT_PASSWORD})
    assert token.status_code == 200
    bad = subprocess.run([GRIDGOV, "user", "add", "x", "--role", "mayor", "--password-stdin"],
                         input="whatever123\n", env=env, text=True, capture_output=True,
                         timeout=60)
    assert bad.returncode == 1 and "role" in bad.stderr and "Traceback" not in bad.stderr


def test_a_fresh_database_has_no_users(db_url: str) -> None:
    with psycopg.connect(db_url) as c:
        assert c.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_tokens_are_revoked_by_sign_out_and_by_an_admin(live_server: str, demo_url: str) -> None:
    from geo.auth import hash_password
    from tests.importer_files import ROOT

    with psycopg.connect(demo_url, autocommit=True) as c:
        c.execute("INSERT INTO users (username, password_hash, role, scope_code) VALUES "
                  "('t_revoked', %s, 'analyst', '520602') ON CONFLICT (username) DO NOTHING",
                  (hash_password("revoke me please"),))

    def sign_in() -> dict[str, str]:
        time.sleep(1.05)  # token times are whole seconds: past the last revocation's second
        r = httpx.post(f"{live_server}/api/v1/auth/token",
                       data={"username": "t_revoked", "password": "revoke me please"})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    me = f"{live_server}/api/v1/auth/me"
    first, second = sign_in(), sign_in()
    assert httpx.get(me, headers=first).status_code == 200
    assert httpx.post(f"{live_server}/api/v1/auth/logout", headers=first).status_code == 204
    for old in (first, second):  # every session of the user ends
        r = httpx.get(me, headers=old)
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
    fresh = sign_in()
    assert httpx.get(me, headers=fresh).status_code == 200
    done = subprocess.run([str(ROOT / ".venv/bin/gridgov"), "user", "revoke", "t_revoked"],
                          env={**os.environ, "GRIDGOV_DATABASE_URL": demo_url},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert httpx.get(me, headers=fresh).status_code == 401
    last = sign_in()
    key = httpx.post(f"{live_server}/api/v1/auth/api-keys", headers=last,
                     json={"name": "x"}).json()["key"]
    assert httpx.get(me, headers={"X-API-Key": key}).status_code == 200
    done = subprocess.run([str(ROOT / ".venv/bin/gridgov"), "user", "disable", "t_revoked"],
                          env={**os.environ, "GRIDGOV_DATABASE_URL": demo_url},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for who in (last, {"X-API-Key": key}):  # neither its tokens nor its keys work
        r = httpx.get(me, headers=who)
        assert r.status_code == 401 and "disabled" in r.json()["detail"], r.text
    tiles = httpx.get(f"{live_server}/api/v1/coverage/tiles.json", headers=last)
    assert tiles.status_code == 401  # the tiles' own way to the user checks it too
