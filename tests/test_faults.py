"""Faults: PostgreSQL restarted while the service is under load (a cluster of the test's own,
so the suite's database is left alone): requests during the outage fail cleanly with 503
(or succeed), none hangs,
and the service answers again without being restarted. An import killed with SIGKILL half-way
leaves nothing behind, and running it again succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from geo.db import cluster, migrate
from geo.settings import Settings
from tests.conftest import serve
from tests.importer_files import ROOT, area_frame, row_counts

DEADLINE_S = 8.0  # a request that takes longer has hung


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[cluster.Cluster, str]]:
    pg = cluster.Cluster(tmp_path_factory.mktemp("faults") / "pg")
    url = cluster.up(pg, "faults")
    migrate.upgrade(url)
    try:
        yield pg, url
    finally:
        cluster.down(pg)


def _restart(pg: cluster.Cluster) -> None:
    """What an operator's restart does: a fast shutdown, then start again on the same port."""
    cluster.down(pg)
    time.sleep(0.5)
    cluster.up(pg, "faults")


def test_a_database_restart_under_load(own_cluster: tuple[cluster.Cluster, str]) -> None:
    pg, url = own_cluster
    results: list[tuple[float, int | str, float]] = []  # (started, status, seconds)
    stop = threading.Event()

    with serve(Settings(database_url=url, pool_min_size=2, pool_max_size=6)) as base:
        def hammer() -> None:
            with httpx.Client(base_url=base, timeout=DEADLINE_S) as http:
                while not stop.is_set():
                    t0 = time.monotonic()
                    try:
                        status: int | str = http.get("/api/v1/areas",
                                                     params={"level": "district"}).status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    results.append((t0, status, time.monotonic() - t0))

        workers = [threading.Thread(target=hammer) for _ in range(8)]
        for w in workers:
            w.start()
        time.sleep(1.5)
        down_at = time.monotonic()
        _restart(pg)
        up_at = time.monotonic()
        time.sleep(3.0)
        stop.set()
        for w in workers:
            w.join(timeout=DEADLINE_S + 2)
        healthy = httpx.get(f"{base}/healthz", timeout=5)

    before = [s for t, s, _ in results if t < down_at]
    during = [s for t, s, _ in results if down_at <= t < up_at]
    after = [s for t, s, _ in results if t >= up_at + 1.0]
    assert before and set(before) == {200}
    assert set(during) <= {200, 503}, sorted({str(s) for s in during})
    assert after and set(after) == {200}, sorted({str(s) for s in after})  # on its own
    assert max(d for _, _, d in results) < DEADLINE_S  # nothing hung
    assert healthy.status_code == 200


def test_an_import_killed_half_way_leaves_nothing(own_cluster: tuple[cluster.Cluster, str],
                                                  tmp_path: Path) -> None:
    _, url = own_cluster
    path = tmp_path / "areas.gpkg"
    area_frame().to_file(path, driver="GPKG")
    env = {**os.environ, "GRIDGOV_DATABASE_URL": url}
    before = row_counts(url)
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watch:
        # the import checks, writes its areas, then waits to write its audit row (this lock
        # lets readers through and stops writers): killed with its rows written, uncommitted
        holder.execute("LOCK TABLE audit_log IN SHARE MODE")
        proc = subprocess.Popen([str(ROOT / ".venv/bin/gridgov"), "import", "areas", str(path)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        # (asked on a connection of its own: inside the holder's transaction the activity
        # view would keep showing the same snapshot)
        while not watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()").fetchone()[0]:  # type: ignore[index]
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the import never reached the database"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        holder.rollback()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the server notices the lost client and rolls its transaction back
    assert row_counts(url) == before
    again = subprocess.run([str(ROOT / ".venv/bin/gridgov"), "import", "areas", str(path)],
                           env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    after = row_counts(url)
    assert after["areas"] == before["areas"] + len(area_frame())
