"""``gridgov db``: an embedded PostGIS in a folder of its own, surviving restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GRIDGOV, *args], env=env, text=True, capture_output=True, timeout=180)


def test_cluster_lifecycle_in_its_own_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}
    env["GRIDGOV_DATA_DIR"] = str(tmp_path / "state")
    try:
        first = run("db", "up", env=env)
        assert first.returncode == 0, first.stderr
        again = run("db", "up", env=env)  # idempotent
        assert again.returncode == 0 and again.stdout == first.stdout
        url = run("db", "url", env=env).stdout.strip()
        assert url.startswith("postgresql://") and "127.0.0.1" in url
        secret = tmp_path / "state" / "pg" / "password"
        assert secret.stat().st_mode & 0o077 == 0
        without_password = url.replace(":" + secret.read_text().strip() + "@", "@")
        assert without_password != url
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(without_password, connect_timeout=5).close()
        with psycopg.connect(url, autocommit=True) as c:
            assert c.execute("SELECT postgis_lib_version()").fetchone()
            c.execute("CREATE TABLE kept (x int)")
            c.execute("INSERT INTO kept VALUES (42)")
        assert run("db", "status", env=env).returncode == 0
        assert run("db", "down", env=env).returncode == 0
        stopped = run("db", "status", env=env)
        assert stopped.returncode == 3 and "stopped" in stopped.stdout
        assert run("db", "up", env=env).returncode == 0
        with psycopg.connect(run("db", "url", env=env).stdout.strip()) as c:
            assert c.execute("SELECT x FROM kept").fetchone() == (42,)
    finally:
        run("db", "down", env=env)


def test_external_database_url_starts_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "GRIDGOV_DATA_DIR": str(tmp_path / "never")}
    res = run("db", "up", env=env)
    assert res.returncode == 0 and "starting nothing" in res.stdout
    assert not (tmp_path / "never").exists()
    assert run("db", "url", env=env).stdout.strip() == "postgresql://nobody@127.0.0.1:1/none"


def test_unreachable_database_is_an_error_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    res = run("db", "migrate", env=env)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "error:" in res.stderr
