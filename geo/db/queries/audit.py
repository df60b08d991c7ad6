"""Reading the audit log (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row


async def entries(conn: AsyncConnection, *, actor: str | None, action: str | None,
                  object_type: str | None, since: datetime | None, until: datetime | None,
                  after: int | None, limit: int) -> list[dict[str, Any]]:
    clauses: list[sql.Composable] = [sql.SQL("id > %(after)s")]
    params: dict[str, Any] = {"after": after or 0, "limit": limit + 1}
    for name, value, op in (("actor", actor, "="), ("action", action, "="),
                            ("object_type", object_type, "="), ("since", since, ">="),
                            ("until", until, "<")):
        if value is not None:
            column = "at" if name in ("since", "until") else name
            clauses.append(sql.SQL("{} {} {}").format(sql.Identifier(column), sql.SQL(op),
                                                     sql.Placeholder(name)))
            params[name] = value
    q = sql.SQL("SELECT id, at, actor, action, object_type, object_id, detail, client "
                "FROM audit_log WHERE {} ORDER BY id LIMIT %(limit)s").format(
        sql.SQL(" AND ").join(clauses))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(q, params)
        return list(await cur.fetchall())
