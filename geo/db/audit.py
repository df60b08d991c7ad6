"""The audit log: every boundary change and every read or write of personal data.

Rows are written inside the caller's transaction, so an audited change and its audit row
commit or roll back together.
"""

from __future__ import annotations

import getpass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def cli_actor() -> str:
    """Who is acting when a command is run from the shell."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def record(conn: psycopg.Connection, actor: str, action: str, object_type: str,
           object_id: str | None = None, detail: dict[str, Any] | None = None,
           client: str | None = None) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, object_type, object_id, detail, client) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (actor, action, object_type, object_id, Jsonb(detail or {}), client),
    )


async def record_async(conn: Any, actor: str, action: str, object_type: str,
                       object_id: str | None = None, detail: dict[str, Any] | None = None,
                       client: str | None = None) -> None:
    """The same for the API's async connections (inside the request's transaction)."""
    await conn.execute(
        "INSERT INTO audit_log (actor, action, object_type, object_id, detail, client) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (actor, action, object_type, object_id, Jsonb(detail or {}), client),
    )
