"""``gridgov user add | key | list``: accounts are made here; none ships with the code."""

from __future__ import annotations

import secrets
import sys

import typer

from api.cli import friendly
from geo.auth import check_role_and_scope, hash_password, new_api_key
from geo.db.audit import cli_actor, record
from geo.db.connect import connect
from geo.db.queries.users import create_key, create_user, find_user, list_users
from geo.errors import InvalidInput, NotFound
from geo.settings import get_settings

app = typer.Typer(help="Users, their roles and scopes, and API keys.", no_args_is_help=True)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password from stdin, a prompt, or generated (then shown once)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty():
        return typer.prompt("password", hide_input=True, confirmation_prompt=True), False
    return secrets.token_urlsafe(15), True


@app.command("add")
@friendly
def add(username: str = typer.Argument(..., help="Login name."),
        role: str = typer.Option(..., help="admin, planner, street_leader, community_worker, "
                                           "grid_worker or analyst"),
        scope: str = typer.Option(None, help="Area code (6/9/12 digits) or grid code (15)."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from standard input.")
        ) -> None:
    """Create a user."""
    check_role_and_scope(role, scope)
    password, generated = _password(password_stdin)
    digest = hash_password(password)
    with connect(get_settings()) as conn, conn.transaction():
        if find_user(conn, username):
            raise InvalidInput(f"user {username!r} exists already")
        uid = create_user(conn, username, digest, role, scope)
        record(conn, cli_actor(), "user.create", "users", str(uid),
               {"username": username, "role": role, "scope": scope})
    typer.echo(f"user {username} ({role}, scope {scope or 'everywhere'}) created")
    if generated:
        typer.echo(f"generated password (shown once): {password}")


@app.command("key")
@friendly
def key(username: str, name: str = typer.Option("", help="What the key is for.")) -> None:
    """Create an API key for a user (shown once)."""
    with connect(get_settings()) as conn, conn.transaction():
        user = find_user(conn, username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        k = new_api_key()
        create_key(conn, user, k, name)
        record(conn, cli_actor(), "api_key.create", "api_keys", k.prefix, {"user": username})
    typer.echo(f"API key for {username} (shown once; send it as X-API-Key): {k.key}")


@app.command("list")
@friendly
def list_() -> None:
    """List users (no secrets)."""
    with connect(get_settings()) as conn:
        for username, role, scope, active, keys in list_users(conn):
            typer.echo(f"{username:20} {role:17} {scope:15} "
                       f"{'active' if active else 'disabled':8} keys={keys}")


@app.command("revoke")
@friendly
def revoke(username: str = typer.Argument(..., help="Whose sign-ins to end."),
           keep_keys: bool = typer.Option(False, "--keep-keys",
                                          help="Leave the user's API keys working.")) -> None:
    """End every session of a user now: their access tokens stop working, and their API keys
    too (a stolen token could have made one) unless --keep-keys."""
    with connect(get_settings()) as conn, conn.transaction():
        row = conn.execute("UPDATE users SET tokens_valid_after = now() WHERE username = %s "
                           "RETURNING id", (username,)).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}")
        keys = 0 if keep_keys else conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
            (row[0],)).rowcount
        record(conn, cli_actor(), "revoke_tokens", "users", str(row[0]), {"api_keys": keys})
    typer.echo(f"every access token of {username} is revoked"
               + ("" if keep_keys else f", and {keys} API key(s)"))


@app.command("disable")
@friendly
def disable(username: str = typer.Argument(..., help="Who may no longer sign in.")) -> None:
    """Disable a user: no sign-in, and their tokens and API keys stop working at once."""
    with connect(get_settings()) as conn, conn.transaction():
        row = conn.execute("UPDATE users SET active = false, tokens_valid_after = now() "
                           "WHERE username = %s RETURNING id", (username,)).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}")
        record(conn, cli_actor(), "disable", "users", str(row[0]), {})
    typer.echo(f"{username} is disabled")
