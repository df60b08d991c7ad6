"""Encoded tiles kept in memory, each stamped with the change counts of its layer's topics
(``geo.db.changes.Changes``): an edit makes every tile of the layers it touches stale at
once, and a stale tile is never served. Without a listener nothing is kept at all (nobody
would tell us about edits).

The same counts make the layer's version: TileJSON puts it in its tile URLs, so a client
that was handed new URLs after an edit can never meet a cached copy of the old tile.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Hashable

from geo.db.changes import Changes

Key = tuple[Hashable, ...]  # what the tile is of (layer, options, floor, …), then z, x, y
Topics = tuple[str, ...]  # the change topics (geo.db.changes) its data depends on


class Tile:
    """An encoded tile, its ETag, and its gzip made once, when a client first asks."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        self._gzipped: bytes | None = None

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6)
        return self._gzipped

    @property
    def size(self) -> int:
        # counted as if compressed too (it will be for most clients): the cache's bound holds
        return 2 * len(self.body) + 200


class TileCache:
    def __init__(self, changes: Changes, megabytes: int) -> None:
        self.changes = changes
        self.limit = megabytes * 1024 * 1024
        self.boot = secrets.token_hex(3)  # versions of another run never collide with ours
        self.hits = self.misses = 0
        self._bytes = 0
        self._tiles: OrderedDict[Key, tuple[tuple[int, ...], Tile]] = OrderedDict()

    def version(self, topics: Topics) -> str:
        """Changes with every edit of the layer's data (and with every restart)."""
        return f"{self.boot}-{sum(self.changes.stamp(topics))}"

    def get(self, topics: Topics, key: Key) -> Tile | None:
        found = self._tiles.get(key)
        if found is None or not self.changes.listening:
            self.misses += 1
            return None
        stamp, tile = found
        if stamp != self.changes.stamp(topics):
            self._drop(key)
            self.misses += 1
            return None
        self._tiles.move_to_end(key)
        self.hits += 1
        return tile

    def stamp(self, topics: Topics) -> tuple[int, ...]:
        """Taken before the tile is read from the database: an edit committed meanwhile
        leaves the stored tile already stale."""
        return self.changes.stamp(topics)

    def put(self, key: Key, stamp: tuple[int, ...], tile: Tile) -> None:
        if not self.changes.listening or tile.size > self.limit:
            return
        self._drop(key)
        self._tiles[key] = (stamp, tile)
        self._bytes += tile.size
        while self._bytes > self.limit:
            self._drop(next(iter(self._tiles)))

    def _drop(self, key: Key) -> None:
        old = self._tiles.pop(key, None)
        if old is not None:
            self._bytes -= old[1].size
