"""Shared fixtures: a real PostGIS the project starts itself, never a mock.

The test database is ``<name>_test`` beside the configured one (embedded cluster by default,
or the server of ``GRIDGOV_DATABASE_URL``); ``GRIDGOV_TEST_DATABASE_URL`` names one outright.
It is dropped and rebuilt from the migrations at the start of every session. Tests fail,
never skip, when the database cannot be reached.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from geo.db import cluster, migrate
from geo.db.connect import database_url, embedded_cluster
from geo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _admin_and_name() -> tuple[str, str]:
    explicit = os.environ.get("GRIDGOV_TEST_DATABASE_URL")
    if explicit:
        base, name = explicit.rsplit("/", 1)
        return base + "/postgres", name
    settings = Settings()
    if not settings.database_url:
        cluster.up(embedded_cluster(settings), settings.database_name)
    url = database_url(settings)
    base, name = url.rsplit("/", 1)
    return base + "/postgres", name.split("?")[0] + "_test"


def fresh_database(suffix: str = "") -> str:
    """Drop, create (with PostGIS) and return the URL of a scratch test database.

    Names carry the process id, so two test runs on one machine never share a database.
    """
    admin, name = _admin_and_name()
    name = f"{name}{suffix}_{os.getpid()}"
    cluster.drop_database(admin, name)
    cluster.ensure_database(admin, name)
    return admin.rsplit("/", 1)[0] + "/" + name


def drop(url: str) -> None:
    base, name = url.rsplit("/", 1)
    cluster.drop_database(base + "/postgres", name)


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    """An empty test database at the head migration, dropped after the session."""
    url = fresh_database()
    migrate.upgrade(url)
    yield url
    drop(url)


@contextmanager
def demo_database(suffix: str) -> Iterator[str]:
    """A test database holding the default demo city, dropped afterwards."""
    from geo.demo.load import load_demo

    url = fresh_database(suffix)
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        load_demo(conn, seed=20240320, scale=1, progress=False)
    try:
        yield url
    finally:
        drop(url)


@pytest.fixture(scope="session")
def demo_url() -> Iterator[str]:
    """A second test database with the demo city, loaded once for the session (kept apart
    from ``db_url`` so importer tests start from an empty schema)."""
    with demo_database("_demo") as url:
        yield url


@contextmanager
def _rolled_back(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url) as c:
        # An open outer transaction turns the code's own ``conn.transaction()`` blocks into
        # savepoints, so nothing a test writes outlives it.
        c.execute("SELECT 1")
        try:
            yield c
        finally:
            c.rollback()


@pytest.fixture
def conn(demo_url: str) -> Iterator[psycopg.Connection]:
    """A connection to the demo city inside a transaction rolled back after the test."""
    with _rolled_back(demo_url) as c:
        yield c


@pytest.fixture
def db_conn(db_url: str) -> Iterator[psycopg.Connection]:
    """Like ``conn`` but on the bare migrated database (no demo city)."""
    with _rolled_back(db_url) as c:
        yield c


@pytest.fixture(scope="session")
def test_settings(demo_url: str) -> Settings:
    return Settings(database_url=demo_url, pool_min_size=1, pool_max_size=8)


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """True once ``check`` holds: a write made straight in the database reaches a running
    server's caches with its change notification, milliseconds after the commit."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The real app on uvicorn on a free loopback port, for real HTTP clients."""
    import socket
    import threading
    import time

    import uvicorn

    from api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_database(url: str) -> Iterator[str]:
    """The real app on a database of a test module's own, without a rate limit."""
    with serve(Settings(database_url=url, pool_min_size=1, pool_max_size=4,
                        rate_limit_per_minute=0)) as served:
        yield served


@pytest.fixture(scope="session")
def live_server(test_settings: Settings) -> Iterator[str]:
    """The app with the test settings (default rate limit), for the whole session."""
    with serve(test_settings) as url:
        yield url


ACCOUNT_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def accounts(demo_url: str, live_server: str) -> dict[str, dict[str, str]]:
    """One user per role, scoped street → community → grid along one branch of the demo
    city, each with a real bearer token from /api/v1/auth/token (the analyst uses an API key)."""
    import httpx

    from geo.auth import hash_password

    with psycopg.connect(demo_url, autocommit=True) as c:
        grid, community = c.execute(
            "SELECT g.code, g.community_code FROM grids g JOIN grid_layers l ON l.id = g.layer_id"
            " WHERE l.theme = 'unified' AND g.kind = 'base' AND g.community_code LIKE "
            "'520602001%' ORDER BY g.code LIMIT 1").fetchone()  # type: ignore[misc]
        scopes = {"admin": None, "planner": "520602", "street_leader": community[:9],
                  "community_worker": community, "grid_worker": grid, "analyst": "520602"}
        digest = hash_password(ACCOUNT_PASSWORD)
        for role, scope in scopes.items():
            c.execute("INSERT INTO users (username, password_hash, role, scope_code) "
                      "VALUES (%s, %s, %s, %s) ON CONFLICT (username) DO NOTHING",
                      (f"t_{role}", digest, role, scope))
    out: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=live_server) as http:
        for role, scope in scopes.items():
            r = http.post("/api/v1/auth/token",
                          data={"username": f"t_{role}", "password": ACCOUNT_PASSWORD})
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            if role == "analyst":
                key = http.post("/api/v1/auth/api-keys", json={"name": "qgis"}, headers=headers)
                key.raise_for_status()
                headers = {"X-API-Key": key.json()["key"]}
            out[role] = {"scope": scope or "", "username": f"t_{role}", **headers}
    return out


@contextmanager
def volunteers_left(demo_url: str, keep: int, last: bool = False) -> Iterator[tuple[str, int, int]]:
    """The first (or ``last``) active unified grid of the demo district left with ``keep``
    current volunteers for the block (the others' roles end yesterday, then are restored):
    yields (grid code, grid id, how many it had)."""
    with psycopg.connect(demo_url, autocommit=True) as c:
        code, gid = c.execute(
            "SELECT g.code, g.id FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
            "WHERE l.theme = 'unified' AND l.status = 'active' AND g.code LIKE '520602%' "
            f"ORDER BY g.code {'DESC' if last else ''} LIMIT 1").fetchone()  # type: ignore[misc]
        roles = c.execute(
            "SELECT r.id, r.valid_to FROM role_assignments r LEFT JOIN buildings b "
            "ON b.id = r.building_id WHERE r.role = 'volunteer' AND coalesce(r.grid_id, "
            "b.grid_id) = %s AND r.valid_from <= current_date AND (r.valid_to IS NULL OR "
            "r.valid_to >= current_date) ORDER BY r.person_id", (gid,)).fetchall()
        c.execute("UPDATE role_assignments SET valid_to = current_date - 1 WHERE id = ANY(%s)",
                  ([rid for rid, _ in roles[keep:]],))
        try:
            yield code, gid, len(roles)
        finally:
            for rid, valid_to in roles[keep:]:
                c.execute("UPDATE role_assignments SET valid_to = %s WHERE id = %s",
                          (valid_to, rid))
