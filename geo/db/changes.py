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
TOPICS = ("areas", "grids", "people", "buildings", "network")
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
