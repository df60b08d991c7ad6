"""The parts of a lookup answer that depend only on the grid (or the building) and the day:
street, community, grid, published contacts and party organisation; a building and its head.

Each is encoded as JSON text the first time a point of the day needs it and then reused, so
an answer is mostly joined from pieces rather than built and encoded field by field. A
``Cards`` belongs to one version of a district's parts (``geo.lookup.cache`` makes a new one
whenever any of them changes) and is used from the event loop only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic_core import to_json

from geo.lookup.index import NONE, Buildings, City, Grids, People


class Cards:
    def __init__(self, city: City, grids: Grids, people: People, buildings: Buildings) -> None:
        self.city, self.grids, self.people, self.buildings = city, grids, people, buildings
        self._day: date | None = None
        self._places: dict[tuple[int, str], bytes] = {}
        self._buildings: dict[int, bytes] = {}

    def _on(self, today: date) -> None:
        if today != self._day:  # contacts and heads hold their posts for given dates
            self._day = today
            self._places.clear()
            self._buildings.clear()

    def place(self, row: int, community: str, today: date) -> bytes:
        """``"street":…,"community":…,"grid":…,"contacts":[…],"party_org":…`` for the grid in
        ``row`` (``NONE``: no grid) of ``community``."""
        self._on(today)
        key = (row, community)
        found = self._places.get(key)
        if found is None:
            found = self._places[key] = to_json(self._place(row, community, today))[1:-1]
        return found

    def _place(self, row: int, community: str, today: date) -> dict[str, Any]:
        names = self.city.names
        grid = None if row == NONE else self.grids.grids[row]
        street = community[:9]
        return {
            "street": {"code": street, "name": names[street]} if street in names else None,
            "community": {"code": community, "name": names.get(community)},
            "grid": grid.json() if grid else None,
            "contacts": self.people.contacts(grid, today) if grid else [],
            "party_org": self.people.orgs.get(grid.id) if grid else None,
        }

    def building(self, index: int, today: date) -> bytes:
        """The building at ``index`` of the district's buildings with its current head."""
        self._on(today)
        found = self._buildings.get(index)
        if found is None:
            b = self.buildings
            found = self._buildings[index] = to_json(
                {**b.info[index], "head": self.people.head(b.ids[index], today)})
        return found
