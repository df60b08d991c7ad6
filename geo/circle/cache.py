"""Each district's service circle, kept in memory until its network, facilities, buildings
or areas change (``geo.db.fresh.FreshCache``), then read again in bulk, worked out off the
event loop (every category: one pass each) and written to ``building_walks``."""

from __future__ import annotations

import asyncio

from psycopg import AsyncConnection

from geo.circle.district import DistrictCircle
from geo.circle.store import store_async
from geo.db.fresh import FreshCache
from geo.db.queries.circle import circle_from_rows, read_rows
from geo.errors import NotFound

TOPICS = ("network", "buildings", "areas", "grids")


def _worked_out(rows: list[list[tuple[object, ...]]]) -> DistrictCircle:
    circle = circle_from_rows(*rows)
    for category in circle.categories:
        circle.walk(category)
        circle.straight(category)
    return circle


class CircleCache:
    def __init__(self, fresh: FreshCache) -> None:
        self.fresh = fresh

    async def get(self, district: str) -> DistrictCircle:
        async def load(conn: AsyncConnection) -> DistrictCircle:
            rows = await read_rows(conn, district)
            if not rows[0]:
                raise NotFound(f"district {district} has no walk network: import one from "
                               "OpenStreetMap (gridgov import osm) or load the demo")
            circle = await asyncio.to_thread(_worked_out, rows)
            await store_async(conn, district, circle)
            return circle

        return await self.fresh.get(("circle", district), TOPICS, load)
