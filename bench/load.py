"""Load: the public lookup, vector tiles and the coverage indicators under 64 connections.

    .venv/bin/python bench/load.py [--seconds 60] [--each 10] [--connections 64]

Bounded in time and loopback only: starts the app with uvicorn on a free 127.0.0.1 port in a
subprocess (the public rate limit off: this is a capacity test, not a client), against the
configured database (embedded by default; the demo is loaded when missing), and drives it
with ``wrk`` (Debian package): first each kind alone for ``--each`` seconds, then all three
mixed for ``--seconds``. Paths are fixed (a seeded set of lookup points, every grid tile of
the city at z14–z16, coverage of every street and its communities); coverage is asked with an
API key of an analyst made for the run (random password; the key revoked at the end).
Prints requests/s, p50, p99 and errors of every run and fails (exit 1) on any error: a
non-2xx answer, a socket error or a timeout.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _wrk
from bench.lookup import (
    BIN,
    HOST,
    ROOT,
    free_port,
    lookup_paths,
    need_wrk,
    prepare_database,
    start_server,
)


@dataclass
class Run:
    name: str
    run: _wrk.Run

    def line(self) -> str:
        r = self.run
        return (f"{self.name:9} {r.rate:9,.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 "
                f"{r.p99_ms:8.2f} ms  errors {r.errors}")


def tile_paths(url: str) -> list[str]:
    """Every z14–z16 tile over the active grids."""
    with psycopg.connect(url) as conn:
        w, s, e, n = conn.execute("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM "
                                  "(SELECT ST_Extent(geom) b FROM active_grid_parts) x"
                                  ).fetchone()  # type: ignore[misc]
    out = []
    for z in (14, 15, 16):
        x0, y1 = _tile(w, s, z)
        x1, y0 = _tile(e, n, z)
        out += [f"/tiles/grids/{z}/{x}/{y}.mvt" for x in range(x0, x1 + 1)
                for y in range(y0, y1 + 1)]
    return out


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    k = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return int((lon + 180) / 360 * k), int(y * k)


def coverage_paths(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        streets = [r[0] for r in conn.execute("SELECT code FROM areas WHERE level = 'street' "
                                              "ORDER BY code")]
    return [f"/api/v1/coverage?level={level}&within={code}" for code in streets
            for level in ("grid", "community")]


def api_key(url: str) -> str:
    """A signed-in user for the run (coverage needs one): an analyst of the district with a
    random password; its key is revoked when the run ends (``revoke_keys``)."""
    import secrets

    subprocess.run([str(BIN / "gridgov"), "user", "add", "bench_load", "--role", "analyst",
                    "--scope", "520602", "--password-stdin"], input=secrets.token_urlsafe(24),
                   text=True, cwd=ROOT, capture_output=True, check=False)  # kept between runs
    out = subprocess.run([str(BIN / "gridgov"), "user", "key", "bench_load"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().rsplit(" ", 1)[-1]


def revoke_keys(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL AND "
                     "user_id = (SELECT id FROM users WHERE username = 'bench_load')")


def run(binary: str, base: str, name: str, paths: list[str], connections: int, seconds: int,
        key: str, tmp: Path) -> Run:
    script = _wrk.lua_script(paths, tmp / f"{name}.lua")
    return Run(name, _wrk.run(binary, base, script, connections, seconds,
                              (f"X-API-Key: {key}",)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="the mixed run (default 60)")
    parser.add_argument("--each", type=int, default=10, help="each kind alone (default 10)")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    binary = need_wrk()
    url = prepare_database()
    kinds = {"lookup": lookup_paths(url, 500), "tiles": tile_paths(url),
             "coverage": coverage_paths(url)}
    mixed = [p for group in zip(*(kinds[k] * (2000 // len(kinds[k]) + 1) for k in kinds),
                                strict=False) for p in group]
    key = api_key(url)
    port = free_port()
    server = start_server(port)
    base = f"http://{HOST}:{port}"
    print(f"{len(kinds['lookup'])} lookup points, {len(kinds['tiles'])} tiles, "
          f"{len(kinds['coverage'])} coverage requests; {args.connections} connections")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(binary, base, "warm", mixed, 8, 3, key, Path(tmp))
            runs = [run(binary, base, k, p, args.connections, args.each, key, Path(tmp))
                    for k, p in kinds.items()]
            runs.append(run(binary, base, "mixed", mixed, args.connections, args.seconds, key,
                            Path(tmp)))
    finally:
        server.terminate()
        server.wait(timeout=30)
        revoke_keys(url)
    for r in runs:
        print(r.line())
    errors = sum(r.run.errors for r in runs)
    print(f"errors in all runs: {errors} (target 0: {'met' if errors == 0 else 'MISSED'})")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
