"""Database side of the importers: staging with COPY, lookups, progress, error mapping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from geo.db import audit
from geo.db.bulk import copy_rows
from geo.errors import ImportRejected, Problem

T = TypeVar("T")


def track(items: Iterable[T], total: int, label: str, enabled: bool) -> Iterator[T]:
    """``items`` with a rich progress bar on stderr when ``enabled``."""
    if not enabled:
        yield from items
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)


def stage(conn: psycopg.Connection, name: str, columns: Sequence[tuple[str, str]],
          rows: Iterable[Sequence[Any]]) -> int:
    """COPY ``rows`` into a fresh temporary table ``name`` (dropped at commit)."""
    ident = sql.Identifier(name)
    cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                              for c, t in columns)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(ident))
        cur.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(ident, cols))
    return copy_rows(conn, name, [c for c, _ in columns], rows)


@contextmanager
def database_errors(source: str) -> Iterator[None]:
    """A constraint the checks did not foresee still ends as a clean rejection."""
    try:
        yield
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportRejected(source, [Problem("database", first)]) from exc


AUDITED_CODES = 50


def audit_import(conn: psycopg.Connection, actor: str, entity: str, path: str | Path, *,
                 count: int, crs: str | None, repaired: int, codes: Iterable[str] | None = None,
                 object_id: str | None = None, **extra: Any) -> None:
    """One audit row for one import, written inside its transaction (DESIGN §6): the file's
    name (not its path, which may name a person's home directory), how many rows, the CRS,
    repairs and, for boundaries, the codes changed (the first ``AUDITED_CODES``). No personal
    data goes into the detail: counts only."""
    detail: dict[str, Any] = {"file": Path(path).name, "count": count, "crs": crs,
                              "repaired": repaired}
    if codes is not None:
        detail["codes"] = sorted(codes)[:AUDITED_CODES]
    audit.record(conn, actor, f"import.{entity}", entity, object_id, detail | extra)


def area_levels(conn: psycopg.Connection) -> dict[str, str]:
    """Every area code in the database → its level."""
    with conn.cursor() as cur:
        cur.execute("SELECT code, level FROM areas")
        return {code: level for code, level in cur.fetchall()}


class Communities:
    """Community codes in the database, and names that identify exactly one community."""

    def __init__(self, conn: psycopg.Connection) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT code, name FROM areas WHERE level = 'community'")
            rows = cur.fetchall()
        self.codes = {code for code, _ in rows}
        by_name: dict[str, list[str]] = {}
        for code, name in rows:
            by_name.setdefault(name, []).append(code)
        self.names = {n: c[0] for n, c in by_name.items() if len(c) == 1}
        self.ambiguous = {n for n, c in by_name.items() if len(c) > 1}

    def resolve(self, value: str) -> tuple[str | None, str | None]:
        """(code, None) or (None, why not)."""
        if value in self.codes:
            return value, None
        if value in self.names:
            return self.names[value], None
        if value in self.ambiguous:
            return None, f"community name {value!r} is ambiguous; use its 12-digit code"
        return None, f"unknown community code {value!r}"


def fetch_pairs(conn: psycopg.Connection, query: str,
                params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())
