"""What a CRUD resource is (geo/resources.py and geo/resources_co.py describe them): its
fields, which are personal data, how its scope key is found, its geometry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    type: type | str  # python type, or "date" / "datetime" / "json"
    required: bool = False
    writable: bool = True
    personal: bool = False
    choices: tuple[str, ...] | None = None
    filter: bool = False
    max_length: int | None = None
    # Turns user text into the stored value (None: unknown), for filters and bodies alike.
    parse: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Resource:
    name: str  # URL segment and permission key
    table: str
    fields: tuple[Field, ...]
    scope_sql: str  # scope key of row ``t`` (uses the joins below)
    joins: str = ""
    geometry: str | None = None  # "point" | "point_or_polygon" | "polygons" (stored multi)
    geom_sql: str = "t.geom"
    extra: tuple[tuple[str, str], ...] = ()  # read-only computed columns: (name, SQL)
    personal: bool = False  # the whole resource is personal data
    locate: bool = False  # fill grid / community from the geometry when not given
    label: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    creatable: bool = True  # False: created elsewhere (民情 through geo.issues.intake)
    # values worked out from others on every write (a site's 错时服务 from its hours)
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def filters(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.filter)


GRID_JOIN = "LEFT JOIN grids g ON g.id = t.grid_id"
