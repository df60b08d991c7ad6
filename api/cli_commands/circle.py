"""``gridgov circle …``: the 一刻钟便民服务圈 from the command line (runs on the server, full
figures): work a district out and store it, coverage per area, and siting proposals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psycopg
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.cli import friendly
from geo.db.connect import database_url
from geo.errors import InvalidInput
from geo.settings import get_settings

if TYPE_CHECKING:
    from geo.circle.district import DistrictCircle
# The circle's modules (scipy, shapely, h3 …) are imported by the commands that use them, so
# that every other gridgov command starts without them.

app = typer.Typer(help="The 15-minute convenience-service circle (一刻钟便民服务圈).",
                  no_args_is_help=True)
Within = typer.Option("", "--within", help="Area code: a district, street or community.")
Profile = typer.Option(None, "--profile", help="Walking speed profile (default, elderly …).")


def _connect() -> psycopg.Connection:
    return psycopg.connect(database_url(get_settings()))


def _load(conn: psycopg.Connection, within: str) -> tuple[DistrictCircle, str]:
    from geo.db.queries.circle import district_of, read_circle

    district = district_of(conn, within)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        bar.add_task(f"reading district {district}", total=None)
        circle = read_circle(conn, district)
    if not len(circle.graph.length):
        raise InvalidInput(f"district {district} has no walk network: import one first "
                           "(gridgov import osm)")
    return circle, district


@app.command("compute")
@friendly
def compute(within: str = Within, profile: str | None = Profile) -> None:
    """Work a district out (every category: one pass each) and store it in building_walks."""
    kmh = get_settings().speed(profile)
    with _connect() as conn:
        circle, district = _load(conn, within)
        _compute(conn, circle, district, kmh)


def _compute(conn: psycopg.Connection, circle: DistrictCircle, district: str,
             kmh: float) -> None:
    from geo.circle.district import metres_per_minute
    from geo.circle.store import store

    table = Table("category", "名称", "min", "sites", "buildings in", "households in",
                  "median min", title=f"district {district}, "
                  f"{kmh} km/h: {len(circle.buildings):,} buildings, {circle.graph.n:,} "
                  f"junctions, {len(circle.graph.components())} piece(s)")
    households = circle.buildings.extra["households"].astype(np.int64)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("walking", total=len(circle.categories) + 1)
        for code, c in circle.categories.items():
            bar.update(task, advance=1, description=f"walking to {code}")
            metres, _ = circle.walk(code)
            circle.straight(code)
            if c.minutes is None:
                continue
            inside = metres <= c.minutes * metres_per_minute(kmh)
            finite = metres[np.isfinite(metres)]
            median = f"{np.median(finite) / metres_per_minute(kmh):.1f}" if len(finite) else "–"
            table.add_row(code, c.name_zh, str(c.minutes), str(len(circle.of_category[code])),
                          f"{inside.sum():,}",
                          f"{households[inside].sum() / max(households.sum(), 1):.1%}", median)
        bar.update(task, description="storing building_walks")
        store(conn, district, circle)
        conn.commit()
    Console().print(table)


@app.command("coverage")
@friendly
def coverage(within: str = Within, profile: str | None = Profile,
             level: str = typer.Option("community", help="grid, community or street")) -> None:
    """Per area: households, and the share with a complete basic circle on foot and in a
    straight line."""
    from geo.circle import answers
    from geo.db.queries.coverage import AREAS, GRIDS

    if level not in ("grid", "community", "street"):
        raise InvalidInput(f"--level: {level!r} is not one of grid, community, street")
    kmh = get_settings().speed(profile)
    with _connect() as conn:
        circle, _ = _load(conn, within)
        sql = GRIDS if level == "grid" else AREAS
        rows = conn.execute(sql, {"level": level, "within": within + "%",
                                  "geometry": False}).fetchall()
    areas = [{"code": r[0], "name": r[1], "geometry": None} for r in rows]
    # the command line runs on the server: full figures, as an admin sees them
    body = answers.coverage(circle, kmh, level, within, areas, "admin", 0)
    table = Table("code", "name", "households", "basic circle on foot", "straight line",
                  "buildings outside", title=f"{kmh} km/h")
    for f in body["features"]:
        p = f["properties"]
        table.add_row(p["code"], p["name"], f"{p['households']:,}",
                      _pct(p["basic_complete_share"]), _pct(p["basic_complete_share_straight"]),
                      f"{p['buildings_outside_basic']:,}")
    Console().print(table)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


@app.command("siting")
@friendly
def siting(category: str = typer.Argument(..., help="A category of the circle (market …)."),
           k: int = typer.Option(5, "--k", min=1, max=20, help="How many new sites."),
           within: str = Within, profile: str | None = Profile,
           geojson: Path | None = typer.Option(None, "--geojson", help="Also write the "
                                               "proposals to this GeoJSON file.")) -> None:
    """Propose k new sites that bring the most households outside the circle within it."""
    from geo.circle import answers
    from geo.circle.siting import propose

    kmh = get_settings().speed(profile)
    with _connect() as conn:
        circle, _ = _load(conn, within)
    minutes = circle.category(category).minutes
    with Progress(console=Console(stderr=True), transient=True) as bar:
        bar.add_task(f"choosing {k} sites for {category}", total=None)
        found, uncovered, exact = propose(circle, category, k, kmh, within)
    before = int(circle.buildings.extra["households"][uncovered].sum())
    body = answers.proposals(found, before, category, k)
    table = Table("rank", "lon", "lat", "households added", "buildings added",
                  title=f"{category}: {before:,} households outside its "
                  f"{minutes}-minute circle")
    for f in body["features"]:
        p, (lon, lat) = f["properties"], f["geometry"]["coordinates"]
        table.add_row(str(p["rank"]), f"{lon:.6f}", f"{lat:.6f}", f"{p['households']:,}",
                      f"{p['buildings']:,}")
    Console().print(table)
    typer.echo(f"households still outside: {body['households_outside_after']:,}"
               + ("" if exact else " (the best found in the time allowed, not proven best)"))
    if geojson is not None:
        geojson.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        typer.echo(geojson)
