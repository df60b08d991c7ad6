"""``gridgov backup`` / ``gridgov restore``: the whole database through pg_dump's custom format
and pg_restore (PostgreSQL's own tools, of the server's major version).

A backup is one consistent snapshot (pg_dump runs in a single repeatable-read transaction), so
it may be taken while the service runs. A restore goes into a database that must not exist
yet (it is created with PostGIS), never over a live one: the operator points the service at
it when it is ready. Passwords are passed in the environment, never on a command line that
other local users could read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from geo.db import cluster
from geo.errors import InvalidInput, SetupError


def _tool(name: str) -> str:
    found = cluster.PG_BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise SetupError(f"{name} is missing; install it with: {cluster.install_command()}")
    return on_path


def _env(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the tools, with the password in PGPASSWORD."""
    u = urlsplit(url)
    args = ["-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432),
            "-U", unquote(u.username or "postgres"), "-d", u.path.lstrip("/")]
    env = {**os.environ, "PGPASSWORD": unquote(u.password or "")}
    return args, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SetupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def backup(url: str, path: Path) -> int:
    """Dump the database at ``url`` into ``path`` (custom format); its size in bytes."""
    if path.exists():
        raise InvalidInput(f"{path}: already exists; choose a new file (nothing overwritten)")
    args, env = _env(url)
    partial = path.with_name(path.name + ".partial")
    # residents' data and password hashes: readable by the owner only, from the first byte
    partial.touch(mode=0o600, exist_ok=False)
    try:
        _run([_tool("pg_dump"), *args, "-Fc", "-Z", "6", "-f", str(partial)], env, "pg_dump")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(path)  # a backup that exists is a whole one
    return path.stat().st_size


def restore(path: Path, admin_url: str, database: str) -> str:
    """Restore ``path`` into the new database ``database`` on the server of ``admin_url``;
    its URL. Nothing is created when the file is not a backup or the database exists."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    listed = subprocess.run([_tool("pg_restore"), "--list", str(path)], capture_output=True,
                            text=True, check=False)
    if listed.returncode != 0:
        raise InvalidInput(f"{path}: not a gridgov backup (pg_restore cannot read it)")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            raise InvalidInput(f"database {database} exists; restore into a new one")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    target = admin_url.rsplit("/", 1)[0] + "/" + database
    args, env = _env(target)
    try:
        _run([_tool("pg_restore"), *args, "--no-owner", "--exit-on-error",
              "--single-transaction", str(path)], env, "pg_restore")
    except BaseException:  # a failure or an interrupt: nothing half-restored stays behind
        cluster.drop_database(admin_url, database)
        raise
    return target
