"""``gridgov import`` as a user runs it: a real commit, so failures must leave nothing behind."""

from __future__ import annotations

import os
import subprocess
import time

import psycopg
from shapely.geometry import box

from geo.importers.areas import import_areas
from tests.importer_files import (
    BOWTIE,
    ROOT,
    failed_cleanly,
    frame,
    gridgov,
    row_counts,
    scalar,
)


def test_cli_bad_file_is_a_clear_error_without_traceback(db_url, tmp_path):
    path = tmp_path / "bad.geojson"
    frame([{"code": "110108", "name": "颠倒区"}], [box(39.9, 116.2, 40.0, 116.3)]).to_file(path)
    before = row_counts(db_url)
    done = gridgov(db_url, "areas", str(path), "--crs", "wgs84")
    failed_cleanly(done)
    assert "error: bad.geojson: 1 problem(s), nothing imported" in done.stderr
    assert "feature 1: latitude and longitude look swapped" in done.stderr
    done = gridgov(db_url, "areas", str(path), "--crs", "mars")
    failed_cleanly(done)
    assert "unknown CRS" in done.stderr
    (tmp_path / "people.csv").write_text("姓名,电话,住址\n张伟,13800138000,\n李娜,12ab,无此楼\n",
                                         encoding="utf-8")
    done = gridgov(db_url, "people", str(tmp_path / "people.csv"))
    failed_cleanly(done)
    assert "row 2 (line 3): 电话 '12ab' is not a phone number" in done.stderr
    assert row_counts(db_url) == before  # the good row 1 was not written either


def _wait_for_lock_wait(conn: psycopg.Connection, proc: subprocess.Popen[str]) -> None:
    """Until some session of this database waits for a lock (the CLI on our row)."""
    deadline = time.monotonic() + 60
    while not scalar(conn, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a "
                     "ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the import did not block: {proc.communicate()}")
        time.sleep(0.05)


def test_cli_database_failure_after_the_checks_writes_nothing(db_url, tmp_path):
    """A file that passes every check but fails in the database: another writer creates the
    same generation of the layer while the import runs (a unique violation at commit time,
    not in a savepoint as in the tests above)."""
    areas, grids = tmp_path / "cli_chaoyang_areas.geojson", tmp_path / "cli_grids.geojson"
    frame([{"code": "110105", "name": "朝阳区"}, {"code": "110105001", "name": "建外街道"},
           {"code": "110105001001", "name": "建国门外社区"}],
          [box(116.43, 39.90, 116.47, 39.92)] * 3).to_file(areas)
    frame([{"code": "110105001001001", "name": "建外第一网格"}],
          [box(116.43, 39.90, 116.47, 39.92)]).to_file(grids)
    blocker = psycopg.connect(db_url)
    try:
        with psycopg.connect(db_url) as conn:
            import_areas(conn, areas)
        before = row_counts(db_url)
        blocker.execute("INSERT INTO grid_layers (theme, name, scope_code, generation, status) "
                        "VALUES ('城管', '别人的草稿', '110105', 1, 'draft')")
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gridgov"), "import", "grids", str(grids), "--layer", "城管",
             "--scope", "110105"], env={**os.environ, "GRIDGOV_DATABASE_URL": db_url},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with psycopg.connect(db_url, autocommit=True) as watcher:
            _wait_for_lock_wait(watcher, proc)
        blocker.commit()
        out, err = proc.communicate(timeout=120)
        failed_cleanly(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        assert "error: cli_grids.geojson: 1 problem(s), nothing imported" in err
        assert "database: duplicate key value violates unique constraint" in err
        assert row_counts(db_url) == {**before, "grid_layers": before["grid_layers"] + 1}
    finally:
        blocker.rollback()
        blocker.close()
        with psycopg.connect(db_url) as conn:
            conn.execute("DELETE FROM grid_layers WHERE scope_code LIKE '110105%'")
            conn.execute("DELETE FROM areas WHERE code LIKE '110105%' AND level = 'community'")
            conn.execute("DELETE FROM areas WHERE code LIKE '110105%' AND level = 'street'")
            conn.execute("DELETE FROM areas WHERE code = '110105'")


def test_cli_good_file_prints_a_summary(db_url, tmp_path):
    path = tmp_path / "haidian.geojson"
    frame([{"code": "110108", "name": "海淀区"}], [BOWTIE]).to_file(path)
    try:
        done = gridgov(db_url, "areas", str(path))
        assert done.returncode == 0, done.stderr
        assert "imported 1 areas from haidian.geojson" in done.stdout
        assert "repaired (1):" in done.stdout and "feature 1: invalid geometry" in done.stdout
        with psycopg.connect(db_url) as conn:
            ((actor, detail),) = conn.execute(
                "SELECT actor, detail FROM audit_log WHERE action = 'import.areas' "
                "AND detail->>'file' = 'haidian.geojson'").fetchall()
        assert actor.startswith("cli:") and detail["codes"] == ["110108"]
        assert detail["repaired"] == 1
    finally:
        with psycopg.connect(db_url) as conn:
            conn.execute("DELETE FROM areas WHERE code = '110108'")
