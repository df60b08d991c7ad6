"""Each district's service circle, kept in memory until its network, facilities, buildings
or areas change (``geo.db.fresh.FreshCache``), then read again in bulk and worked out off the
event loop (every category: one pass each). A grid layer's edits do not count: buildings
take a new grid only when a generation is activated, which writes the buildings.

The figures are written to ``building_walks`` for SQL and GIS users in the background, on a
connection of their own, so the request that found them stale does not wait for the write.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
from psycopg import AsyncConnection

from geo.circle.district import DistrictCircle
from geo.circle.store import store
from geo.db.fresh import FreshCache
from geo.db.queries.circle import circle_from_rows, read_rows
from geo.errors import NotFound

TOPICS = ("network", "buildings", "areas")
log = logging.getLogger(__name__)


def _worked_out(rows: list[list[tuple[object, ...]]]) -> DistrictCircle:
    circle = circle_from_rows(*rows)
    for category in circle.categories:
        circle.walk(category)
        circle.straight(category)
    return circle


class CircleCache:
    def __init__(self, fresh: FreshCache, url: str) -> None:
        self.fresh, self.url = fresh, url
        self.writes: set[asyncio.Task[None]] = set()  # kept until done (the loop holds weak refs)

    async def get(self, district: str) -> DistrictCircle:
        async def load(conn: AsyncConnection) -> DistrictCircle:
            rows = await read_rows(conn, district)
            if not rows[0]:
                raise NotFound(f"district {district} has no walk network: import one from "
                               "OpenStreetMap (gridgov import osm) or load the demo")
            circle = await asyncio.to_thread(_worked_out, rows)
            task = asyncio.create_task(asyncio.to_thread(self._store, district, circle))
            self.writes.add(task)
            task.add_done_callback(self.writes.discard)
            return circle

        return await self.fresh.get(("circle", district), TOPICS, load)

    def _store(self, district: str, circle: DistrictCircle) -> None:
        try:
            with psycopg.connect(self.url) as conn:
                store(conn, district, circle)
        except psycopg.Error as exc:  # the figures stay served from memory
            log.warning("service circle of %s not stored: %s", district, exc)
