"""``gridgov demo``: load the demo city (deterministic, seeded)."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from geo.db.audit import cli_actor
from geo.db.connect import connect
from geo.demo.load import SEED, is_loaded, load_demo
from geo.settings import get_settings


def demo(
    scale: int = typer.Option(1, min=1, help="Multiply the city (streets, grids, people…)."),
    seed: int = typer.Option(SEED, help="Random seed; the same seed gives the same city."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when already loaded."),
) -> None:
    """Load the demo city inside the real 碧江区 boundary (synthetic names and phones)."""
    with connect(get_settings()) as conn:
        if if_empty and is_loaded(conn):
            typer.echo("demo city already loaded")
            return
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      transient=False) as bar:
            task = bar.add_task("demo city", total=None)
            stats = load_demo(conn, seed=seed, scale=scale, actor=cli_actor(),
                              step=lambda msg: bar.update(task, description=msg))
            bar.update(task, description="done")
    typer.echo(f"loaded in {stats.seconds:.1f} s: "
               + ", ".join(f"{k} {v:,}" for k, v in stats.counts.items()))
