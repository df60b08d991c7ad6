"""Change notifications from the database (migration 0004): a listener that keeps running.

Triggers send ``NOTIFY gridgov_changes, '<topic>'`` at commit. ``listen`` holds one
connection with ``LISTEN`` and calls ``on_change(topic)`` for each notification. Whenever it
is not listening (not yet connected, or the connection dropped) notifications may be missed,
so it calls ``on_connected()`` each time LISTEN is (re)established (the caller then forgets
everything it cached) and ``on_lost()`` when the connection goes; it retries until cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

CHANNEL = "gridgov_changes"
TOPICS = ("areas", "grids", "people", "buildings", "network", "issues")
# The tables whose triggers send each topic (migrations 0004, 0005 and 0013).
TABLE_TOPICS = {
    "areas": "areas", "grids": "grids", "grid_layers": "grids", "people": "people",
    "role_assignments": "people", "party_orgs": "people", "buildings": "buildings",
    "compounds": "buildings", "walk_edges": "network", "facilities": "network",
    "facility_categories": "network", "resident_issues": "issues",
    **{t: "people" for t in ("co_units", "unit_registrations", "service_posts", "projects",
                             "claims", "duty_records", "duty_posts", "honours", "alliances",
                             "alliance_members")},
}
log = logging.getLogger(__name__)


async def listen(url: str, on_change: Callable[[str], None], on_connected: Callable[[], None],
                 on_lost: Callable[[], None], retry_seconds: float = 1.0) -> None:
    """Run until cancelled."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                on_connected()
                async for note in conn.notifies():
                    on_change(note.payload)
        except asyncio.CancelledError:
            raise
        except psycopg.Error as exc:
            log.warning("change listener: %s; retrying in %.0f s", exc, retry_seconds)
        on_lost()
        await asyncio.sleep(retry_seconds)


class Changes:
    """What this process knows of the database's changes: a count per topic, bumped by the
    listener (or directly by a write made here), and whether anyone is listening at all.
    Caches stamp what they hold with the counts of their topics and compare."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(TOPICS, 0)
        self.total = 0  # every change of any topic: a fast path compares only this
        self.listening = False
        self._listener: asyncio.Task[None] | None = None

    def changed(self, topic: str) -> None:
        """Data of ``topic`` changed (an unknown topic: assume everything did)."""
        for t in ((topic,) if topic in self.counts else tuple(self.counts)):
            self.counts[t] += 1
        self.total += 1

    def wrote(self, table: str) -> None:
        """A write to ``table`` made by this process has committed."""
        if table in TABLE_TOPICS:
            self.changed(TABLE_TOPICS[table])

    def stamp(self, topics: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(self.counts[t] for t in topics)

    def _connected(self) -> None:
        self.listening = True
        self.changed("*")  # anything may have changed while nobody listened

    def _lost(self) -> None:
        self.listening = False

    def start(self, url: str) -> None:
        """Listen for change notifications in the background (until ``stop``)."""
        self._listener = asyncio.create_task(
            listen(url, self.changed, self._connected, self._lost))

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        self.listening = False
