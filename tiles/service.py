"""One tile: from the cache, or encoded by PostGIS and remembered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from psycopg_pool import AsyncConnectionPool

from geo.errors import NotFound
from tiles.cache import Key, Tile, TileCache, Topics
from tiles.registry import LAYERS, TileLayer
from tiles.sql import TileAddress, statement

EMPTY = Tile(b"")
Statement = tuple[str, dict[str, Any]]


def layer_named(name: str) -> TileLayer:
    layer = LAYERS.get(name)
    if layer is None:
        raise NotFound(f"no tile layer {name!r}; layers: {', '.join(LAYERS)}")
    return layer


def address(z: int, x: int, y: int) -> TileAddress:
    tile = TileAddress(z, x, y)
    if not tile.valid():
        side = (1 << z) - 1 if 0 <= z <= 22 else "2^z-1"
        raise NotFound(f"no tile {z}/{x}/{y}: z must lie in 0..22 and x, y in 0..{side}")
    return tile


async def tile_of(pool: AsyncConnectionPool, cache: TileCache, layer: TileLayer,
                  tile: TileAddress, theme: str, generation: int | None, floor: int) -> Tile:
    """The encoded tile (possibly empty). ``floor`` is the smallest count an aggregate cell
    may show to the caller (``geo.privacy.suppression_floor``)."""
    if not layer.minzoom <= tile.z <= layer.maxzoom:
        return EMPTY
    # counts depend on the caller's suppression floor: part of the key
    key = (layer.name, theme, generation, floor if layer.aggregate else 0, tile.z, tile.x, tile.y)

    async def make() -> Statement:
        return statement(layer, tile, theme, generation, floor)
    return await encoded(pool, cache, layer.topics, key, make)


async def encoded(pool: AsyncConnectionPool, cache: TileCache, topics: Topics, key: Key,
                  make: Callable[[], Awaitable[Statement]]) -> Tile:
    """The tile under ``key`` from the cache, or encoded by the statement ``make`` returns
    (one row, one bytea: the ``ST_AsMVT`` of the tile) and kept until a change of
    ``topics``. ``make`` runs only on a miss, before the tile's connection is taken (what it
    reads from the database it reads through a connection of its own, returned by then)."""
    found = cache.get(topics, key)
    if found is not None:
        return found
    stamp = cache.stamp(topics)
    sql, params = await make()
    async with pool.connection() as conn:
        cur = await conn.execute(sql, params)
        row = await cur.fetchone()
    tile = Tile(bytes(row[0]) if row and row[0] is not None else b"")
    cache.put(key, stamp, tile)
    return tile
