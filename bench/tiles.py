"""Vector tile throughput: our /tiles/ next to tipg on the same tables and tiles, one run.

    .venv/bin/python bench/tiles.py [--seconds 10] [--tiles 200] [--tipg-columns 4326|3857]

Bounded and loopback only. Starts three servers in subprocesses on free 127.0.0.1 ports
against the configured database (embedded by default; the demo is loaded when missing):

- ours, cache on: the normal configuration (``GRIDGOV_TILE_CACHE_MB`` default); every tile
  is fetched once before the runs, so wrk measures warm cache hits;
- ours, cache off: ``GRIDGOV_TILE_CACHE_MB=0``, every tile encoded by PostGIS (like tipg);
- tipg (developmentseed, PyPI) from its own venv in ``.gridgov/bench/tipg-venv`` (made on
  first use), restricted to ``public.buildings`` and ``public.grids``.

Tiles: up to ``--tiles`` distinct tiles at z14, z15 and z16 that hold building centroids
(fixed seed), each asked for in both layers, buildings and grids (the active unified grids:
tipg gets ``layer_id=`` of that generation). Each server answers one sample tile (200, a
non-empty MVT, decoded) before anything is measured; then every tile once (sizes, our gzip
size, feature counts, and a warm-up), then ``wrk`` (Debian) at 1 and 16 connections for
``--seconds`` per zoom and server, the servers taking turns, each cycling through its tile
URLs (no Accept-Encoding: raw MVT). Prints tiles/s, p50, p95, errors (non-2xx and socket
errors) and the ratio of ours to tipg: the target is ≥ 2× tipg's tiles/s at z15 and z16,
checked with and without our cache. GRIDGOV_* settings in the environment reach both of our
servers (e.g. GRIDGOV_POOL_MAX_SIZE); tipg gets only its own (bench/_tipg.py).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

import _tipg
import _wrk
import httpx
import mapbox_vector_tile
import psycopg
from lookup import BIN, HOST, ROOT, free_port, need_wrk, prepare_database

ZOOMS = (14, 15, 16)
CONNECTIONS = (1, 16)
LAYERS = ("buildings", "grids")
TARGET, TARGET_ZOOMS = 2.0, (15, 16)
SEED = 20240320
HALF_WORLD = 20037508.342789244  # Web Mercator

OURS_COLUMNS = {  # tiles/registry.py, for the report
    "buildings": "id, address, name, compound, households, residents, floors, community_code, "
                 "grid_code, has_head",
    "grids": "code, name, kind, dedicated_type, community_code, households, residents, theme, "
             "generation",
}

Tile = tuple[int, int, int]  # z, x, y


@dataclass
class Server:
    name: str
    cmd: list[str]
    env: dict[str, str]
    path: Callable[[str, Tile], str]  # layer, tile → URL path
    cwd: Path = ROOT
    base: str = ""
    sizes: dict[tuple[int, str], list[int]] = field(default_factory=dict)  # (z, layer) → bytes
    gzipped: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    features: dict[tuple[int, str], int] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)  # path → body (for comparison)
    runs: dict[tuple[int, int], _wrk.Run] = field(default_factory=dict)  # (z, conns) → run


def centroid_tiles(url: str, zoom: int) -> list[tuple[int, int, int]]:
    """(x, y, buildings) of every tile at ``zoom`` holding a building centroid."""
    side = 2 * HALF_WORLD / (1 << zoom)
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT floor((ST_X(c) + %(h)s) / %(s)s)::int AS x, "
            "floor((%(h)s - ST_Y(c)) / %(s)s)::int AS y, count(*)::int "
            "FROM (SELECT ST_Centroid(footprint_3857) AS c FROM buildings "
            "WHERE footprint_3857 IS NOT NULL) b GROUP BY 1, 2 ORDER BY 1, 2",
            {"h": HALF_WORLD, "s": side}).fetchall()


def pick_tiles(url: str, n: int) -> tuple[dict[int, list[Tile]], Tile]:
    """Up to ``n`` tiles per zoom (fixed seed), and the z15 tile with the most buildings."""
    picked: dict[int, list[Tile]] = {}
    sample: Tile | None = None
    for z in ZOOMS:
        found = centroid_tiles(url, z)
        if not found:
            sys.exit("no building footprints: load the demo first (gridgov demo)")
        chosen = random.Random(SEED + z).sample(found, min(n, len(found)))
        picked[z] = [(z, x, y) for x, y, _ in chosen]
        if z == 15:
            x, y, _ = max(found, key=lambda t: t[2])
            sample = (z, x, y)
    assert sample is not None
    return picked, sample


def unified_layer(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM grid_layers WHERE theme = 'unified' "
                           "AND status = 'active'").fetchone()
    if row is None:
        sys.exit("no active unified grid generation")
    return int(row[0])


def ours(name: str, cache_mb: int | None) -> Server:
    env = {k: v for k, v in os.environ.items() if k != "GRIDGOV_TILE_CACHE_MB"}
    env["GRIDGOV_RATE_LIMIT_PER_MINUTE"] = "0"
    if cache_mb is not None:
        env["GRIDGOV_TILE_CACHE_MB"] = str(cache_mb)
    cmd = [str(BIN / "python"), "-m", "uvicorn", "--factory", "api.app:app_from_env",
           "--host", HOST, "--log-level", "warning", "--no-access-log", "--loop", "uvloop",
           "--http", "httptools"]
    return Server(name, cmd, env, lambda layer, t: f"/tiles/{layer}/{t[0]}/{t[1]}/{t[2]}.mvt")


def tipg(python: Path, url: str, layer_id: int, mercator: bool, cwd: Path) -> Server:
    env = {**os.environ, **_tipg.environment(url, mercator)}
    geom = _tipg.geometry_columns(mercator)

    def path(layer: str, t: Tile) -> str:
        columns = _tipg.BUILDING_COLUMNS if layer == "buildings" else _tipg.GRID_COLUMNS
        where = f"layer_id={layer_id}" if layer == "grids" else ""
        return _tipg.tile_path(layer, *t, geom[layer], columns, where)

    return Server("tipg", _tipg.command(python, HOST), env, path, cwd=cwd)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """The server on a free loopback port until the block ends (always terminated)."""
    port = free_port()
    server.base = f"http://{HOST}:{port}"
    proc = subprocess.Popen([*server.cmd, "--port", str(port)], cwd=server.cwd, env=server.env)
    try:
        deadline = time.monotonic() + 60
        while not ready(server.base):
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{server.name} did not start (or answer /healthz within 60 s)")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def decode(body: bytes) -> dict[str, list[dict]]:
    """MVT layer name → features (their properties)."""
    tile = mapbox_vector_tile.decode(body)
    return {name: [f["properties"] for f in layer["features"]] for name, layer in tile.items()}


def check_sample(servers: list[Server], sample: Tile) -> None:
    """200 and a non-empty MVT from every server for ``sample``; feature counts side by side."""
    z, x, y = sample
    print(f"\nsample tile {z}/{x}/{y} (the z15 tile with the most buildings): features")
    print(f"{'layer':<10}" + "".join(f"{s.name:>18}" for s in servers) + "   properties seen")
    for layer in LAYERS:
        counts, seen = [], {}
        for s in servers:
            r = httpx.get(s.base + s.path(layer, sample), timeout=30)
            features = decode(r.content).get(layer, []) if r.status_code == 200 else []
            if r.status_code != 200 or not features:
                sys.exit(f"{s.name}: {layer} {z}/{x}/{y} answered {r.status_code} with "
                         f"{len(r.content)} bytes and no '{layer}' features")
            counts.append(len(features))
            seen[s.name] = sorted({k for f in features for k in f})
        print(f"{layer:<10}" + "".join(f"{c:>18}" for c in counts))
        for name in (servers[0].name, servers[-1].name):
            print(f"{'':<10}  {name}: {', '.join(seen[name])}")


def fetch_all(server: Server, tiles: dict[int, list[Tile]], with_gzip: bool) -> None:
    """Every tile once: sizes (and our gzip sizes), feature counts; warms the server."""
    with httpx.Client(base_url=server.base, timeout=30) as http:
        for z, layer in ((z, layer) for z in ZOOMS for layer in LAYERS):
            sizes, packed, features = [], [], 0
            for t in tiles[z]:
                path = server.path(layer, t)
                r = http.get(path, headers={"Accept-Encoding": "identity"})
                r.raise_for_status()
                sizes.append(len(r.content))
                server.bodies[path] = r.content
                features += len(decode(r.content).get(layer, [])) if r.content else 0
                if with_gzip:
                    g = http.get(path, headers={"Accept-Encoding": "gzip"})
                    g.raise_for_status()
                    packed.append(g.num_bytes_downloaded)  # as sent (gzip when not empty)
            server.sizes[z, layer], server.gzipped[z, layer] = sizes, packed
            server.features[z, layer] = features


def measure(servers: list[Server], tiles: dict[int, list[Tile]], binary: str, seconds: int,
            tmp: Path) -> None:
    """wrk per zoom at 1 and 16 connections, both layers' URLs interleaved. The servers take
    turns run by run (a busy neighbour on the machine then hurts all of them alike), each
    warmed up at 4 connections first and left to settle after every run."""
    for z in ZOOMS:
        scripts, first = {}, {}
        for s in servers:
            paths = [s.path(layer, t) for t in tiles[z] for layer in LAYERS]
            scripts[s.name], first[s.name] = _wrk.lua_script(
                paths, tmp / f"{s.name.replace(' ', '_')}-{z}.lua"), paths[0]
            _wrk.run(binary, s.base, scripts[s.name], 4, min(2, seconds))
            settle(s, first[s.name])
        for c in CONNECTIONS:
            for s in servers:
                print(f"wrk {s.name} z{z} ({2 * len(tiles[z])} URLs) at {c:>2} "
                      f"connection(s), {seconds} s…", flush=True)
                run = s.runs[z, c] = _wrk.run(binary, s.base, scripts[s.name], c, seconds)
                run.recovery_s = settle(s, first[s.name])


def settle(server: Server, path: str, limit_s: float = 30.0) -> float:
    """Seconds until the server answers ``path`` within 0.5 s again. Requests still open when
    wrk stopped may keep it busy (or stuck) for a while; the next run must not start in that."""
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        started = time.monotonic()
        try:
            if httpx.get(server.base + path, timeout=limit_s).status_code == 200 \
                    and time.monotonic() - started < 0.5:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    print(f"  {server.name} did not answer {path} within 0.5 s for {limit_s:.0f} s; going on",
          flush=True)
    return time.monotonic() - began


def report_sizes(servers: list[Server], tiles: dict[int, list[Tile]]) -> None:
    print(f"\n{'server':<18} {'zoom':>4} {'layer':<10} {'tiles':>5} {'empty':>5} "
          f"{'features':>8} {'mean B':>8} {'max B':>8} {'gzip mean':>9} {'gzip max':>8}")
    for s in servers:
        for z in ZOOMS:
            for layer in LAYERS:
                sizes, packed = s.sizes[z, layer], s.gzipped[z, layer]
                gz = f"{mean(packed):>9,.0f} {max(packed):>8,}" if packed else f"{'-':>9} {'-':>8}"
                print(f"{s.name:<18} {z:>4} {layer:<10} {len(tiles[z]):>5} "
                      f"{sizes.count(0):>5} {s.features[z, layer]:>8,} {mean(sizes):>8,.0f} "
                      f"{max(sizes):>8,} {gz}")


def report_runs(servers: list[Server]) -> None:
    print(f"\n{'server':<18} {'zoom':>4} {'conns':>5} {'tiles/s':>9} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'errors':>7} {'recovery s':>10}")
    for s in servers:
        for (z, c), r in sorted(s.runs.items()):
            print(f"{s.name:<18} {z:>4} {c:>5} {r.rate:>9,.0f} {r.p50_ms:>8.2f} "
                  f"{r.p95_ms:>8.2f} {r.errors:>7} {r.recovery_s:>10.1f}")
    print("errors: non-2xx responses and socket errors; recovery: seconds after the run until "
          "the server answered a tile within 0.5 s again (requests still open when wrk stopped)")
    if any(r.errors or r.recovery_s > 1 for s in servers for r in s.runs.values()):
        print("some requests failed or the server stalled (see errors and recovery)")


def report_ratios(candidates: list[Server], reference: Server) -> None:
    print(f"\nratio of tiles/s to {reference.name} (target ≥ {TARGET:g}× at "
          f"z{' and z'.join(map(str, TARGET_ZOOMS))}, both connection counts)")
    for s in candidates:
        met = True
        for (z, c), r in sorted(s.runs.items()):
            ratio = r.rate / max(reference.runs[z, c].rate, 1e-9)
            verdict = "(no target)"
            if z in TARGET_ZOOMS:
                verdict = "met" if ratio >= TARGET else "MISSED"
                met &= ratio >= TARGET
            print(f"  {s.name:<18} z{z} at {c:>2} connection(s): {ratio:6.2f}×  {verdict}")
        print(f"  {s.name}: target {'MET' if met else 'MISSED'}")


def report_identical(a: Server, b: Server) -> None:
    differ = sum(a.bodies[p] != b.bodies.get(p) for p in a.bodies)
    print(f"\n{a.name} and {b.name}: {len(a.bodies) - differ} of {len(a.bodies)} tiles "
          "byte-identical" + ("" if not differ else " (the rest differ!)"))


def print_setup(tipg_server: Server, version: str, mercator: bool, layer_id: int,
                sample: Tile) -> None:
    geom = _tipg.geometry_columns(mercator)
    print(f"\ntipg {version}: tables public.buildings (geom-column={geom['buildings']}) and "
          f"public.grids (geom-column={geom['grids']}, layer_id={layer_id})")
    print(f"  tipg properties: buildings {', '.join(_tipg.BUILDING_COLUMNS)}; "
          f"grids {', '.join(_tipg.GRID_COLUMNS)}")
    print(f"  ours (tiles/registry.py): buildings {OURS_COLUMNS['buildings']}; "
          f"grids {OURS_COLUMNS['grids']}; geometry from footprint_3857 / geom_3857")
    print(f"  example tipg URL: {tipg_server.path('grids', sample)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, choices=range(1, 61),
                        metavar="1..60", help="per wrk run (6 runs per server)")
    parser.add_argument("--tiles", type=int, default=200, choices=range(1, 1001),
                        metavar="1..1000", help="tiles per zoom (at most those with buildings)")
    parser.add_argument("--tipg-columns", choices=("4326", "3857"), default="4326",
                        help="tipg reads the stored WGS 84 columns (footprint, geom) and "
                             "reprojects per tile, or our Web Mercator copies")
    args = parser.parse_args()
    binary = need_wrk()
    url = prepare_database()
    tiles, sample = pick_tiles(url, args.tiles)
    layer_id = unified_layer(url)
    python = _tipg.ensure_venv(ROOT)
    mercator = args.tipg_columns == "3857"
    print("tiles per zoom: " + ", ".join(f"z{z} {len(tiles[z])}" for z in ZOOMS), flush=True)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers = [stack.enter_context(running(s)) for s in (
            ours("ours (cache)", None), ours("ours (no cache)", 0),
            tipg(python, url, layer_id, mercator, Path(tmp)))]
        print_setup(servers[2], _tipg.version(python), mercator, layer_id, sample)
        check_sample(servers, sample)
        for s in servers:
            fetch_all(s, tiles, with_gzip=s.name.startswith("ours"))
        measure(servers, tiles, binary, args.seconds, Path(tmp))
    report_sizes(servers, tiles)
    report_identical(servers[0], servers[1])
    report_runs(servers)
    report_ratios(servers[:2], servers[2])


if __name__ == "__main__":
    main()
