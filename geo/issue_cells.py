"""Resident issues by H3 cell, in memory: the issues heat map over a million issues in a few
milliseconds.

PostgreSQL's GROUP BY over the stored cells (``geo.db.queries.heatmap``) reads every row of
the table: about 0.3–0.5 s for a million issues on two cores. Here the same columns are read
once, as one binary COPY of fixed-width fields parsed by numpy (cells at every resolution,
community code as a number, category and status as small codes, time of report in
microseconds), each resolution's cells numbered once; a request is then a boolean mask and a
``bincount``. The snapshot follows the database's change notifications (topic ``issues``)
through ``geo.db.fresh``, like the lookup's parts: the first request after a change reloads
it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection

from geo.db.fresh import FreshCache
from geo.h3cells import RESOLUTIONS, fill_async

TOPICS = ("issues",)
_EPOCH = "extract(epoch FROM reported_at)"
# Every field a fixed width, so the COPY's binary rows are one numpy record each.
_COPY = (
    "COPY (SELECT " + ", ".join(f"h3_{r}" for r in RESOLUTIONS) + ", "
    "coalesce(community_code::bigint, -1), "
    "coalesce(array_position(%(categories)s::text[], category), 0)::int2, "
    "coalesce(array_position(%(statuses)s::text[], status), 0)::int2, "
    f"({_EPOCH} * 1000000)::int8 FROM resident_issues WHERE h3_10 IS NOT NULL"
    ") TO STDOUT (FORMAT binary)")
_FIELDS = [(f"h3_{r}", ">i8") for r in RESOLUTIONS] + [
    ("community", ">i8"), ("category", ">i2"), ("status", ">i2"), ("at", ">i8")]
_HEADER = 19  # PGCOPY signature, flags, extension length


def _row_dtype() -> np.dtype[np.void]:
    fields: list[tuple[str, str]] = [("_count", ">i2")]
    for name, kind in _FIELDS:
        fields += [(f"_{name}_len", ">i4"), (name, kind)]
    return np.dtype(fields)


ROW = _row_dtype()


@dataclass
class IssueCells:
    categories: list[str]
    statuses: list[str]
    cells: dict[int, npt.NDArray[np.int64]]  # resolution → the distinct cells, ascending
    number: dict[int, npt.NDArray[np.int32]]  # resolution → each issue's cell, numbered
    community: npt.NDArray[np.int64]  # -1: none
    category: npt.NDArray[np.int16]  # 1-based position in ``categories``
    status: npt.NDArray[np.int16]
    at: npt.NDArray[np.int64]  # reported, µs since 1970

    @classmethod
    def parse(cls, data: bytes, categories: list[str], statuses: list[str]) -> IssueCells:
        body = np.frombuffer(data, dtype=np.uint8, offset=_HEADER)
        n = (len(body) - 2) // ROW.itemsize  # the trailer is a field count of -1
        rows = np.frombuffer(body[: n * ROW.itemsize].tobytes(), dtype=ROW)
        cells, number = {}, {}
        for r in RESOLUTIONS:
            cells[r], inverse = np.unique(rows[f"h3_{r}"].astype(np.int64), return_inverse=True)
            number[r] = inverse.astype(np.int32)
        return cls(categories, statuses, cells, number, rows["community"].astype(np.int64),
                   rows["category"].astype(np.int16), rows["status"].astype(np.int16),
                   rows["at"].astype(np.int64))

    def counts(self, res: int, prefix: str, floor: int, categories: list[str] | None = None,
               statuses: list[str] | None = None, since: datetime | None = None,
               until: datetime | None = None) -> list[tuple[int, int]]:
        """(cell, issues) at ``res`` for issues in communities under ``prefix`` ("" for all
        with a community), of the given categories and statuses, reported in [since, until);
        cells with fewer than ``floor`` (at least 1) left out; by cell."""
        lo, hi = int(prefix.ljust(12, "0")), int(prefix.ljust(12, "9"))
        keep = (self.community >= lo) & (self.community <= hi)
        if categories is not None:
            keep &= np.isin(self.category, _codes(self.categories, categories))
        if statuses is not None:
            keep &= np.isin(self.status, _codes(self.statuses, statuses))
        if since is not None:
            keep &= self.at >= int(since.timestamp() * 1_000_000)
        if until is not None:
            keep &= self.at < int(until.timestamp() * 1_000_000)
        tally = np.bincount(self.number[res][keep], minlength=len(self.cells[res]))
        shown = np.flatnonzero(tally >= max(floor, 1))
        return list(zip(self.cells[res][shown].tolist(), tally[shown].tolist(), strict=True))


def _codes(known: list[str], asked: list[str]) -> list[int]:
    """1-based positions of the asked values; unknown ones match nothing."""
    return [known.index(a) + 1 for a in asked if a in known]


async def load(conn: AsyncConnection) -> IssueCells:
    await fill_async(conn, "resident_issues")
    cur = await conn.execute("SELECT DISTINCT category FROM resident_issues ORDER BY 1")
    categories = [r[0] for r in await cur.fetchall()]
    cur = await conn.execute("SELECT DISTINCT status FROM resident_issues ORDER BY 1")
    statuses = [r[0] for r in await cur.fetchall()]
    chunks = []
    async with conn.cursor().copy(_COPY, {"categories": categories, "statuses": statuses}
                                  ) as copy:
        async for chunk in copy:
            chunks.append(bytes(chunk))
    return await asyncio.to_thread(IssueCells.parse, b"".join(chunks), categories, statuses)


class IssueCellCache:
    """The current ``IssueCells``, reloaded on the first request after a change of resident
    issues (``geo.db.fresh``)."""

    def __init__(self, fresh: FreshCache) -> None:
        self.fresh = fresh

    async def get(self) -> IssueCells:
        cells: IssueCells = await self.fresh.get("issue_cells", TOPICS, load)
        return cells

    async def buildings_filled(self) -> None:
        """Buildings written without their cells get them, once after each change of
        buildings (the people layers count by the buildings' cells)."""
        await self.fresh.get("building_cells", ("buildings",),
                             lambda conn: fill_async(conn, "buildings"))
