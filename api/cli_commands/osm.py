"""``gridgov import osm FILE``: walk network, buildings and service POIs from an OSM extract."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from geo.errors import SetupError


def import_osm(
    path: Path = typer.Argument(..., help="An OpenStreetMap extract (.osm.pbf)."),
    district: str | None = typer.Option(
        None, "--district", help="Keep only what lies in this district (6-digit adcode)."
    ),
    bbox: str | None = typer.Option(None, "--bbox", help="minlon,minlat,maxlon,maxlat"),
) -> None:
    """Import the walk network, building footprints and service facilities from OSM."""
    import psycopg

    from geo.db.audit import cli_actor
    from geo.db.connect import connect
    from geo.importers.osm import import_osm as run_import
    from geo.importers.osm import parse_bbox
    from geo.settings import get_settings

    box = parse_bbox(bbox)
    try:
        conn = connect(get_settings())
    except psycopg.OperationalError as exc:
        raise SetupError(f"cannot reach the database ({exc}); try `gridgov db up`") from None
    with conn:
        result = run_import(conn, path, district_code=district, bbox=box,
                            progress=sys.stderr.isatty(), actor=cli_actor())
    typer.echo(f"{path}: {result.nodes:,} walk nodes, {result.edges:,} walk edges, "
               f"{result.buildings:,} buildings, {result.facilities:,} facilities")
    for category, n in result.facilities_by_category.items():
        typer.echo(f"  {category}: {n:,}")
    if result.disconnected:
        sizes = ", ".join(f"{c.nodes} nodes near {c.lon:.5f},{c.lat:.5f} (node {c.node_id})"
                          for c in result.disconnected[:10])
        more = f" and {len(result.disconnected) - 10} more" if len(result.disconnected) > 10 else ""
        typer.echo(f"walk network has {len(result.disconnected)} piece(s) not connected to the "
                   f"main network: {sizes}{more}")
    for note in result.notes[:20]:
        typer.echo(f"  note: {note}")
    if len(result.notes) > 20:
        typer.echo(f"  … and {len(result.notes) - 20} more notes")
