"""``gridgov export LAYER [-o FILE] [--format …] [--crs …] [--within CODE] [--bbox …]``.

The same export as ``GET /api/v1/export/{layer}`` (public columns only), written to a file:
first to ``NAME.part.SUFFIX``, renamed when complete, so a failed export leaves nothing half-written.
A progress bar on stderr when it is a terminal.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import typer

from api.deps import area_code, parse_bbox
from geo.db.connect import connect
from geo.export import FORMATS, LAYERS, export_layer, filename, make_request, prepare
from geo.settings import get_settings

SUFFIXES = {".gpkg": "gpkg", ".parquet": "parquet", ".geoparquet": "parquet",
            ".geojson": "geojson", ".json": "geojson", ".zip": "shp", ".csv": "csv"}


def _format(fmt: str | None, output: Path | None) -> str:
    """--format, else the output's suffix, else GeoPackage."""
    if fmt:
        return fmt
    return SUFFIXES.get(output.suffix.lower(), "gpkg") if output else "gpkg"


def _bar(total: int, label: str) -> tuple[AbstractContextManager[Any], Any]:
    """A rich progress bar on stderr (or nothing), and its per-chunk callback."""
    if not sys.stderr.isatty():
        return nullcontext(), None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=False)
    task = bar.add_task(label, total=total)
    return bar, lambda n: bar.advance(task, n)


def export(
    layer: str = typer.Argument(..., help=" | ".join(LAYERS), show_default=False),
    output: Path | None = typer.Option(None, "-o", "--output", help="File to write (default: "
                                       "a name like grids-520602-20261122.gpkg here)."),
    fmt: str | None = typer.Option(None, "--format", "-f", help=" | ".join(FORMATS) + " "
                                   "(default: from the -o suffix, else gpkg)."),
    crs: str = typer.Option("wgs84", "--crs", help="wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n."),
    within: str | None = typer.Option(None, "--within", help="Area code (6, 9 or 12 digits)."),
    bbox: str | None = typer.Option(None, "--bbox", help="minlon,minlat,maxlon,maxlat (WGS84)."),
    theme: str | None = typer.Option(None, "--theme", help="grids: layer theme (unified, 综治 …)."),
    generation: int | None = typer.Option(None, "--generation", help="grids: an older "
                                          "generation (active or archived)."),
    encoding: str | None = typer.Option(None, "--encoding", help="shp: utf-8 (default) or gbk."),
) -> None:
    """Export a public layer (streets, communities, grids, buildings, facilities, walk-edges)
    as GeoPackage, GeoParquet, GeoJSON, zipped Shapefile or CSV."""
    req = make_request(layer, _format(fmt, output), crs, area_code(within, "within"),
                       parse_bbox(bbox), theme, generation, encoding)
    target = output or Path(filename(req))
    partial = target.with_name(target.stem + ".part" + target.suffix)
    with connect(get_settings()) as conn:
        found = prepare(conn, req)
        bar, advance = _bar(found.count, f"exporting {req.layer.name}")
        try:
            with bar:
                export_layer(conn, req, partial, progress=advance, found=found)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    typer.secho(f"wrote {found.count:,} {req.layer.name} to {target} ({req.format.name}, "
                f"{req.file_crs if req.crs not in ('gcj02', 'bd09') else req.crs})",
                fg=typer.colors.GREEN)
