"""The embedded PostGIS: a PostgreSQL cluster the project initialises and runs itself.

The cluster lives in ``<data_dir>/pg`` (git-ignored). Server binaries come from Debian's
``postgresql-15`` and ``postgresql-15-postgis-3``. PostgreSQL refuses to run as root, so when
we are root the cluster belongs to an unprivileged system user and every server command runs
as that user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from geo.errors import SetupError

PG_VERSION = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
POSTGIS_CONTROL = Path(f"/usr/share/postgresql/{PG_VERSION}/extension/postgis.control")
DEBIAN_PACKAGES = (f"postgresql-{PG_VERSION}", f"postgresql-{PG_VERSION}-postgis-3")
SUPERUSER = "gridgov"
RUN_AS_WHEN_ROOT = "postgres"


@dataclass(frozen=True)
class Cluster:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def url(self, database: str) -> str:
        port = self.port
        if port is None:
            raise SetupError("the embedded database has never been started: run `gridgov db up`")
        user = SUPERUSER
        if self.password_file.exists():
            user += ":" + self.password_file.read_text().strip()
        return f"postgresql://{user}@127.0.0.1:{port}/{database}"


def install_command() -> str:
    return "sudo apt-get update && sudo apt-get install -y " + " ".join(DEBIAN_PACKAGES)


def ensure_binaries() -> None:
    """Install the Debian server packages when missing and we may; otherwise say how."""
    if (PG_BIN / "initdb").exists() and POSTGIS_CONTROL.exists():
        return
    if os.geteuid() != 0:
        raise SetupError(
            "PostgreSQL 15 with PostGIS 3 is not installed. Run:\n  " + install_command()
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *DEBIAN_PACKAGES], check=True, env=env)
    if not (PG_BIN / "initdb").exists() or not POSTGIS_CONTROL.exists():
        raise SetupError("installing " + " ".join(DEBIAN_PACKAGES) + " did not provide them")


def _server_user() -> str | None:
    """The user the server runs as: ourselves, or an unprivileged one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS_WHEN_ROOT)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             RUN_AS_WHEN_ROOT],
            check=True,
        )
    return RUN_AS_WHEN_ROOT


def _run(cmd: list[str], user: str | None, **kw: object) -> subprocess.CompletedProcess[str]:
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, text=True, capture_output=True, **kw)  # type: ignore[call-overload]


def _grant_path(cluster: Cluster, user: str) -> None:
    """Let ``user`` reach the cluster folder: own what we (root) made in it, and traverse
    every parent. The data folder needs nothing: initdb and the server write it as ``user``."""
    entry = pwd.getpwnam(user)
    mine = [cluster.root, cluster.socket_dir, cluster.port_file, cluster.password_file]
    for p in mine:
        if p.exists():
            os.chown(p, entry.pw_uid, entry.pw_gid)
    for parent in cluster.root.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def is_running(cluster: Cluster) -> bool:
    if not (cluster.data / "PG_VERSION").exists():
        return False
    res = _run([str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "status"], _server_user())
    return res.returncode == 0


def _initdb(cluster: Cluster, user: str | None) -> None:
    cluster.root.mkdir(parents=True, exist_ok=True)
    cluster.root.chmod(0o700)
    cluster.socket_dir.mkdir(exist_ok=True)
    # Password auth even on loopback: the database holds personal data (PIPL), and other local
    # users must not get in as superuser. The password lives in a 0600 file beside the cluster.
    cluster.password_file.write_text(secrets.token_urlsafe(24) + "\n")
    cluster.password_file.chmod(0o600)
    if user:
        _grant_path(cluster, user)
    res = _run(
        [str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER,
         "--auth=scram-sha-256", f"--pwfile={cluster.password_file}",
         "--encoding=UTF8", "--locale=C.UTF-8"],
        user,
    )
    if res.returncode != 0:
        raise SetupError("initdb failed:\n" + res.stderr)


def up(cluster: Cluster, database: str) -> str:
    """Start the cluster (initialising it the first time) and make sure the database exists."""
    ensure_binaries()
    user = _server_user()
    if not (cluster.data / "PG_VERSION").exists():
        _initdb(cluster, user)
    if not is_running(cluster):
        port = cluster.port
        if port is None or _port_in_use(port):
            port = _free_port()
            cluster.port_file.write_text(f"{port}\n")
        if user:
            _grant_path(cluster, user)
        opts = (
            f"-p {port} -k {cluster.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on"
        )
        res = _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-l", str(cluster.log),
             "-o", opts, "-w", "-t", "60", "start"],
            user,
        )
        if res.returncode != 0:
            tail = cluster.log.read_text()[-2000:] if cluster.log.exists() else ""
            raise SetupError("PostgreSQL did not start:\n" + res.stderr + tail)
    ensure_database(cluster.url("postgres"), database)
    return cluster.url(database)


def ensure_database(admin_url: str, database: str) -> None:
    """Create ``database`` with PostGIS unless it exists. ``admin_url`` names another db."""
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg.connect(admin_url, autocommit=True)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    target = admin_url.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(target, autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def drop_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database)))


def down(cluster: Cluster) -> bool:
    if not is_running(cluster):
        return False
    res = _run([str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "fast", "-w", "stop"],
               _server_user())
    if res.returncode != 0:
        raise SetupError("pg_ctl stop failed:\n" + res.stderr)
    return True


def which_psql() -> str | None:
    return shutil.which("psql")
