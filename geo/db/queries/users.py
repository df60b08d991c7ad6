"""Users and API keys: async reads for the API, sync writes for the CLI."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.auth import NewKey, User


async def user_with_hash(conn: AsyncConnection, username: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT id, username, role, scope_code, password_hash, active "
                          "FROM users WHERE username = %s", (username,))
        return await cur.fetchone()


async def user_by_key_prefix(conn: AsyncConnection, prefix: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT u.id, u.username, u.role, u.scope_code, u.active, k.key_hash, k.revoked_at "
            "FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = %s", (prefix,))
        return await cur.fetchone()


async def add_key(conn: AsyncConnection, user: User, key: NewKey, name: str) -> None:
    await conn.execute("INSERT INTO api_keys (user_id, prefix, key_hash, name) "
                       "VALUES (%s, %s, %s, %s)", (user.id, key.prefix, key.digest, name))


async def revoke_key(conn: AsyncConnection, user: User, prefix: str) -> bool:
    cur = await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE prefix = %s "
                             "AND user_id = %s AND revoked_at IS NULL", (prefix, user.id))
    return cur.rowcount == 1


def create_user(conn: psycopg.Connection, username: str, password_hash: str, role: str,
                scope: str | None) -> int:
    row = conn.execute("INSERT INTO users (username, password_hash, role, scope_code) "
                       "VALUES (%s, %s, %s, %s) RETURNING id",
                       (username, password_hash, role, scope)).fetchone()
    assert row is not None
    return int(row[0])


def find_user(conn: psycopg.Connection, username: str) -> User | None:
    row = conn.execute("SELECT id, username, role, scope_code FROM users WHERE username = %s",
                       (username,)).fetchone()
    return User(row[0], row[1], row[2], row[3]) if row else None


def create_key(conn: psycopg.Connection, user: User, key: NewKey, name: str) -> None:
    conn.execute("INSERT INTO api_keys (user_id, prefix, key_hash, name) VALUES (%s, %s, %s, %s)",
                 (user.id, key.prefix, key.digest, name))


def list_users(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT username, role, coalesce(scope_code, '*'), active, "
                        "(SELECT count(*) FROM api_keys k WHERE k.user_id = u.id AND "
                        "k.revoked_at IS NULL) FROM users u ORDER BY username").fetchall()
