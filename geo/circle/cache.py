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
from geo.errors import InvalidInput, NotFound

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


async def district_of(conn: AsyncConnection, where: str) -> str:
    """The district a request is about: the first six digits of its area, or the only
    district there is when it names none."""
    if len(where) >= 6:
        return where[:6]
    cur = await conn.execute("SELECT code FROM areas WHERE level = 'district' AND code LIKE %s "
                             "ORDER BY code", [where + "%"])
    codes = [r[0] for r in await cur.fetchall()]
    if len(codes) != 1:
        raise InvalidInput(f"within: name a district (one of {', '.join(codes) or 'none'})")
    return str(codes[0])
