"""Demo-city load time and database size, at scale 1 and at a larger scale, in one run.

    .venv/bin/python bench/demo_load.py [--scale 4]

Each load goes into a scratch database on the configured server (embedded by default),
which is dropped afterwards. The ratio of the two times against the ratio of the sizes says
whether loading stays linear as the city grows.
"""

from __future__ import annotations

import argparse
import os
import time

import psycopg

from geo.db import cluster, migrate
from geo.db.connect import database_url, embedded_cluster
from geo.demo.load import load_demo
from geo.settings import Settings


def _scratch(settings: Settings, name: str) -> tuple[str, str]:
    if not settings.database_url:
        cluster.up(embedded_cluster(settings), settings.database_name)
    base = database_url(settings).rsplit("/", 1)[0]
    cluster.drop_database(base + "/postgres", name)
    cluster.ensure_database(base + "/postgres", name)
    return base + "/postgres", base + "/" + name


def measure(settings: Settings, scale: int) -> dict[str, float]:
    admin, url = _scratch(settings, f"gridgov_bench_{scale}_{os.getpid()}")
    try:
        migrate.upgrade(url)
        with psycopg.connect(url) as conn:
            t0 = time.perf_counter()
            stats = load_demo(conn, scale=scale, progress=False)
            seconds = time.perf_counter() - t0
            conn.execute("VACUUM") if conn.autocommit else None
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
        rows = sum(stats.counts.values())
        return {"scale": scale, "seconds": seconds, "rows": rows, "mb": size / 2**20,
                "grids": stats.counts["grids"], "buildings": stats.counts["buildings"]}
    finally:
        cluster.drop_database(admin, url.rsplit("/", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args()
    settings = Settings()
    runs = [measure(settings, 1), measure(settings, args.scale)]
    print(f"{'scale':>5} {'seconds':>8} {'rows':>9} {'rows/s':>9} {'db MB':>7} {'grids':>6} "
          f"{'buildings':>9}")
    for r in runs:
        print(f"{r['scale']:>5} {r['seconds']:>8.1f} {r['rows']:>9,.0f} "
              f"{r['rows'] / r['seconds']:>9,.0f} {r['mb']:>7.1f} {r['grids']:>6,.0f} "
              f"{r['buildings']:>9,.0f}")
    base, big = runs
    print(f"ratio: {big['rows'] / base['rows']:.2f}x the rows took "
          f"{big['seconds'] / base['seconds']:.2f}x the time "
          f"(throughput {big['rows'] / big['seconds'] / (base['rows'] / base['seconds']):.2f}x "
          "of scale 1)")


if __name__ == "__main__":
    main()
