"""``gridgov demo`` and ``gridgov import …`` (filled in below)."""

from __future__ import annotations

import typer

import_app = typer.Typer(help="Import files into the database (transactions).", no_args_is_help=True)


def demo() -> None:
    """Load the demo city."""
    raise NotImplementedError
