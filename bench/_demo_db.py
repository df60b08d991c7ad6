"""A bench database of its own on the project's PostGIS, migrated and holding the demo city
(``<name>_bench_<suffix>``; kept between runs, dropped with ``fresh``)."""

from __future__ import annotations

import psycopg

from geo.db import cluster, migrate
from geo.db.connect import database_url, embedded_cluster
from geo.demo.load import is_loaded, load_demo
from geo.settings import Settings


def demo_database(suffix: str, fresh: bool = False) -> str:
    settings = Settings()
    if not settings.database_url:
        cluster.up(embedded_cluster(settings), settings.database_name)
    base, name = database_url(settings).rsplit("/", 1)
    admin, bench = base + "/postgres", f"{name.split('?')[0]}_bench_{suffix}"
    if fresh:
        cluster.drop_database(admin, bench)
    cluster.ensure_database(admin, bench)
    url = f"{base}/{bench}"
    migrate.upgrade(url)
    with psycopg.connect(url) as conn:
        if not is_loaded(conn):
            print("loading the demo city…", flush=True)
            load_demo(conn, progress=False)
            conn.commit()
    return url
