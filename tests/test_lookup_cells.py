"""The cell indexes (geo.lookup.cells) give the trees' answers (geo.lookup.index) on the demo
district: random points, and the awkward ones, exactly on grid edges and vertices, on
footprint edges, on walk-network nodes (equally near edges) and at the near-boundary limit."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest
import shapely
from psycopg_pool import AsyncConnectionPool

from geo.db.connect import database_url
from geo.lookup import LookupCache
from geo.lookup.cache import District
from geo.lookup.cells import Lattice
from geo.lookup.index import NONE, Frame
from geo.settings import Settings

NEAR_M = 30.0


@pytest.fixture(scope="module")
def district(test_settings: Settings) -> District:
    """The demo district's parts with their cell indexes built."""
    async def main() -> District:
        async with AsyncConnectionPool(database_url(test_settings), open=False,
                                       kwargs={"autocommit": True}) as pool:
            cache = LookupCache(pool, near_m=NEAR_M)
            city = await cache.city()
            (code,) = city.boxes
            found = await cache.district(city, code)
            await found.cells.ready()
            return found
    return asyncio.run(main())


def _offsets(lines: Any, frame: Frame, by_m: list[float]) -> list[tuple[float, float]]:
    """Points ``by_m`` metres either side of the middle of every segment of ``lines``."""
    out = []
    coords = shapely.get_coordinates(lines)
    for (x0, y0), (x1, y1) in zip(coords[:-1].tolist(), coords[1:].tolist(), strict=True):
        dx, dy = (x1 - x0) * frame.kx, (y1 - y0) * frame.ky
        length = math.hypot(dx, dy)
        if not 1.0 < length < 2000.0:  # also skips the jumps between rings
            continue
        for d in by_m:
            out.append(((x0 + x1) / 2 - dy / length * d / frame.kx,
                        (y0 + y1) / 2 + dx / length * d / frame.ky))
    return out


def awkward_points(district: District) -> list[tuple[float, float]]:
    grids, buildings = district.grids, district.buildings
    lattice = district.cells.grids.value.lattice  # type: ignore[union-attr]
    rng = np.random.default_rng(20261122)
    w, s = lattice.west, lattice.south
    e, n = w + lattice.nx * lattice.dlon, s + lattice.ny * lattice.dlat
    points = list(zip(rng.uniform(w, e, 3000).tolist(), rng.uniform(s, n, 3000).tolist(),
                      strict=True))
    outlines = shapely.transform(grids.outlines, lambda c: c / grids.frame.scale)
    on_edges = shapely.get_coordinates(outlines).tolist()
    points += [tuple(p) for p in on_edges[::3]]  # grid vertices
    points += [tuple(p) for p in shapely.get_coordinates(  # points interpolated on edges
        shapely.line_interpolate_point(outlines, 0.37, normalized=True)).tolist()]
    points += _offsets(outlines[:60], grids.frame, [-30.05, -29.95, 29.95, 30.05, 3.0])
    pieces = grids.tree.geometries  # inside two overlapping grids at once
    a, b = grids.tree.query(pieces, predicate="overlaps")
    both = shapely.intersection(pieces[a], pieces[b])
    both = both[shapely.area(both) > 0]
    points += [tuple(p) for p in shapely.get_coordinates(shapely.point_on_surface(both))]
    footprints = buildings.tree.geometries
    points += [tuple(p) for p in shapely.get_coordinates(footprints[::4]).tolist()]
    points += [tuple(p) for p in shapely.get_coordinates(
        shapely.point_on_surface(footprints[::4])).tolist()]
    lines = district.network.snapper.lines
    points += [tuple(p) for p in shapely.get_coordinates(lines[::5]).tolist()]  # nodes
    points += [tuple(p) for p in shapely.get_coordinates(
        shapely.line_interpolate_point(lines[::5], 0.5, normalized=True)).tolist()]
    return [(float(x), float(y)) for x, y in points]


def test_grid_cells_give_the_trees_answers(district: District) -> None:
    grids, cells = district.grids, district.cells.grids.value
    assert cells is not None
    points = awkward_points(district)
    coords = np.array(points)
    hits = grids.covering(shapely.points(coords))
    near = grids.near(coords[:, 1], grids.frame.points(coords), hits, NEAR_M)
    answered = with_neighbours = in_overlap = 0
    for (lon, lat), hit, expected in zip(points, hits, near, strict=True):
        found = cells.at(lon, lat, NEAR_M)
        if found is None:  # only where the trees must answer: no grid there
            assert hit == NONE, (lon, lat)
            continue
        row, neighbours = found
        assert row == hit, (lon, lat)
        assert [r for r, _ in neighbours] == [g.row for g, _ in expected], (lon, lat)
        for (_, d), (_, want) in zip(neighbours, expected, strict=True):
            assert d == pytest.approx(want, abs=1e-6)
        answered += 1
        with_neighbours += bool(neighbours)
        in_overlap += any(d == 0 for _, d in neighbours)
    assert answered > 0.7 * len(points) and with_neighbours > 500 and in_overlap > 10
    assert cells.at(lon, lat, NEAR_M + 1) is None  # beyond the reach they were made for


def test_building_cells_give_the_trees_answers(district: District) -> None:
    buildings, cells = district.buildings, district.cells.buildings.value
    assert cells is not None
    points = awkward_points(district)
    expected = buildings.covering(shapely.points(np.array(points)))
    got = [cells.at(lon, lat) for lon, lat in points]
    assert got == expected
    assert sum(b != NONE for b in got) > 1000


def test_edge_cells_snap_as_the_tree_does(district: District) -> None:
    snapper, cells = district.network.snapper, district.cells.edges.value
    assert cells is not None
    points = awkward_points(district)
    coords = np.array(points)
    expected = snapper.snap(shapely.points(coords), snapper.frame.points(coords))
    inside = 0
    for (lon, lat), want in zip(points, expected, strict=True):
        got = cells.snap(lon, lat)
        assert want is not None
        if cells.lattice.cell(lon, lat) == NONE:  # no answer outside the district's box
            assert got is None
            continue
        inside += 1
        assert got is not None
        assert got.edge_id == want.edge_id, (lon, lat)
        assert got.fraction == pytest.approx(want.fraction, abs=1e-9)
        assert got.offset_m == pytest.approx(want.offset_m, abs=1e-9)
    assert inside > 0.9 * len(points)


def test_the_three_indexes_share_one_lattice(district: District) -> None:
    """The grid cells vouch that a point lies in the box; the other two rely on it."""
    cells = district.cells
    assert cells.grids.value and cells.buildings.value and cells.edges.value
    assert cells.grids.value.lattice == cells.buildings.value.lattice \
        == cells.edges.value.lattice


def test_lattice_numbers_cells_and_refuses_points_outside() -> None:
    frame = Frame.of((109.0, 27.0, 109.1, 27.1))
    lattice = Lattice.over((109.0, 27.0, 109.1, 27.1), frame, size_m=100.0)
    assert lattice.nx == math.ceil(0.1 * frame.kx / 100.0)
    assert lattice.cell(109.0, 27.0) == 0
    assert lattice.cell(109.0, 27.0 + 1.5 * lattice.dlat) == 1
    assert lattice.cell(109.0 + 1.5 * lattice.dlon, 27.0) == lattice.ny
    assert lattice.cell(108.999, 27.05) == NONE and lattice.cell(109.05, 27.2) == NONE
    boxes = lattice.boxes()
    assert len(boxes) == lattice.nx * lattice.ny
    assert shapely.covers(boxes[lattice.cell(109.0123, 27.0456)], shapely.Point(109.0123, 27.0456))
    big = Lattice.over((100.0, 20.0, 110.0, 30.0), Frame.of((100.0, 20.0, 110.0, 30.0)))
    assert big.nx * big.ny <= 400_000 * 1.01  # a huge box gets bigger cells, not millions
