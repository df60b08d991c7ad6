"""``gridgov db up | down | status | url | migrate``."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli import friendly
from geo.db import cluster, migrate
from geo.db.connect import database_url, embedded_cluster
from geo.settings import get_settings

app = typer.Typer(help="The database: the embedded PostGIS, or GRIDGOV_DATABASE_URL.",
                  no_args_is_help=True)


@app.command()
@friendly
def up() -> None:
    """Start the embedded PostGIS (initialising it once); idempotent."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("GRIDGOV_DATABASE_URL is set: using it, starting nothing.")
        return
    url = cluster.up(embedded_cluster(settings), settings.database_name)
    typer.echo(f"PostGIS is up: {url}")


@app.command()
@friendly
def down() -> None:
    """Stop the embedded PostGIS; data stays on disk."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("GRIDGOV_DATABASE_URL is set: nothing of ours to stop.")
        return
    stopped = cluster.down(embedded_cluster(settings))
    typer.echo("stopped" if stopped else "not running")


@app.command()
@friendly
def status() -> None:
    """Say whether the database is reachable and where."""
    settings = get_settings()
    if settings.database_url:
        typer.echo(f"external: {settings.database_url}")
        return
    c = embedded_cluster(settings)
    running = cluster.is_running(c)
    typer.echo(f"embedded cluster {c.root}: {'running' if running else 'stopped'}"
               + (f" on port {c.port}" if running else ""))
    if not running:
        raise typer.Exit(3)


@app.command()
@friendly
def url() -> None:
    """Print the database URL."""
    typer.echo(database_url(get_settings()))


@app.command("migrate")
@friendly
def migrate_cmd(revision: str = typer.Argument("head")) -> None:
    """Bring the schema to ``revision`` (Alembic; default head)."""
    target = database_url(get_settings())
    migrate.upgrade(target, revision)
    typer.echo(f"schema at {migrate.current(target)}")


def backup_command(path: Path = typer.Argument(..., help="The backup file to write.")) -> None:
    """Back up the whole database (pg_dump, custom format); safe while the service runs."""
    from geo.db.backup import backup

    size = backup(database_url(get_settings()), path)
    typer.echo(f"backed up to {path} ({size / 1e6:.1f} MB)")


def restore_command(path: Path = typer.Argument(..., help="A file made by gridgov backup."),
                    database: str = typer.Option(..., "--database",
                                                 help="A new database to restore into.")) -> None:
    """Restore a backup into a new database (never over the one in use)."""
    from geo.db.backup import restore

    url = database_url(get_settings())
    target = restore(path, url.rsplit("/", 1)[0] + "/postgres", database)
    typer.echo(f"restored into {database}; point GRIDGOV_DATABASE_NAME (or the URL) at it: "
               f"{target.split('@')[-1]}")
