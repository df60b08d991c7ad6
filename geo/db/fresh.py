"""Values read from the database and kept in memory until the database says they changed.

Each value is loaded on first use and stamped with the count of change notifications
(``geo.db.changes``) of the topics it depends on; a notification makes the stamp differ, and
the next ``get`` reloads it (one loader at a time per key; the others wait for it rather than
read stale data). While the listener is not connected (before the first LISTEN, or after its
connection dropped) nothing vouches for a value, so it is trusted for ``unheard_seconds``
only. The lookup's parts and the issues heat map both keep their data this way.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geo.db.changes import Changes

Load = Callable[[AsyncConnection], Awaitable[Any]]


@dataclass
class _Entry:
    stamp: tuple[int, ...]
    loaded: float
    value: Any
    seen: int  # the change count when the stamp was last found current


class FreshCache:
    def __init__(self, pool: AsyncConnectionPool, changes: Changes,
                 unheard_seconds: float = 2.0, max_entries: int = 256) -> None:
        self.pool, self.changes, self.unheard_seconds = pool, changes, unheard_seconds
        self.max_entries = max_entries  # the least recently used go beyond this
        self.loads = 0  # values loaded so far (tests and logs read it)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def _fresh(self, entry: _Entry | None, topics: tuple[str, ...]) -> bool:
        if entry is None:
            return False
        if entry.seen != self.changes.total:
            if entry.stamp != self.changes.stamp(topics):
                return False
            entry.seen = self.changes.total  # other topics changed: still current
        return (self.changes.listening
                or time.monotonic() - entry.loaded < self.unheard_seconds)

    async def get(self, key: Hashable, topics: tuple[str, ...], load: Load) -> Any:
        """The value under ``key``, current for ``topics``; ``load`` makes it when it is not."""
        entry = self._entries.get(key)
        if self._fresh(entry, topics):
            self._entries.move_to_end(key)
            return entry.value  # type: ignore[union-attr]
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self._entries.get(key)
            if self._fresh(entry, topics):
                return entry.value  # type: ignore[union-attr]
            # Stamped before reading: a change during the load shows as stale next time.
            stamp, seen = self.changes.stamp(topics), self.changes.total
            async with self.pool.connection() as conn:
                value = await load(conn)
            self._entries[key] = _Entry(stamp, time.monotonic(), value, seen)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                old, _ = self._entries.popitem(last=False)
                lock = self._locks.get(old)
                if lock is not None and not lock.locked():
                    del self._locks[old]
            self.loads += 1
            # Values are long-lived and free of reference cycles (refcounting frees a
            # replaced one): keep the cyclic collector from walking their objects each pass.
            gc.freeze()
            return value
