"""The lookup's data in memory, per district, kept fresh by the database's change
notifications (migration 0004, ``geo.db.changes``).

A request asks for five parts: the city (area names, community pieces) and, for the district
of the point, its grids, people, buildings and walk network. Each part is kept by
``geo.db.fresh.FreshCache``: loaded on first use in one or two bulk queries and stamped
with the count of notifications of the topics it depends on; a notification makes the stamp
differ, and the next request that needs the part reloads it (one loader at a time per part;
the others wait for it rather than read stale data). A write made through this process's
own API also calls ``changed`` directly, so a client reads its own writes at once; writes
from elsewhere arrive with their notification, within milliseconds of the commit.

While the listener (``geo.db.changes.Changes``) is not connected (before the first LISTEN,
or after its connection dropped) nothing vouches for the cache, so a part is trusted for
``unheard_seconds`` only; every (re)connection forgets everything loaded before it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from geo.db.changes import Changes
from geo.db.fresh import FreshCache, Load
from geo.db.queries import lookup as q
from geo.db.queries import network as nq
from geo.lookup.cards import Cards
from geo.lookup.cells import BuildingCells, EdgeCells, GridCells
from geo.lookup.centres import Network
from geo.lookup.index import Box, Buildings, City, Frame, Grids, People

log = logging.getLogger(__name__)
T = TypeVar("T")

PART_TOPICS: dict[str, tuple[str, ...]] = {
    "city": ("areas",),
    "grids": ("areas", "grids"),
    "people": ("areas", "grids", "buildings", "people"),
    "buildings": ("areas", "buildings"),
    "network": ("areas", "network"),
}


MARGIN_DEG = 0.01  # about 1 km: grids of the next district near the border are neighbours


def _around(box: Box) -> Box:
    """The box of a district's grids and their contacts: its communities' box, widened so
    that every grid within the near-boundary distance of a point inside is loaded."""
    return (box[0] - MARGIN_DEG, box[1] - MARGIN_DEG, box[2] + MARGIN_DEG, box[3] + MARGIN_DEG)


@dataclass(frozen=True)
class District:
    grids: Grids
    people: People
    buildings: Buildings
    network: Network
    cards: Cards  # the answers' pieces made from the four above
    cells: Cells


class Later(Generic[T]):
    """A value built in a worker thread once its part has loaded: the part answers at once
    (through its STRtrees), and the value is None until the build is done (a failed build
    is logged and leaves it None)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self.value: T | None = None
        self.task = asyncio.ensure_future(self._run(build))

    async def _run(self, build: Callable[[], T]) -> None:
        try:
            self.value = await asyncio.to_thread(build)
            gc.freeze()  # long-lived, like the parts (see ``geo.db.fresh``)
        except Exception:
            log.exception("building a lookup cell index failed; lookups use the trees")


@dataclass(frozen=True)
class Cells:
    """The cell indexes of a district (``geo.lookup.cells``), each made after its part."""

    grids: Later[GridCells]
    buildings: Later[BuildingCells]
    edges: Later[EdgeCells]

    async def ready(self) -> None:
        await asyncio.gather(self.grids.task, self.buildings.task, self.edges.task)


class LookupCache:
    def __init__(self, pool: AsyncConnectionPool, changes: Changes | None = None,
                 unheard_seconds: float = 2.0, near_m: float = 30.0) -> None:
        self.near_m = near_m  # the near-boundary reach the grid cells are made for
        self.changes = changes or Changes()
        self.parts = FreshCache(pool, self.changes, unheard_seconds)
        # district code → (the change count its parts were last found current at, parts)
        self._districts: dict[str, tuple[int, District]] = {}

    @property
    def loads(self) -> int:
        """Parts loaded so far (tests and logs read it)."""
        return self.parts.loads

    @property
    def unheard_seconds(self) -> float:
        """How long a part is trusted while the change listener is not connected."""
        return self.parts.unheard_seconds

    @unheard_seconds.setter
    def unheard_seconds(self, seconds: float) -> None:
        self.parts.unheard_seconds = seconds

    async def _get(self, part: str, district: str, load: Load) -> Any:
        return await self.parts.get((part, district), PART_TOPICS[part], load)

    async def city(self) -> City:
        async def load(conn: AsyncConnection) -> City:
            return City.build(await q.areas(conn), await q.community_parts(conn))
        city: City = await self._get("city", "", load)
        return city

    async def district(self, city: City, district: str) -> District:
        """The four parts of a district, each current."""
        seen = self._districts.get(district)
        total = self.changes.total
        if seen is not None and seen[0] == total and self.changes.listening:
            return seen[1]  # nothing at all has changed since they were last current
        box = city.boxes[district]
        (grids, grid_cells), people, (buildings, building_cells), (network, edge_cells) = [
            await self._get(part, district, partial(load, district=district, box=box,
                                                    near_m=self.near_m))
            for part, load in DISTRICT_PARTS.items()]
        parts = District(grids, people, buildings, network,
                         Cards(city, grids, people, buildings),
                         Cells(grid_cells, building_cells, edge_cells))
        self._districts[district] = (total, parts)
        return parts


# The loaders of a district's parts: bulk reads, then CPU work in a thread so the event loop
# keeps answering meanwhile. ``box`` is the box of the district's communities; the cell
# indexes of all three parts share one lattice over it (``Frame.of(_around(box))``).

async def _grids(conn: AsyncConnection, district: str, box: Box, near_m: float
                 ) -> tuple[Grids, Later[GridCells]]:
    wide = _around(box)
    rows = await q.grid_parts(conn, wide)
    outlines = await q.grid_boundaries(conn, wide)
    grids = await asyncio.to_thread(Grids.build, rows, outlines, Frame.of(wide))
    return grids, Later(partial(GridCells.build, grids, box, near_m))


async def _people(conn: AsyncConnection, district: str, box: Box, near_m: float) -> People:
    wide = _around(box)
    return People.build(await q.contacts(conn, wide), await q.party_orgs(conn, wide))


async def _buildings(conn: AsyncConnection, district: str, box: Box, near_m: float
                     ) -> tuple[Buildings, Later[BuildingCells]]:
    buildings = await asyncio.to_thread(Buildings.build, await q.buildings(conn, box))
    return buildings, Later(partial(BuildingCells.build, buildings.tree.geometries, box,
                                    Frame.of(_around(box))))


async def _network(conn: AsyncConnection, district: str, box: Box, near_m: float
                   ) -> tuple[Network, Later[EdgeCells]]:
    edges = await nq.load_edges(conn, district)
    centres = await nq.load_centres(conn, district)
    network = await asyncio.to_thread(Network.build, edges, centres, Frame.of(_around(box)))
    return network, Later(partial(EdgeCells.build, network.snapper, box))


DISTRICT_PARTS: dict[str, Callable[..., Awaitable[Any]]] = {
    "grids": _grids, "people": _people, "buildings": _buildings, "network": _network}
