"""``gridgov backup`` and ``gridgov restore`` round-trip the whole demo database: every table
of the restored copy holds exactly the rows of the original (the audit log and the schema
version included). A file that is not a backup, or a database that exists, is refused with
a clear error and nothing is created."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg

from tests.conftest import drop
from tests.importer_files import ROOT, database_checksum


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": url}
    return subprocess.run([str(ROOT / ".venv/bin/gridgov"), *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_backup_and_restore_round_trip(demo_url: str, tmp_path: Path) -> None:
    path = tmp_path / "gridgov.dump"
    made = _cli(demo_url, "backup", str(path))
    assert made.returncode == 0, made.stderr
    assert path.stat().st_size > 100_000 and "backed up to" in made.stdout
    again = _cli(demo_url, "backup", str(path))
    assert again.returncode != 0 and "already exists" in again.stdout + again.stderr

    name = demo_url.rsplit("/", 1)[1] + "_restored"
    target = demo_url.rsplit("/", 1)[0] + "/" + name
    try:
        done = _cli(demo_url, "restore", str(path), "--database", name)
        assert done.returncode == 0, done.stderr
        original, copy = database_checksum(demo_url), database_checksum(target)
        assert len(original) > 30 and original["buildings"][0] > 1000
        assert copy == original
        exists = _cli(demo_url, "restore", str(path), "--database", name)
        assert exists.returncode != 0 and "exists; restore into a new one" in (
            exists.stdout + exists.stderr)
    finally:
        drop(target)


def test_a_file_that_is_not_a_backup_is_refused(demo_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP? not really")
    name = demo_url.rsplit("/", 1)[1] + "_junk"
    failed = _cli(demo_url, "restore", str(junk), "--database", name)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "not a gridgov backup" in out and "Traceback" not in out
    with psycopg.connect(demo_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() == (0,)
