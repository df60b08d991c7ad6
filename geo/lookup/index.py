"""The lookup's in-memory indexes: pure (shapely 2 STRtrees over arrays read in bulk), no
database, no HTTP. ``geo.lookup.cache`` builds them from ``geo.db.queries.lookup`` and keeps
them fresh; ``geo.lookup.answer`` asks them questions.

- Covering (point in polygon) runs on the pieces PostGIS subdivided (``active_grid_parts``,
  ``ST_Subdivide`` of the communities) with the predicate *covered_by*: a point on a shared
  edge is in both polygons and the smallest code wins, the same way every time.
- Distances go through a district's ``Frame``: lon/lat scaled to metres at the district's
  centre (one multiplication, no projection call), exact there and off by a known ``slack``
  (a few tenths of a percent) at the district's edges. Snapping to the walk network is done
  in it (the nearest edge and the offset to it: centimetres of a walk). "Near a grid edge" is
  searched in it with the limit widened by the slack, and each short vector from the point
  to a neighbouring grid is then measured at the point's own scale (``Frame.length``: the
  ellipsoid's metres per degree at its latitude), within a tenth of a millimetre of the
  geodesic at 30 m.
- Snap fractions are of the edge's lon/lat geometry, as ``ST_LineLocatePoint`` gives them and
  as ``geo.network`` cuts routes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree

from geo.db.queries.lookup import HEAD_ROLE
from geo.network import Edges, Snap
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


Rows = npt.NDArray[np.intp]
NONE = -1


_A = 6378137.0  # WGS84 semi-major axis, metres
_E2 = 6.69437999014e-3  # WGS84 first eccentricity squared
_RAD = math.pi / 180.0


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at latitude ``lat`` (WGS84 ellipsoid:
    the radii of the parallel and of the meridian)."""
    phi = math.radians(lat)
    w = 1.0 - _E2 * math.sin(phi) ** 2
    return _RAD * _A * math.cos(phi) / math.sqrt(w), _RAD * _A * (1.0 - _E2) / w ** 1.5


@dataclass(frozen=True)
class Frame:
    """Lon/lat scaled to metres at a district's centre (x·kx, y·ky). Across the box it is
    made for, a distance measured in it is within ``slack`` (relative) of the true one."""

    kx: float
    ky: float
    slack: float
    scale: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", np.array([self.kx, self.ky]))

    @classmethod
    def of(cls, box: Box) -> Frame:
        kx, ky = metres_per_degree((box[1] + box[3]) / 2.0)
        worst = 0.0
        for edge in (box[1], box[3]):  # the scale of longitude changes with latitude
            ex, ey = metres_per_degree(edge)
            worst = max(worst, abs(ex / kx - 1.0), abs(ey / ky - 1.0))
        # plus the curvature of a few hundred metres and rounding: far below 0.1 %
        return cls(kx, ky, worst + 1e-3)

    def points(self, coords: npt.NDArray[np.float64]) -> Geoms:
        """Points in the frame from an (n, 2) array of lon, lat."""
        return shapely.points(coords * self.scale)

    def geometries(self, geoms: Geoms) -> Geoms:
        return shapely.transform(geoms, lambda c: c * self.scale)

    def length(self, dx: float, dy: float, lat: float) -> float:
        """The true length in metres of a short frame vector (dx, dy) at latitude ``lat``:
        measured at that place's scale rather than the centre's."""
        kx, ky = metres_per_degree(lat)
        return math.hypot(dx * (kx / self.kx), dy * (ky / self.ky))


def points_at(coords: npt.ArrayLike) -> Geoms:
    """Points, from an (n, 2) array of x, y, as a geometry array. Every question below takes
    a batch of points: one shapely call for many points costs little more than for one (the
    per-call overhead dominates on trees of this size), so concurrent lookups are answered
    together."""
    return shapely.points(np.asarray(coords, dtype=np.float64))


def _smallest(pairs: npt.NDArray[np.intp], values: Rows | None, n: int) -> list[int]:
    """For each of ``n`` inputs, the smallest ``values[tree index]`` (the tree index itself
    when ``values`` is None) among its query pairs; ``NONE`` when it has none."""
    found = pairs[1] if values is None else values[pairs[1]]
    if n == 1:  # a lone request: plain Python beats numpy's reductions on a few numbers
        return [min(found.tolist(), default=NONE)]
    best = [NONE] * n
    for i, v in zip(pairs[0].tolist(), found.tolist(), strict=True):
        if best[i] == NONE or v < best[i]:
            best[i] = v
    return best


# -- the city: area names and which community covers a point ------------------------------

@dataclass
class City:
    names: dict[str, str]
    codes: list[str]  # community codes, sorted
    part_rank: Rows  # for each piece, its community's place in ``codes``
    tree: STRtree
    boxes: dict[str, Box]  # district code → box of its communities

    @classmethod
    def build(cls, areas: Sequence[tuple[str, str, str]], parts: Sequence[tuple[str, bytes]]
              ) -> City:
        part_code = [code for code, _ in parts]
        geoms = shapely.from_wkb([wkb for _, wkb in parts])
        boxes: dict[str, Box] = {}  # by code
        if len(geoms):
            bounds = shapely.bounds(geoms)
            for code, (w, s, e, n) in zip(part_code, bounds.tolist(), strict=True):
                old = boxes.get(code[:6], (w, s, e, n))
                boxes[code[:6]] = (min(old[0], w), min(old[1], s), max(old[2], e), max(old[3], n))
        codes = sorted(set(part_code))
        rank = {code: i for i, code in enumerate(codes)}
        return cls({code: name for code, name, _ in areas}, codes,
                   np.array([rank[c] for c in part_code], dtype=np.intp), STRtree(geoms),
                   dict(sorted(boxes.items())))

    def district_at(self, lon: float, lat: float) -> str | None:
        """The first district (by code) whose communities' box holds the point: a guess, since
        boxes of neighbouring districts overlap and a box has corners outside."""
        for code, (w, s, e, n) in self.boxes.items():
            if w <= lon <= e and s <= lat <= n:
                return code
        return None

    def communities(self, points: Geoms) -> list[str | None]:
        """The community covering each point (on a shared edge: the smallest code)."""
        pairs = self.tree.query(points, predicate="covered_by")
        return [None if k == NONE else self.codes[k]
                for k in _smallest(pairs, self.part_rank, len(points))]


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
    part_grid: Rows
    tree: STRtree  # pieces in lon/lat
    parts_s: Geoms  # the same pieces in the frame
    tree_s: STRtree
    outlines: Geoms  # each grid's whole boundary, in the frame, by row
    overlapping: list[bool]  # the grid's interior meets another grid's, by row
    frame: Frame

    @classmethod
    def build(cls, rows: Sequence[tuple[Any, ...]], outlines: Sequence[tuple[int, bytes]],
              frame: Frame) -> Grids:
        grids: list[Grid] = []
        index: dict[int, int] = {}
        part_grid = []
        for gid, code, name, kind, households, community, _ in rows:
            if gid not in index:
                index[gid] = len(grids)
                grids.append(Grid(gid, code, name, kind, households, community, len(grids)))
            part_grid.append(index[gid])
        parts = shapely.from_wkb([r[6] for r in rows])
        parts_s = frame.geometries(parts)
        by_row = np.empty(len(grids), dtype=object)
        for gid, wkb in outlines:
            by_row[index[gid]] = shapely.from_wkb(wkb)
        part_of = np.asarray(part_grid, dtype=np.intp)
        return cls(grids, part_of, STRtree(parts), parts_s, STRtree(parts_s),
                   frame.geometries(by_row), _overlapping(parts, part_of, len(grids)).tolist(),
                   frame)

    def covering(self, points: Geoms) -> list[int]:
        """The row of the grid covering each point (smallest code), ``NONE`` outside."""
        pairs = self.tree.query(points, predicate="covered_by")
        return _smallest(pairs, self.part_grid, len(points))

    def near(self, lats: npt.NDArray[np.float64], points_s: Geoms, hits: list[int],
             within_m: float) -> list[list[tuple[Grid, float]]]:
        """For each point (``points_s`` in the frame, ``lats`` their latitudes), the grids
        other than its own within ``within_m`` metres, nearest first (then by code).

        Shortcut: grids that do not overlap tile the plane, so a point whose own grid overlaps
        no other and whose outline is farther than ``within_m`` (plus the frame's slack) has
        no neighbour that near. For the others, the pieces within that widened distance are
        found in the frame, and the vector from each piece's nearest point to the point is
        measured at the point's own scale."""
        out: list[list[tuple[Grid, float]]] = [[] for _ in range(len(points_s))]
        own = hits
        overlapping, outlines = self.overlapping, self.outlines
        wide = within_m * (1.0 + self.frame.slack)
        todo = [i for i, g in enumerate(own)
                if g == NONE or overlapping[g] or outlines[g].distance(points_s[i]) <= wide]
        if not todo:
            return out
        pairs = self.tree_s.query(points_s[todo], predicate="dwithin",
                                  distance=np.full(len(todo), wide))
        which = np.asarray(todo, dtype=np.intp)[pairs[0]]
        ends = shapely.get_coordinates(
            shapely.shortest_line(self.parts_s[pairs[1]], points_s[which])).tolist()
        best: dict[tuple[int, int], float] = {}
        for k, (i, g) in enumerate(zip(which.tolist(), self.part_grid[pairs[1]].tolist(),
                                       strict=True)):
            if g == own[i]:
                continue
            (x0, y0), (x1, y1) = ends[2 * k], ends[2 * k + 1]
            d = self.frame.length(x1 - x0, y1 - y0, float(lats[i]))
            if d <= within_m and d < best.get((i, g), math.inf):
                best[(i, g)] = d
        for (i, g), d in best.items():
            out[i].append((self.grids[g], d))
        for found in out:
            found.sort(key=lambda gd: (gd[1], gd[0].code))
        return out


def _overlapping(parts: Geoms, part_grid: Rows, n: int) -> npt.NDArray[np.bool_]:
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
    ids: list[int]  # ascending
    info: list[dict[str, Any]]
    tree: STRtree

    @classmethod
    def build(cls, rows: Sequence[tuple[Any, ...]]) -> Buildings:
        return cls([r[0] for r in rows],
                   [{"address": r[1], "compound": r[2], "households": r[3]} for r in rows],
                   STRtree(shapely.from_wkb([r[4] for r in rows])))

    def covering(self, points: Geoms) -> list[int]:
        """For each point, the index of the building (smallest id) whose footprint covers
        it, ``NONE`` outside every footprint."""
        pairs = self.tree.query(points, predicate="covered_by")
        return _smallest(pairs, None, len(points))


# -- the walk network -----------------------------------------------------------------------

@dataclass
class EdgeSnapper:
    """The nearest walk edge and the offset to it, in the district's frame; the fraction
    along it in lon/lat."""

    ids: list[int]  # ascending
    lines: Geoms  # lon/lat
    tree: STRtree  # the same lines in the frame
    frame: Frame

    @classmethod
    def build(cls, edges: Edges, frame: Frame) -> EdgeSnapper:
        order = np.argsort(edges.ids, kind="stable")
        coords = [edges.coords[i] for i in order.tolist()]
        # one call for lines of any number of vertices (a list of unequal arrays is refused)
        lines = (shapely.linestrings(np.concatenate(coords), indices=np.repeat(
            np.arange(len(coords)), [len(c) for c in coords])) if coords
                 else np.empty(0, object))
        return cls(edges.ids[order].tolist(), lines, STRtree(frame.geometries(lines)), frame)

    def snap(self, points: Geoms, points_s: Geoms) -> list[Snap | None]:
        """Each point's snap (``points`` in lon/lat, ``points_s`` the same in the frame)."""
        if not self.ids or not len(points):
            return [None] * len(points)
        pairs, dist = self.tree.query_nearest(points_s, all_matches=True, return_distance=True)
        # ids ascend, so the smallest index among equally near edges is the smallest id
        if len(points) == 1:  # a lone request: scalars all the way
            e = min(pairs[1].tolist())
            return [Snap(self.ids[e], float(shapely.line_locate_point(
                self.lines[e], points[0], normalized=True)), float(dist[0]))]
        edge = np.array(_smallest(pairs, None, len(points)), dtype=np.intp)
        t = shapely.line_locate_point(self.lines[edge], points, normalized=True)
        d = np.empty(len(points))
        d[pairs[0]] = dist  # the matches of one point are equally near
        return [Snap(self.ids[i], tt, dd)
                for i, tt, dd in zip(edge.tolist(), t.tolist(), d.tolist(), strict=True)]
