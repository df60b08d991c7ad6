"""``gridgov import areas | grids | buildings | facilities | people | roles | issues |
co-building PATH``.

Each import is one transaction: a bad file prints every problem found (row or feature and
what is wrong) and writes nothing; a good one is written with its audit row (actor
``cli:<user>``). Repaired geometries and warnings are listed after a good
import. The ``osm`` command is added to this group by ``api.cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from api.cli import friendly
from geo.errors import Problem
from geo.importers.result import ImportResult

app = typer.Typer(help="Import files (GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV, XLSX).",
                  no_args_is_help=True)

PATH = typer.Argument(..., help="The file to import.", show_default=False)
CRS = typer.Option("wgs84", "--crs",
                   help="Coordinates of the file: wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n.")
ENCODING = typer.Option(None, "--encoding",
                        help="Text encoding (CSV, Shapefile .dbf), e.g. gbk; detected if unset.")
SHEET = typer.Option(None, "--sheet", help="XLSX sheet (name or 1-based number) or GPKG layer.")
SOURCE = typer.Option(None, "--source", help="Source name for re-import matching "
                      "(default: the file name).")
SHOWN = 20


def _run(fn: Callable[..., ImportResult], path: Path, **options: Any) -> None:
    from geo.db.audit import cli_actor
    from geo.db.connect import connect
    from geo.settings import get_settings

    with connect(get_settings()) as conn:
        result = fn(conn, path, progress=sys.stderr.isatty(), actor=cli_actor(), **options)
    _summary(result, path)


def _listing(title: str, problems: list[Problem]) -> None:
    if not problems:
        return
    typer.echo(f"{title} ({len(problems)}):")
    for p in problems[:SHOWN]:
        typer.echo(f"  - {p}")
    if len(problems) > SHOWN:
        typer.echo(f"  … and {len(problems) - SHOWN} more")


def _summary(result: ImportResult, path: Path) -> None:
    details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.details.items())
    typer.secho(f"imported {result.count} {result.entity} from {path.name}"
                + (f" ({details})" if details else ""), fg=typer.colors.GREEN)
    _listing("repaired", result.repaired)
    _listing("warnings", result.warnings)


@app.command()
@friendly
def areas(path: Path = PATH, crs: str = CRS, encoding: str | None = ENCODING,
          sheet: str | None = SHEET) -> None:
    """Districts, streets and communities (code, name, polygon); parents from code prefixes."""
    from geo.importers.areas import import_areas

    _run(import_areas, path, crs=crs, encoding=encoding, sheet=sheet)


@app.command()
@friendly
def grids(path: Path = PATH,
          layer: str = typer.Option(..., "--layer", help="Layer theme: unified (综合), 党建, "
                                    "综治, 城管, 应急 …"),
          scope: str = typer.Option(..., "--scope", help="Area code the layer covers."),
          layer_name: str | None = typer.Option(None, "--layer-name", help="Layer title."),
          activate: bool = typer.Option(
              False, "--activate", help="Make the new generation active at once; refused when "
              "an active layer of the theme covers a nested scope (that needs validation)."),
          crs: str = CRS, encoding: str | None = ENCODING, sheet: str | None = SHEET) -> None:
    """Grids into a new draft generation of a layer (active with --activate, when allowed)."""
    from geo.importers.grids import import_grids

    _run(import_grids, path, layer=layer, scope=scope, layer_name=layer_name,
         activate=activate, crs=crs, encoding=encoding, sheet=sheet)


@app.command()
@friendly
def buildings(path: Path = PATH, crs: str = CRS, source: str | None = SOURCE,
              encoding: str | None = ENCODING, sheet: str | None = SHEET) -> None:
    """Buildings (address, households, residents, floors; footprint or point)."""
    from geo.importers.buildings import import_buildings

    _run(import_buildings, path, crs=crs, source=source, encoding=encoding, sheet=sheet)


@app.command()
@friendly
def facilities(path: Path = PATH, crs: str = CRS, source: str | None = SOURCE,
               encoding: str | None = ENCODING, sheet: str | None = SHEET) -> None:
    """Service facilities (category, name, address, phone, hours, floor area; point)."""
    from geo.importers.facilities import import_facilities

    _run(import_facilities, path, crs=crs, source=source, encoding=encoding, sheet=sheet)


@app.command()
@friendly
def people(path: Path = PATH, encoding: str | None = ENCODING,
           sheet: str | None = SHEET) -> None:
    """People from a roster (name, phone, gender, birth year, party status, home address)."""
    from geo.importers.people import import_people

    _run(import_people, path, encoding=encoding, sheet=sheet)


@app.command()
@friendly
def roles(path: Path = PATH,
          theme: str | None = typer.Option(None, "--theme", help="Layer theme of grid codes."),
          encoding: str | None = ENCODING, sheet: str | None = SHEET) -> None:
    """Role assignments (person by name and phone; grid, building or community; dates)."""
    from geo.importers.roles import import_roles

    _run(import_roles, path, theme=theme, encoding=encoding, sheet=sheet)


@app.command()
@friendly
def issues(path: Path = PATH, crs: str = CRS, encoding: str | None = ENCODING,
           sheet: str | None = SHEET) -> None:
    """Resident issues (民情台账, 社情日记): time, category, text, place; kind, channel, status,
    resolution, answer, rating and reporter when known. Rows already imported are skipped."""
    from geo.importers.issues import import_issues

    _run(import_issues, path, crs=crs, encoding=encoding, sheet=sheet)


@app.command("co-building")
@friendly
def co_building(path: Path = PATH,
                kind: str | None = typer.Option(None, "--kind", help="Only this sheet (units, "
                                                "registrations, posts, projects, claims, seats, "
                                                "alliances, members, sites); required for CSV."),
                encoding: str | None = ENCODING) -> None:
    """共建共治 workbook: 共建单位, 双报到, 服务岗位, 帮扶项目, 认领, 兼职委员 (with 1+1+N records),
    区域党建联盟, 联盟成员, 阵地 (area, opening hours, service windows)."""
    from geo.importers.co_building import import_co_building

    _run(import_co_building, path, kind=kind, encoding=encoding)
