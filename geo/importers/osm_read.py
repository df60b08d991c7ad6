"""Reading an OSM extract: which tags mean what, and what we keep from each object.

The file is read once with pyosmium's ``FileProcessor`` (libosmium does a short first pass over
relations itself, to assemble multipolygons). Node locations are cached in memory, which is
right for a district or city extract; nothing here touches the database.

The tag tables below are data on purpose: planners ask "why is this shop not on the map?" and
the answer should be one line in a table, not a branch in code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium
import osmium.filter
import osmium.geom
import shapely
from shapely.geometry import Point, Polygon

from geo.errors import ImportRejected, Problem
from geo.importers.geometry import largest_polygon, polygons

# --- walk network -----------------------------------------------------------------------------

WALKABLE_HIGHWAYS = frozenset({
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "road", "tertiary", "tertiary_link", "secondary", "secondary_link",
    "primary", "primary_link", "track", "cycleway",
})
# Chinese urban trunk roads often have sidewalks; they count only when tagged foot=yes.
FOOT_OPT_IN_HIGHWAYS = frozenset({"trunk", "trunk_link"})
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
FOOT_FORBIDDEN = frozenset({"no", "private", "use_sidepath"})
ACCESS_FORBIDDEN = frozenset({"no", "private"})

# --- buildings --------------------------------------------------------------------------------

NOT_BUILDINGS = frozenset({"no", "roof", "ruins"})

# --- service POIs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PoiRule:
    """Every key in ``tags`` must carry one of its values (``;``-lists are split); none of the
    keys in ``unless`` may carry one of its values; the name must contain ``name_contains``."""

    category: str
    tags: Mapping[str, frozenset[str]]
    unless: Mapping[str, frozenset[str]] = field(default_factory=dict)
    name_contains: str | None = None


def _rule(category: str, *, unless: Mapping[str, set[str]] | None = None,
          name_contains: str | None = None, **tags: set[str]) -> PoiRule:
    return PoiRule(category, {k.replace("__", ":"): frozenset(v) for k, v in tags.items()},
                   {k: frozenset(v) for k, v in (unless or {}).items()}, name_contains)


_NOT_ELDERLY = {"child", "juvenile", "orphan", "homeless", "disabled", "mental_health",
                "drug_addicted", "victim", "migrant", "refugee", "diseased", "abused"}

# First match wins, so specific rules come before general ones.
POI_RULES: tuple[PoiRule, ...] = (
    _rule("breakfast", amenity={"fast_food", "restaurant", "cafe"}, cuisine={"breakfast"}),
    _rule("party_service_center", amenity={"community_centre"}, name_contains="党群"),
    _rule("convenience_store", shop={"convenience"}),
    _rule("supermarket", shop={"supermarket"}),
    _rule("market", amenity={"marketplace"}),
    _rule("market", shop={"greengrocer"}),
    _rule("pharmacy", amenity={"pharmacy"}),
    _rule("pharmacy", shop={"chemist"}),
    _rule("pharmacy", healthcare={"pharmacy"}),
    _rule("hospital", amenity={"hospital"}),
    _rule("hospital", healthcare={"hospital"}),
    _rule("clinic", amenity={"clinic", "doctors"}),
    _rule("clinic", healthcare={"clinic", "doctor", "centre"}),
    _rule("kindergarten", amenity={"kindergarten", "childcare"}),
    _rule("school", amenity={"school"}),
    _rule("elderly_care", amenity={"social_facility"},
          social_facility={"assisted_living", "nursing_home", "day_care"},
          unless={"social_facility:for": _NOT_ELDERLY}),
    _rule("elderly_care", amenity={"nursing_home"}),
    _rule("fitness", leisure={"fitness_centre", "fitness_station", "sports_centre"}),
    _rule("parcel_station", amenity={"post_office", "parcel_locker"}),
    _rule("parcel_station", shop={"parcel_pickup"}),
    _rule("laundry", shop={"laundry", "dry_cleaning"}),
    _rule("hairdresser", shop={"hairdresser", "beauty"}),
    _rule("repair", shop={"repair"}),
)
# Keys worth reading at all: an object without any of them is skipped by libosmium.
POI_KEYS = sorted({k for r in POI_RULES for k in r.tags})
INTERESTING_KEYS = sorted({"highway", "building", *POI_KEYS})


def _values(tags: Mapping[str, str], key: str) -> set[str]:
    raw = tags.get(key)
    return {v.strip() for v in raw.split(";")} if raw else set()


def display_name(tags: Mapping[str, str]) -> str | None:
    return tags.get("name:zh") or tags.get("name") or None


def classify_poi(tags: Mapping[str, str]) -> str | None:
    """Our facility category for an OSM object's tags, or None when we do not map it."""
    for rule in POI_RULES:
        if all(_values(tags, k) & vals for k, vals in rule.tags.items()) and not any(
            _values(tags, k) & vals for k, vals in rule.unless.items()
        ):
            if rule.name_contains and rule.name_contains not in (display_name(tags) or ""):
                continue
            return rule.category
    return None


def is_walkable(tags: Mapping[str, str]) -> bool:
    highway = tags.get("highway")
    foot = tags.get("foot", "")
    if foot in FOOT_FORBIDDEN:
        return False
    if highway in FOOT_OPT_IN_HIGHWAYS:
        return foot in FOOT_ALLOWED
    if highway not in WALKABLE_HIGHWAYS:
        return False
    return not (tags.get("access") in ACCESS_FORBIDDEN and foot not in FOOT_ALLOWED)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def address(tags: Mapping[str, str]) -> str | None:
    """``addr:full``, else street + house number (Chinese style: 锦江大道18号), else None."""
    if tags.get("addr:full"):
        return tags["addr:full"].strip()
    street = (tags.get("addr:street") or "").strip()
    number = (tags.get("addr:housenumber") or "").strip()
    if street and number:
        if _CJK.search(street):
            suffix = "" if number.endswith("号") or _CJK.search(number) else "号"
            return f"{street}{number}{suffix}"
        return f"{street} {number}"
    return None


def positive_int(text: str | None, *, upper: int) -> int | None:
    """A tag like ``building:levels=5`` as an int; fractions round up, junk is None."""
    if not text:
        return None
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    if not 0 < value <= upper:
        return None
    return int(-(-value // 1))


# --- what a read produces ---------------------------------------------------------------------


@dataclass
class WalkWay:
    """A walkable way, or a run of it whose node locations are all known."""

    way_id: int
    node_ids: list[int]
    coords: list[tuple[float, float]]
    highway: str
    name: str | None


@dataclass
class BuildingRecord:
    source_id: str
    tags: dict[str, str]
    footprint: Polygon


@dataclass
class PoiRecord:
    source_id: str
    category: str
    tags: dict[str, str]
    point: Point


@dataclass
class OsmData:
    ways: list[WalkWay] = field(default_factory=list)
    buildings: list[BuildingRecord] = field(default_factory=list)
    pois: list[PoiRecord] = field(default_factory=list)
    objects_read: int = 0
    notes: list[Problem] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------

_OSM_SUFFIXES = (".pbf", ".osm", ".o5m", ".o5c", ".osc", ".opl", ".gz", ".bz2")


def _open(path: Path) -> osmium.io.File:
    # libosmium picks the format from the suffix; anything else is taken to be PBF.
    if path.name.endswith(_OSM_SUFFIXES):
        return osmium.io.File(os.fspath(path))
    return osmium.io.File(os.fspath(path), "pbf")


REPAIRED = "invalid footprint repaired"


def footprint_polygon(geom: Any, where: str, notes: list[Problem]) -> Polygon | None:
    """A valid polygon for a footprint: repaired when needed, the largest part of several."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        notes.append(Problem(where, REPAIRED))
    parts = len(polygons(geom))
    if parts == 0:
        notes.append(Problem(where, "footprint has no area; skipped"))
        return None
    if parts > 1:
        notes.append(Problem(where, f"footprint has {parts} parts; kept the largest"))
    return largest_polygon(geom)


class _Collector:
    def __init__(self) -> None:
        self.data = OsmData()
        self.wkb = osmium.geom.WKBFactory()

    def node(self, obj: Any) -> None:
        tags = dict(obj.tags)
        category = classify_poi(tags)
        if category and obj.location.valid():
            point = Point(obj.location.lon, obj.location.lat)
            self.data.pois.append(PoiRecord(f"n{obj.id}", category, tags, point))

    def way(self, obj: Any) -> None:
        tags = dict(obj.tags)
        if "highway" in tags and is_walkable(tags):
            self._walk_way(obj, tags)
        building = tags.get("building")
        category = classify_poi(tags)
        if not (category or (building and building not in NOT_BUILDINGS)):
            return
        nodes = obj.nodes
        if len(nodes) < 4 or nodes[0].ref != nodes[-1].ref:
            if building and building not in NOT_BUILDINGS:
                self.data.notes.append(Problem(f"way {obj.id}", "building way is not closed"))
            return
        if not all(n.location.valid() for n in nodes):
            self.data.notes.append(Problem(f"way {obj.id}", "node locations missing; skipped"))
            return
        ring = Polygon([(n.lon, n.lat) for n in nodes])
        self._area(f"w{obj.id}", f"way {obj.id}", tags, ring, category)

    def area(self, obj: Any) -> None:
        if obj.from_way():
            return  # closed ways are handled in way(), where we see their own nodes
        tags = dict(obj.tags)
        geom = shapely.from_wkb(self.wkb.create_multipolygon(obj))
        self._area(f"r{obj.orig_id()}", f"relation {obj.orig_id()}", tags, geom,
                   classify_poi(tags))

    def _area(self, sid: str, where: str, tags: dict[str, str], geom: Any,
              category: str | None) -> None:
        poly = footprint_polygon(geom, where, self.data.notes)
        if poly is None:
            return
        if tags.get("building") and tags["building"] not in NOT_BUILDINGS:
            self.data.buildings.append(BuildingRecord(sid, tags, poly))
        if category:
            self.data.pois.append(PoiRecord(sid, category, tags, poly.point_on_surface()))

    def _walk_way(self, obj: Any, tags: dict[str, str]) -> None:
        # Nodes missing from a clipped extract break the way into runs we can still use.
        ids: list[int] = []
        coords: list[tuple[float, float]] = []
        for n in [*obj.nodes, None]:
            if n is not None and n.location.valid():
                ids.append(n.ref)
                coords.append((n.lon, n.lat))
                continue
            if len(ids) >= 2:
                self.data.ways.append(WalkWay(obj.id, ids, coords, tags["highway"],
                                              display_name(tags)))
            ids, coords = [], []


def read_osm(path: str | Path, tick: Callable[[int], None] | None = None) -> OsmData:
    """Everything we import from one OSM file; a file libosmium cannot read is rejected."""
    path = Path(path)
    collector = _Collector()
    keys = osmium.filter.KeyFilter(*INTERESTING_KEYS)
    processor = (osmium.FileProcessor(_open(path))
                 .with_locations()
                 .with_areas(osmium.filter.KeyFilter(*INTERESTING_KEYS))
                 .with_filter(keys))
    data = collector.data
    try:
        for obj in processor:
            data.objects_read += 1
            if tick is not None and data.objects_read % 10_000 == 0:
                tick(10_000)
            kind = obj.type_str()
            if kind == "n":
                collector.node(obj)
            elif kind == "w":
                collector.way(obj)
            elif kind == "a":
                collector.area(obj)
    except RuntimeError as exc:
        raise ImportRejected(str(path), [
            Problem("file", f"not a readable OSM file (expected .osm.pbf): {exc}")
        ]) from None
    return data
