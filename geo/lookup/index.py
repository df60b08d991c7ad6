"""The lookup's in-memory indexes: pure (shapely 2 STRtrees over arrays read in bulk), no
database, no HTTP. ``geo.lookup.cache`` builds them from ``geo.db.queries.lookup`` and keeps
them fresh; ``geo.lookup.answer`` asks them questions.

- Covering (point in polygon) runs on the pieces PostGIS subdivided (``active_grid_parts``,
  ``ST_Subdivide`` of the communities) with the predicate *covered_by*: a point on a shared
  edge is in both polygons and the smallest code wins, the same way every time.
- Distances (near a grid edge, snap to the walk network) are measured in the district's
  CGCS2000 Gauss-Krüger zone (scale error ≤ 0.14 %, centimetres at the 30 m of a boundary).
- Snap fractions are of the edge's lon/lat geometry, as ``ST_LineLocatePoint`` gives them and
  as ``geo.network`` cuts routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree

from geo.crs import metric_epsg, metric_transformer, to_metric
from geo.db.queries.lookup import HEAD_ROLE
from geo.network import Edges, Site, Snap, WalkNetwork
from geo.privacy import mask_phone

Box = tuple[float, float, float, float]
Geoms = npt.NDArray[np.object_]
ROLE_ZH = {"grid_worker_full": "专职网格员", "grid_worker_part": "兼职网格员",
           "grid_leader": "网格长", "grid_assistant": "网格协管员", "building_head": "楼栋长"}
ORG_ZH = {"grid_branch": "网格党支部", "grid_group": "网格党小组", "building_group": "楼栋党小组",
          "community_committee": "社区大党委", "street_working_committee": "街道大工委",
          "unit_branch": "单位党支部", "alliance": "党建联盟"}


def public_phone(personal: str | None, work: str | None) -> tuple[str | None, bool]:
    """A work number is public; a personal number only masked (138****5678)."""
    if work:
        return work, False
    masked = mask_phone(personal)
    return masked, masked is not None


def at(x: float, y: float) -> Geoms:
    """A point as a one-element geometry array: shapely's array calls skip the scalar
    handling that costs more than the query itself on a small tree."""
    return shapely.points(np.array([[x, y]]))


def _covering(tree: STRtree, point: Geoms) -> npt.NDArray[np.intp]:
    return tree.query(point, predicate="covered_by")[1]


# -- the city: area names and which community covers a point ------------------------------

@dataclass
class City:
    names: dict[str, str]
    part_code: list[str]  # community code of each piece
    tree: STRtree
    boxes: dict[str, Box]  # district code → box of its communities

    @classmethod
    def build(cls, areas: Sequence[tuple[str, str, str]], parts: Sequence[tuple[str, bytes]]
              ) -> City:
        codes = [code for code, _ in parts]
        geoms = shapely.from_wkb([wkb for _, wkb in parts])
        boxes: dict[str, Box] = {}
        if len(geoms):
            bounds = shapely.bounds(geoms)
            for code, (w, s, e, n) in zip(codes, bounds.tolist(), strict=True):
                old = boxes.get(code[:6], (w, s, e, n))
                boxes[code[:6]] = (min(old[0], w), min(old[1], s), max(old[2], e), max(old[3], n))
        return cls({code: name for code, name, _ in areas}, codes, STRtree(geoms), boxes)

    def districts_around(self, lon: float, lat: float) -> list[str]:
        """Districts whose box holds the point (a cheap first cut; boxes overlap)."""
        return [d for d, (w, s, e, n) in self.boxes.items() if w <= lon <= e and s <= lat <= n]

    def community(self, point: Geoms) -> str | None:
        hits = _covering(self.tree, point)
        return min(self.part_code[i] for i in hits) if len(hits) else None


# -- the grids of a district ----------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    id: int
    code: str
    name: str
    kind: str
    households: int | None
    community_code: str | None
    row: int  # its place in ``Grids.grids``

    def json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "kind": self.kind,
                "households": self.households}


@dataclass
class Grids:
    grids: list[Grid]  # by code: the smallest row is the smallest code
    part_grid: npt.NDArray[np.intp]
    tree: STRtree  # pieces in lon/lat
    parts_m: Geoms  # the same pieces in the metric zone
    tree_m: STRtree
    outlines_m: Geoms  # each grid's whole boundary, metric, by row
    overlapping: npt.NDArray[np.bool_]  # the grid's interior meets another grid's, by row
    epsg: int

    @classmethod
    def build(cls, rows: Sequence[tuple[Any, ...]], outlines: Sequence[tuple[int, bytes]],
              epsg: int) -> Grids:
        grids: list[Grid] = []
        index: dict[int, int] = {}
        part_grid = []
        for gid, code, name, kind, households, community, _ in rows:
            if gid not in index:
                index[gid] = len(grids)
                grids.append(Grid(gid, code, name, kind, households, community, len(grids)))
            part_grid.append(index[gid])
        parts = shapely.from_wkb([r[6] for r in rows])
        parts_m = to_metric(parts, epsg)
        by_row = np.empty(len(grids), dtype=object)
        for gid, wkb in outlines:
            by_row[index[gid]] = shapely.from_wkb(wkb)
        part_of = np.asarray(part_grid, dtype=np.intp)
        return cls(grids, part_of, STRtree(parts), parts_m, STRtree(parts_m),
                   to_metric(by_row, epsg), _overlapping(parts, part_of, len(grids)), epsg)

    def metric_point(self, lon: float, lat: float) -> Geoms:
        """The point in the district's metric zone (the transformer of the calling thread)."""
        return at(*metric_transformer(self.epsg).transform(lon, lat))

    def covering(self, point: Geoms) -> Grid | None:
        hits = _covering(self.tree, point)
        return self.grids[int(self.part_grid[hits].min())] if len(hits) else None

    def near(self, point_m: Geoms, within_m: float, hit: Grid | None
             ) -> list[tuple[Grid, float]]:
        """Grids other than ``hit`` within ``within_m`` metres, nearest first (then by code).

        Shortcut: grids that do not overlap tile the plane, so a grid that overlaps no other
        and whose own outline is farther than ``within_m`` has no neighbour that near."""
        if (hit is not None and not self.overlapping[hit.row]
                and self.outlines_m[hit.row].distance(point_m[0]) > within_m):
            return []
        hits = self.tree_m.query(point_m, predicate="dwithin",
                                 distance=np.array([within_m]))[1]
        if not len(hits):
            return []
        dist = shapely.distance(self.parts_m[hits], point_m[0])
        best: dict[int, float] = {}
        for g, d in zip(self.part_grid[hits].tolist(), dist.tolist(), strict=True):
            if d < best.get(g, np.inf):
                best[g] = d
        out = [(self.grids[g], d) for g, d in best.items() if self.grids[g] is not hit]
        return sorted(out, key=lambda gd: (gd[1], gd[0].code))


def _overlapping(parts: Geoms, part_grid: npt.NDArray[np.intp], n: int) -> npt.NDArray[np.bool_]:
    """Grids whose interior meets another grid's interior (DE-9IM ``T********``)."""
    out = np.zeros(n, dtype=bool)
    if not len(parts):
        return out
    a, b = STRtree(parts).query(parts, predicate="intersects")
    other = part_grid[a] != part_grid[b]
    a, b = a[other], b[other]
    meet = shapely.relate_pattern(parts[a], parts[b], "T********")
    out[part_grid[a[meet]]] = True
    return out


# -- people: published contacts, heads, party organisations --------------------------------

@dataclass(frozen=True)
class Contact:
    card: dict[str, Any]  # what the public sees (phone already masked)
    valid_from: date
    valid_to: date | None

    def current(self, today: date) -> bool:
        return self.valid_from <= today and (self.valid_to is None or self.valid_to >= today)


@dataclass
class People:
    by_grid: dict[int, list[Contact]] = field(default_factory=dict)
    heads: dict[int, list[Contact]] = field(default_factory=dict)
    orgs: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def build(cls, contacts: Sequence[tuple[Any, ...]], orgs: Sequence[tuple[int, str, str]]
              ) -> People:
        out = cls()
        for grid_id, building_id, role, name, personal, work, start, end in contacts:
            phone, masked = public_phone(personal, work)
            card = {"role": role, "role_zh": ROLE_ZH.get(role, role), "name": name,
                    "phone": phone, "phone_is_masked": masked}
            contact = Contact(card, start, end)
            if role == HEAD_ROLE:
                card.pop("role")
                out.heads.setdefault(building_id, []).append(contact)
            else:
                out.by_grid.setdefault(grid_id, []).append(contact)
        for grid_id, name, kind in orgs:
            out.orgs[grid_id] = {"name": name, "kind": kind, "kind_zh": ORG_ZH.get(kind, kind)}
        return out

    def contacts(self, grid: Grid, today: date) -> list[dict[str, Any]]:
        return [c.card for c in self.by_grid.get(grid.id, ()) if c.current(today)]

    def head(self, building_id: int, today: date) -> dict[str, Any] | None:
        return next((c.card for c in self.heads.get(building_id, ()) if c.current(today)), None)


# -- buildings ------------------------------------------------------------------------------

@dataclass
class Buildings:
    ids: list[int]
    info: list[dict[str, Any]]
    tree: STRtree

    @classmethod
    def build(cls, rows: Sequence[tuple[Any, ...]]) -> Buildings:
        return cls([r[0] for r in rows],
                   [{"address": r[1], "compound": r[2], "households": r[3]} for r in rows],
                   STRtree(shapely.from_wkb([r[4] for r in rows])))

    def covering(self, point: Geoms) -> int | None:
        """Index of the building (smallest id) whose footprint covers the point."""
        hits = _covering(self.tree, point)
        return int(hits.min()) if len(hits) else None


# -- the walk network -----------------------------------------------------------------------

@dataclass
class EdgeSnapper:
    """The nearest walk edge in metres, and the fraction along it in lon/lat."""

    ids: list[int]
    lines: Geoms  # lon/lat
    lines_m: Geoms
    tree_m: STRtree
    epsg: int

    @classmethod
    def build(cls, edges: Edges, epsg: int) -> EdgeSnapper:
        lines = shapely.linestrings(list(edges.coords)) if len(edges.ids) else np.empty(0, object)
        lines_m = to_metric(lines, epsg)
        return cls(edges.ids.tolist(), lines, lines_m, STRtree(lines_m), epsg)

    def snap(self, point: Geoms, point_m: Geoms | None = None) -> Snap | None:
        """``point`` in lon/lat (see ``at``); ``point_m`` the same in the metric zone when
        known."""
        if not self.ids:
            return None
        if point_m is None:
            p = point[0]
            point_m = at(*metric_transformer(self.epsg).transform(p.x, p.y))
        hits = self.tree_m.query_nearest(point_m, all_matches=True)[1]
        i = min(hits.tolist(), key=lambda k: self.ids[k])  # ties: the smallest edge id
        t = self.lines[i].line_locate_point(point[0], normalized=True)
        return Snap(self.ids[i], float(t), float(self.lines_m[i].distance(point_m[0])))


@dataclass(frozen=True)
class Centre:
    """A 党群服务中心 as the public sees it, and where it meets the network."""

    site: Site
    name: str
    address: str | None
    opening_hours: str | None


@dataclass
class Network:
    """A district's walk network, its centres and the nearest centre of every node."""

    snapper: EdgeSnapper
    centres: dict[int, Centre]
    network: WalkNetwork | None  # None: the district has no walk edges

    @classmethod
    def build(cls, edges: Edges, centres: Sequence[tuple[Any, ...]], epsg: int) -> Network:
        snapper = EdgeSnapper.build(edges, epsg)
        found = {}
        for fid, name, address, hours, lon, lat in centres:
            site = Site(int(fid), float(lon), float(lat), snapper.snap(at(lon, lat)))
            found[site.key] = Centre(site, name, address, hours)
        network = (WalkNetwork(edges, [c.site for c in found.values()])
                   if len(edges.ids) else None)
        return cls(snapper, found, network)


def district_epsg(box: Box) -> int:
    """The Gauss-Krüger zone of a district: the one of its centre."""
    return metric_epsg((box[0] + box[2]) / 2.0)
