"""Import an OpenStreetMap extract (.osm.pbf): walk network, building footprints, service POIs.

- Walk network: walkable ways (tag rules in ``osm_read``) are split into edges at every node
  shared by two walkable ways or used twice by one, and at their ends, so the graph routes.
  Node ids are OSM node ids; an edge keeps the full polyline between its two nodes; lengths
  are geodesic metres on the WGS84 ellipsoid. Connected components are reported, since an
  island (a campus path network, a clipped fragment) silently breaks walk-time analysis.
- Buildings: closed ways and multipolygon relations tagged building=*; footprints repaired
  with make_valid when needed (and reported); source ids ``w123`` / ``r123``.
- Facilities: nodes and areas whose tags map to one of our categories (``POI_RULES``).

With a bbox or a district, edges that reach into the region are kept whole, so routes across
its edge still work; buildings and facilities are kept when their point lies inside.

The file is read completely before the database is touched; all writes happen in one
transaction, so a bad file or a failure midway changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyproj
import shapely
from shapely.geometry import LineString

from geo.categories import BY_CODE, ensure_categories
from geo.errors import InvalidInput, Problem
from geo.importers import osm_write
from geo.importers.osm_read import (
    POI_RULES,
    REPAIRED,
    OsmData,
    WalkWay,
    address,
    display_name,
    positive_int,
    read_osm,
)
from geo.importers.store import audit_import

__all__ = ["POI_RULES", "OsmImportResult", "WalkComponent", "import_osm", "parse_bbox"]

BBox = tuple[float, float, float, float]
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True)
class WalkComponent:
    """A connected piece of the walk network; ``node_id`` is one OSM node in it."""

    nodes: int
    edges: int
    node_id: int
    lon: float
    lat: float


@dataclass
class OsmImportResult:
    source: str
    nodes: int = 0
    edges: int = 0
    buildings: int = 0
    facilities: int = 0
    facilities_by_category: dict[str, int] = field(default_factory=dict)
    # Every component of the walk network except the largest, biggest first.
    disconnected: list[WalkComponent] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


@dataclass
class _Edge:
    source: int
    target: int
    coords: list[tuple[float, float]]
    highway: str
    name: str | None


def parse_bbox(value: str | Sequence[float] | None) -> BBox | None:
    """``minlon,minlat,maxlon,maxlat`` (WGS84), as text or four numbers, checked; None for
    none. (The API has its own query parameter parser in ``api.deps``.)"""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parts = re.split(r"[,\s]+", value.strip()) if isinstance(value, str) else list(value)
    try:
        w, s, e, n = (float(p) for p in parts if p != "")
    except (TypeError, ValueError):
        raise InvalidInput(f"bbox {value!r}: expected four numbers minlon,minlat,maxlon,maxlat"
                           ) from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidInput(f"bbox {w},{s},{e},{n}: need minlon < maxlon and minlat < maxlat, "
                           "in degrees (lon, lat order)")
    return (w, s, e, n)


# --- walk network -----------------------------------------------------------------------------


def split_ways(ways: Sequence[WalkWay]) -> list[_Edge]:
    """Edges between junctions: nodes used more than once across walkable ways, and way ends."""
    uses = Counter(nid for w in ways for nid in w.node_ids)
    edges: list[_Edge] = []
    for w in ways:
        last = len(w.node_ids) - 1
        cuts = [0, *(i for i in range(1, last) if uses[w.node_ids[i]] > 1), last]
        for a, b in pairwise(cuts):
            _add_edge(edges, w, a, b)
    return edges


def _add_edge(edges: list[_Edge], w: WalkWay, a: int, b: int) -> None:
    if w.node_ids[a] == w.node_ids[b]:
        # A loop (a closed footway round a pond) would be an edge from a node to itself,
        # which routes nowhere; split it at its middle vertex instead.
        if b - a >= 2:
            mid = (a + b) // 2
            _add_edge(edges, w, a, mid)
            _add_edge(edges, w, mid, b)
        return
    coords = [c for i, c in enumerate(w.coords[a:b + 1]) if i == 0 or c != w.coords[a + i - 1]]
    if len(coords) >= 2:
        edges.append(_Edge(w.node_ids[a], w.node_ids[b], coords, w.highway, w.name))


def geodesic_lengths(coord_lists: Sequence[Sequence[tuple[float, float]]]) -> np.ndarray:
    """Geodesic length in metres of each polyline, in one vectorised call."""
    if not coord_lists:
        return np.zeros(0)
    counts = np.array([len(c) for c in coord_lists])
    flat = np.concatenate([np.asarray(c, dtype=np.float64) for c in coord_lists])
    _, _, dist = _GEOD.inv(flat[:-1, 0], flat[:-1, 1], flat[1:, 0], flat[1:, 1])
    dist = np.asarray(dist, dtype=np.float64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    dist[starts[1:] - 1] = 0.0  # the step from one polyline's end to the next one's start
    return np.add.reduceat(dist, starts)


def components(edges: Sequence[_Edge], xy: dict[int, tuple[float, float]]) -> list[WalkComponent]:
    """Connected components, largest first (union-find with path halving)."""
    ids = sorted(xy)
    index = {nid: i for i, nid in enumerate(ids)}
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for e in edges:
        a, b = root(index[e.source]), root(index[e.target])
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = [root(i) for i in range(len(ids))]
    node_counts = Counter(roots)
    edge_counts = Counter(roots[index[e.source]] for e in edges)
    found = [WalkComponent(n, edge_counts[r], ids[r], *xy[ids[r]])
             for r, n in node_counts.items()]
    return sorted(found, key=lambda c: (-c.nodes, c.node_id))


# --- the import -------------------------------------------------------------------------------


def _region(conn: psycopg.Connection, district_code: str | None, bbox: BBox | None) -> Any:
    region = shapely.box(*bbox) if bbox else None
    if district_code:
        area = osm_write.district_region(conn, district_code)
        region = area if region is None else shapely.intersection(area, region)
    if region is not None:
        shapely.prepare(region)
    return region


def _inside(region: Any, geoms: Sequence[Any]) -> np.ndarray:
    if region is None:
        return np.ones(len(geoms), dtype=bool)
    return np.asarray(shapely.intersects(region, np.asarray(geoms, dtype=object)), dtype=bool)


def _network_rows(
    data: OsmData, region: Any
) -> tuple[list[tuple[int, float, float]], list[tuple[Any, ...]], list[WalkComponent]]:
    edges = split_ways(data.ways)
    lines = [LineString(e.coords) for e in edges]
    keep = _inside(region, lines)
    edges = [e for e, k in zip(edges, keep, strict=True) if k]
    lines = [g for g, k in zip(lines, keep, strict=True) if k]
    lengths = geodesic_lengths([e.coords for e in edges])
    xy: dict[int, tuple[float, float]] = {}
    for e in edges:
        xy[e.source] = e.coords[0]
        xy[e.target] = e.coords[-1]
    nodes = [(nid, x, y) for nid, (x, y) in sorted(xy.items())]
    rows = [(e.source, e.target, float(m), e.highway, e.name, g)
            for e, m, g in zip(edges, lengths, lines, strict=True)]
    return nodes, rows, components(edges, xy)


def _building_rows(data: OsmData, region: Any) -> list[tuple[Any, ...]]:
    rows = []
    points = [b.footprint.point_on_surface() for b in data.buildings]
    for b, point, keep in zip(data.buildings, points, _inside(region, points), strict=True):
        if not keep:
            continue
        kind = "way" if b.source_id.startswith("w") else "relation"
        label = (address(b.tags) or display_name(b.tags)
                 or f"OSM {kind} {b.source_id[1:]}")
        households = positive_int(b.tags.get("building:flats"), upper=100_000) or 0
        floors = positive_int(b.tags.get("building:levels"), upper=300)
        rows.append((label, display_name(b.tags), households, floors, b.footprint, point,
                     b.source_id))
    return rows


def _facility_rows(data: OsmData, region: Any) -> list[tuple[Any, ...]]:
    rows = []
    for p, keep in zip(data.pois, _inside(region, [p.point for p in data.pois]), strict=True):
        if not keep:
            continue
        name = display_name(p.tags) or BY_CODE[p.category].name_zh
        phone = p.tags.get("phone") or p.tags.get("contact:phone")
        rows.append((p.category, name, address(p.tags), phone, p.tags.get("opening_hours"),
                     p.point, p.source_id))
    return rows


class _Display:
    """A rich progress display on stderr, or nothing at all."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.bar: Any = None
        self.label = label
        self.count = 0
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed:,.0f}"), TimeElapsedColumn(),
                                console=Console(stderr=True))

    def __enter__(self) -> _Display:
        if self.bar is not None:
            self.bar.start()
            self.reading = self.bar.add_task(f"reading {self.label}", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def read(self, n: int) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.advance(self.reading, n)

    def step(self, what: str) -> None:
        if self.bar is not None:
            self.bar.update(self.reading, total=max(self.count, 1), completed=self.count)
            self.bar.add_task(what, total=1, completed=1)


def import_osm(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    district_code: str | None = None,
    bbox: Sequence[float] | None = None,
    progress: bool = False,
    actor: str = "system",
) -> OsmImportResult:
    """Import walk network, buildings and facilities from an OSM file; see the module doc.
    Audited as ``import.osm``."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if district_code is not None and not re.fullmatch(r"\d{6}", district_code):
        raise InvalidInput(f"district code {district_code!r}: expected a 6-digit adcode")
    box = parse_bbox(bbox)
    result = OsmImportResult(source=str(path))
    with _Display(progress, path.name) as shown:
        data = read_osm(path, tick=shown.read)
        result.notes = data.notes
        with conn.transaction():
            region = _region(conn, district_code, box)
            ensure_categories(conn)
            nodes, edges, found = _network_rows(data, region)
            shown.step(f"walk network: {len(nodes):,} nodes, {len(edges):,} edges")
            osm_write.write_walk_network(conn, nodes, edges, district_code)
            buildings = _building_rows(data, region)
            result.buildings = osm_write.write_buildings(conn, buildings)
            shown.step(f"buildings: {result.buildings:,}")
            facilities = _facility_rows(data, region)
            result.facilities = osm_write.write_facilities(conn, facilities)
            shown.step(f"facilities: {result.facilities:,}")
            audit_import(conn, actor, "osm", path,
                         count=len(nodes) + len(edges) + result.buildings + result.facilities,
                         crs="wgs84", repaired=sum(n.what == REPAIRED for n in data.notes),
                         nodes=len(nodes), edges=len(edges), buildings=result.buildings,
                         facilities=result.facilities, district=district_code,
                         bbox=list(box) if box else None)
    result.nodes, result.edges = len(nodes), len(edges)
    result.disconnected = found[1:]
    result.facilities_by_category = dict(Counter(r[0] for r in facilities).most_common())
    return result
