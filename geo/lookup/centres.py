"""The 党群服务中心 of a district as the lookup keeps them: their public members encoded once,
their opening hours parsed once, where they meet the walk network, and which are open now
(kept until one of them opens or closes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from opening_hours import OpeningHours
from pydantic_core import to_json

from geo import hours as site_hours
from geo.lookup.index import EdgeSnapper, Frame, points_at
from geo.network import Edges, Site, WalkNetwork


@dataclass(frozen=True)
class Centre:
    """A 党群服务中心 as the public sees it, and where it meets the network."""

    site: Site
    name: str
    address: str | None
    opening_hours: str | None
    # parsed once here (OSM, or Chinese as an importer stored it); None: missing or unreadable
    schedule: OpeningHours | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedule", site_hours.readable(self.opening_hours))

    def open_at(self, local: datetime) -> bool | None:
        """Open (True), closed (False) or not known (None) at a naive local time."""
        if self.schedule is None:
            return None
        try:
            return site_hours.state(self.schedule, local)
        except Exception:  # a library failure on one odd text must not fail the lookup
            return None

    def changes_after(self, local: datetime) -> datetime | None:
        """When its state next changes (naive local time); None: never, or not known."""
        if self.schedule is None:
            return None
        try:
            return self.schedule.next_change(local)
        except Exception:  # as above
            return None

    @cached_property
    def json(self) -> bytes:
        """Its fixed members, as the inside of a JSON object (encoded once)."""
        return to_json({"name": self.name, "address": self.address,
                        "opening_hours": self.opening_hours, "lon": self.site.lon,
                        "lat": self.site.lat})[1:-1]


@dataclass(frozen=True)
class OpenCentres:
    """The centres open from ``since`` until ``until`` (naive local times; ``until`` is the
    first moment any centre opens or closes), by key, with their coordinates as arrays for
    one distance call."""

    since: datetime
    until: datetime
    centres: list[Centre]
    lons: npt.NDArray[np.float64]
    lats: npt.NDArray[np.float64]


@dataclass
class Network:
    """A district's walk network, its centres and the nearest centre of every node."""

    snapper: EdgeSnapper
    centres: dict[int, Centre]
    network: WalkNetwork | None  # None: the district has no walk edges
    _open: OpenCentres | None = field(default=None, repr=False)

    def open_centres(self, local: datetime) -> OpenCentres:
        """The centres open at ``local``. Worked out again only when one of them opens or
        closes (or the clock is set back): in between, a lookup pays one comparison."""
        found = self._open
        if found is not None and found.since <= local < found.until:
            return found
        ordered = sorted(self.centres.values(), key=lambda c: c.site.key)
        opened = [c for c in ordered if c.open_at(local) is True]
        changes = [t for c in ordered if (t := c.changes_after(local)) is not None and t > local]
        found = OpenCentres(local, min(changes, default=datetime.max), opened,
                            np.array([c.site.lon for c in opened], dtype=np.float64),
                            np.array([c.site.lat for c in opened], dtype=np.float64))
        self._open = found  # one assignment: a concurrent reader sees the old or the new
        return found

    @classmethod
    def build(cls, edges: Edges, centres: Sequence[tuple[Any, ...]], frame: Frame) -> Network:
        snapper = EdgeSnapper.build(edges, frame)
        coords = np.array([(float(c[4]), float(c[5])) for c in centres]).reshape(-1, 2)
        snaps = snapper.snap(points_at(coords), frame.points(coords))
        found = {}
        for (fid, name, address, hours, lon, lat), snap in zip(centres, snaps, strict=True):
            site = Site(int(fid), float(lon), float(lat), snap)
            found[site.key] = Centre(site, name, address, hours)
        network = (WalkNetwork(edges, [c.site for c in found.values()])
                   if len(edges.ids) else None)
        return cls(snapper, found, network)
