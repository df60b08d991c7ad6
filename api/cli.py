"""The ``gridgov`` command line: database, demo city, imports and the server.

Errors we expect (bad files, missing database) print one clear message and exit 1, without
a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer

from geo.errors import GridgovError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(help="gridgov: grid governance on PostGIS.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def friendly(fn: F) -> F:
    """Turn our own errors into a message and exit status 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GridgovError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except Exception as exc:  # database errors arrive from psycopg or via SQLAlchemy
            message = _database_message(exc)
            if message is None:
                raise
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _database_message(exc: BaseException) -> str | None:
    import psycopg
    import sqlalchemy.exc

    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.OperationalError) and any(
            w in first.lower() for w in ("connect", "connection", "server closed", "timeout expired")):
        return f"cannot reach the database ({first}); is it up? try `gridgov db up`"
    if isinstance(exc, psycopg.Error):
        return f"database error: {first}"
    return None


def _register() -> None:
    from api.cli_commands import circle, data, db, grid, imports, osm, report, serve, users
    from api.cli_commands.export import export

    app.add_typer(db.app, name="db")
    app.add_typer(users.app, name="user")
    app.add_typer(grid.app, name="grid")
    app.add_typer(report.app, name="report")
    app.add_typer(circle.app, name="circle")
    imports.app.command("osm")(friendly(osm.import_osm))
    app.add_typer(imports.app, name="import")
    app.command("demo")(friendly(data.demo))
    app.command("serve")(friendly(serve.serve))
    app.command("export")(friendly(export))
    app.command("backup")(friendly(db.backup_command))
    app.command("restore")(friendly(db.restore_command))


def main(argv: list[str] | None = None) -> None:
    _register()
    app(args=argv if argv is not None else sys.argv[1:])
