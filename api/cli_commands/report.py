"""``gridgov report street CODE [-o DIR]``: the street report as three files, the offline
HTML (map, indicators, grids short of target), the indicator table as CSV and as XLSX: the
same as ``GET /api/v1/reports/street/{code}``, with full counts (the command line runs on the
server). Each file is written to ``NAME.part`` and renamed when complete."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import typer
from psycopg import AsyncConnection
from rich.console import Console
from rich.progress import Progress

from api.cli import friendly
from geo.db.connect import database_url
from geo.issue_cells import load
from geo.report.build import SYSTEM, gather, render
from geo.settings import get_settings

app = typer.Typer(help="Reports for street leaders.", no_args_is_help=True)


@app.command("street")
@friendly
def street(
    code: str = typer.Argument(..., help="Street code (9 digits).", show_default=False),
    out: Path = typer.Option(Path("."), "-o", "--out", help="Folder to write the files to."),
) -> None:
    """Write street-report-CODE.html, .csv and .xlsx."""
    settings = get_settings()

    async def go() -> None:
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("reading indicators and issues", total=4)
            async with await AsyncConnection.connect(database_url(settings),
                                                     autocommit=True) as conn:
                data = await gather(conn, SYSTEM, settings, code, await load(conn))
            out.mkdir(parents=True, exist_ok=True)
            now = datetime.now()
            for fmt in ("html", "csv", "xlsx"):
                bar.update(task, advance=1, description=f"writing {fmt}")
                final = out / f"street-report-{code}.{fmt}"
                part = final.with_name(final.name + ".part")
                part.write_bytes(render(data, fmt, settings, now))
                part.replace(final)
                typer.echo(final)
            bar.update(task, advance=1)

    asyncio.run(go())
