"""Heat-map budgets of DESIGN §7, each next to a plain peer measured in the same run.

    .venv/bin/python bench/heatmap.py [--points 1000000] [--requests 15]

1. Binning: ``--points`` random points in the demo district to H3 cells (resolution 9) with
   ``geo.h3cells.cells`` (h3ronpy, vectorised) and with a plain Python loop over h3-py's
   ``latlng_to_cell``; the two must agree. Budget: ≤ 0.5 s for 1M points.
2. Serving: a database of its own (``<name>_bench_heatmap`` on the project's PostGIS; the
   demo city plus synthetic resident issues up to ``--points``, their cells found at ingest
   as every writer does) behind the app on a free loopback port; ``GET /api/v1/heatmap`` for
   the issues layer at several resolutions and filters, ``--requests`` times each, timed
   with httpx; and the issues heat map as vector tiles at z12 and z14 over the district, each
   tile asked for once (made, not taken from the tile cache). Budget: median ≤ 100 ms. The
   peer is the per-request geometry job the stored cells avoid: read every issue's point and
   bin it in Python.

The bench database is kept between runs (loading 1M issues takes a minute); drop it with
``--fresh``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import h3
import httpx
import numpy as np
import psycopg
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._demo_db import demo_database  # noqa: E402
from bench.lookup import free_port, start_server  # noqa: E402
from geo.auth import hash_password  # noqa: E402
from geo.h3cells import RESOLUTIONS, all_resolutions, cells  # noqa: E402
from geo.heatmap import CHINA_TZ  # noqa: E402

BOX = (109.165, 27.705, 109.235, 27.755)  # the demo district's communities
CHUNK = 100_000
PASSWORD = "bench-heatmap-only"


def bench_binning(n: int) -> tuple[float, float]:
    rng = np.random.default_rng(20261122)
    lon, lat = rng.uniform(BOX[0], BOX[2], n), rng.uniform(BOX[1], BOX[3], n)
    cells(lon[:1000], lat[:1000], 9)  # load the library
    ours = []
    for _ in range(3):
        t = time.perf_counter()
        found = cells(lon, lat, 9)
        ours.append(time.perf_counter() - t)
    t = time.perf_counter()
    plain = [h3.latlng_to_cell(y, x, 9) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]
    peer = time.perf_counter() - t
    if [h3.str_to_int(c) for c in plain[:10000]] != found[:10000].tolist():
        sys.exit("h3ronpy and h3-py disagree")
    return min(ours), peer


def bench_database(n: int, fresh: bool) -> str:
    url = demo_database("heatmap", fresh)
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM resident_issues").fetchone()[0]  # type: ignore[index]
        if have < n:
            add_issues(conn, n - have, have)
        conn.execute("INSERT INTO users (username, password_hash, role) VALUES "
                      "('bench_admin', %s, 'admin') ON CONFLICT (username) DO UPDATE SET "
                      "password_hash = EXCLUDED.password_hash", (hash_password(PASSWORD),))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE resident_issues")
    return url


def add_issues(conn: psycopg.Connection, n: int, have: int) -> None:
    """``n`` synthetic issues near the demo's own (same categories, kinds and communities,
    moved up to ~200 m, spread over a year), their cells found at ingest."""
    templates = conn.execute("SELECT category, kind, channel, status, community_code, "
                             "ST_X(geom), ST_Y(geom) FROM resident_issues").fetchall()
    rng = np.random.default_rng(7)
    start = datetime(2026, 1, 1, tzinfo=CHINA_TZ)
    columns = ("receipt_code, category, kind, channel, status, description, geom, "
               "community_code, reported_at, " + ", ".join(f"h3_{r}" for r in RESOLUTIONS))
    with Progress() as bar:
        task = bar.add_task("synthetic issues", total=n)
        for first in range(0, n, CHUNK):
            m = min(CHUNK, n - first)
            pick = rng.integers(0, len(templates), m)
            lon = np.array([templates[i][5] for i in pick]) + rng.normal(0, 0.0015, m)
            lat = np.array([templates[i][6] for i in pick]) + rng.normal(0, 0.0012, m)
            found = all_resolutions(lon, lat)
            days = rng.uniform(0, 365, m)
            with conn.cursor().copy(f"COPY resident_issues ({columns}) FROM STDIN") as copy:
                for k, i in enumerate(pick.tolist()):
                    t = templates[i]
                    copy.write_row((f"BENCH{have + first + k:08d}", t[0], t[1], t[2], t[3], "bench",
                                    f"SRID=4326;POINT({lon[k]} {lat[k]})", t[4],
                                    start + timedelta(days=float(days[k])),
                                    *(int(found[r][k]) for r in RESOLUTIONS)))
            bar.advance(task, m)
    conn.commit()


REQUESTS: dict[str, dict[str, str | int]] = {
    "issues, res 7, the district": {"layer": "issues", "res": 7},
    "issues, res 9, the district": {"layer": "issues", "res": 9},
    "issues, res 10, one street": {"layer": "issues", "res": 10, "within": "520602001"},
    "issues, res 9, 2 statuses, one quarter": {"layer": "issues", "res": 9,
                                              "status": "closed,resolved",
                                              "from": "2026-04-01", "to": "2026-06-30"},
}


def bench_serving(url: str, requests: int) -> dict[str, list[float]]:
    os.environ["GRIDGOV_DATABASE_URL"] = url
    port = free_port()
    proc = start_server(port)
    out: dict[str, list[float]] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            token = http.post("/api/v1/auth/token", data={"username": "bench_admin",
                                                          "password": PASSWORD})
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for label, params in REQUESTS.items():
                http.get("/api/v1/heatmap", params=params, headers=headers).raise_for_status()
                times = []
                for _ in range(requests):
                    t = time.perf_counter()
                    r = http.get("/api/v1/heatmap", params=params, headers=headers)
                    times.append(time.perf_counter() - t)
                    r.raise_for_status()
                out[label] = times
                body = r.json()
                print(f"  {label}: {len(body['features'])} cells, {body['total']:,} issues",
                      flush=True)
            for z in TILE_ZOOMS:
                out[f"tiles z{z}: each tile made once (not cached)"] = fetch_tiles(
                    http, headers, z, requests)
    finally:
        proc.terminate()
        proc.wait()
    return out


TILE_ZOOMS = (12, 14)


def fetch_tiles(http: httpx.Client, headers: dict[str, str], z: int, limit: int
                ) -> list[float]:
    """Up to ``limit`` issues heat-map tiles at zoom ``z`` over the district, each asked
    for once: what a map does when it first opens there (the served tile is encoded)."""
    n = 1 << z
    x0, x1 = (int((lon + 180) / 360 * n) for lon in (BOX[0], BOX[2]))
    y0, y1 = (int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
              for lat in (BOX[3], BOX[1]))
    addresses = [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)][:limit]
    times = []
    for x, y in addresses:
        t = time.perf_counter()
        r = http.get(f"/api/v1/heatmap/tiles/{z}/{x}/{y}.mvt", params={"layer": "issues"},
                     headers=headers)
        times.append(time.perf_counter() - t)
        r.raise_for_status()
    print(f"  tiles z{z}: {len(addresses)} tiles, last {len(r.content):,} bytes", flush=True)
    return times


def per_request_job(url: str) -> float:
    """The peer: every issue's point read and binned in Python, as a server without stored
    cells would do per request."""
    t = time.perf_counter()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM resident_issues").fetchall()
    counts: dict[str, int] = {}
    for x, y in rows:
        c = h3.latlng_to_cell(y, x, 9)
        counts[c] = counts.get(c, 0) + 1
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--fresh", action="store_true", help="drop the bench database first")
    args = parser.parse_args()

    ours, peer = bench_binning(args.points)
    print(f"\n1. {args.points:,} points to H3 cells (res 9)")
    print(f"   h3ronpy (ours):      {ours:7.3f} s   ({ours / args.points * 1e9:.0f} ns/point)")
    print(f"   plain h3-py loop:    {peer:7.3f} s   ({peer / ours:.1f}× ours)")
    verdict = "met" if ours <= 0.5 * args.points / 1_000_000 else "MISSED"
    print(f"   budget ≤ 0.5 s per 1M points: {verdict}\n")

    url = bench_database(args.points, args.fresh)
    print(f"2. GET /api/v1/heatmap over {args.points:,} stored issues "
          f"({args.requests} requests each, after one warm-up)")
    served = bench_serving(url, args.requests)
    job = per_request_job(url)
    worst = 0.0
    for label, times in served.items():
        median = statistics.median(times) * 1000
        worst = max(worst, median)
        p95 = sorted(times)[int(0.95 * (len(times) - 1))] * 1000
        print(f"   {label:50s} median {median:6.1f} ms  p95 {p95:6.1f} ms")
    print(f"   peer: read every point and bin it in Python: {job * 1000:,.0f} ms "
          f"({job * 1000 / worst:.0f}× our slowest median)")
    print(f"   budget ≤ 100 ms (median): {'met' if worst <= 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
