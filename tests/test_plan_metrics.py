"""measure() and building_edges() against values worked out by hand."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import shapely

from geo.plan import metrics
from geo.plan.metrics import building_edges, measure
from geo.plan.model import PlanBuilding, Rules, Scope
from tests.plan_fixtures import COMMUNITY, EPSG, QUARTERS, box, buildings_for, grid, lonlat, point, tiling

RULES = Rules()


def halves(*buildings: tuple[float, float, int | None]) -> Scope:
    """A 400 m community cut into a west and an east grid (keys 1, 2), with buildings at
    (x, y) assigned to the given grid key."""
    return Scope(code=COMMUNITY, epsg=EPSG, communities={COMMUNITY: box(0, 0, 400, 400)},
                 grids=[grid(1, box(0, 0, 200, 400)), grid(2, box(200, 0, 400, 400))],
                 buildings=[PlanBuilding(id=i + 1, point=point(x, y), households=10, grid=g)
                            for i, (x, y, g) in enumerate(buildings)])


def test_square_grid_shape() -> None:
    first = measure(tiling(), RULES)[0][0]
    assert first.area_m2 == pytest.approx(40000, rel=1e-3)
    assert first.polsby_popper == pytest.approx(math.pi / 4, abs=1e-3)
    # The minimum bounding circle of a square of side s has radius s/√2: area πs²/2.
    assert first.reock == pytest.approx(2 / math.pi, abs=1e-3)
    assert first.contiguous


def test_round_grid_is_compact() -> None:
    disc = lonlat(shapely.Point(200, 200).buffer(150, quad_segs=64))
    [m], _ = measure(Scope(code=COMMUNITY, epsg=EPSG, communities={COMMUNITY: disc},
                           grids=[grid(1, disc)]), RULES)
    assert m.reock == pytest.approx(1, abs=1e-2)
    assert m.polsby_popper == pytest.approx(1, abs=1e-2)
    assert m.area_m2 == pytest.approx(math.pi * 150**2, rel=1e-2)


def test_elongated_grid_is_less_compact() -> None:
    strip = lonlat(shapely.box(0, 0, 400, 25))
    [m], _ = measure(Scope(code=COMMUNITY, epsg=EPSG, communities={COMMUNITY: strip},
                           grids=[grid(1, strip)]), RULES)
    # 4π·10000 / 850² and 10000 / (π·(√(400² + 25²)/2)²)
    assert m.polsby_popper == pytest.approx(4 * math.pi * 10000 / 850**2, rel=1e-3)
    assert m.reock == pytest.approx(10000 / (math.pi * (400**2 + 25**2) / 4), rel=1e-3)


def test_households_and_deviation_follow_assignment() -> None:
    buildings = [*buildings_for(1, 250, start=100), *buildings_for(2, 600, start=200),
                 *buildings_for(3, 300, start=300), *buildings_for(4, 500, start=400)]
    grids, draft = measure(replace(tiling(), buildings=buildings), RULES)
    assert [m.households for m in grids] == [250, 600, 300, 500]
    assert [m.deviation for m in grids] == pytest.approx([-0.375, 0.5, -0.25, 0.25])
    assert [m.in_range for m in grids] == [False, False, True, True]
    assert draft.households == 1650
    assert draft.within_range == 0.5
    assert draft.mean_abs_deviation == pytest.approx((0.375 + 0.5 + 0.25 + 0.25) / 4)
    assert draft.max_abs_deviation == pytest.approx(0.5)
    # Re-assigning a building moves its households even though it stays where it is.
    moved = buildings_for(1, 250, start=100)[0]
    buildings[0] = replace(moved, grid=2)
    grids, _ = measure(replace(tiling(), buildings=buildings), RULES)
    assert [m.households for m in grids[:2]] == [250 - moved.households, 600 + moved.households]


def test_target_comes_from_the_rules() -> None:
    grids, _ = measure(tiling(), Rules(households_min=100, households_max=300))
    assert grids[0].deviation == pytest.approx((400 - 200) / 200)
    assert not grids[0].in_range


def test_dedicated_grids_are_in_range_and_out_of_the_balance() -> None:
    scope = replace(tiling(), buildings=buildings_for(1, 400, start=100))
    scope.grids[3] = replace(scope.grids[3], kind="dedicated", dedicated_type="school")
    grids, draft = measure(scope, RULES)
    assert (grids[3].households, grids[3].in_range) == (0, True)
    assert (grids[1].households, grids[1].in_range) == (0, False)
    assert (draft.grids, draft.base_grids) == (4, 3)
    assert draft.within_range == pytest.approx(1 / 3)
    assert draft.max_abs_deviation == pytest.approx(1.0)


def test_head_coverage() -> None:
    scope = replace(tiling(), buildings=[*buildings_for(1, heads=3, start=100),
                                         *buildings_for(2, heads=4, start=200),
                                         *buildings_for(3, start=300)])
    grids, draft = measure(scope, RULES)
    assert [(m.buildings, m.buildings_with_head) for m in grids] == [(4, 3), (4, 4), (4, 0), (0, 0)]
    assert [m.head_coverage for m in grids] == [0.75, 1.0, 0.0, None]
    assert draft.head_coverage == pytest.approx(7 / 12)
    assert measure(replace(scope, buildings=[]), RULES)[1].head_coverage is None


def test_edges_of_four_buildings_in_a_square() -> None:
    scope = halves((100, 100, 1), (100, 300, 1), (300, 100, 2), (300, 300, 2))
    edges = building_edges(scope)
    assert edges.shape == (5, 2)
    pairs = {tuple(e) for e in edges.tolist()}
    assert {(0, 1), (0, 2), (1, 3), (2, 3)} <= pairs  # the four sides
    assert pairs - {(0, 1), (0, 2), (1, 3), (2, 3)} in ({(0, 3)}, {(1, 2)})  # one diagonal
    # Either diagonal crosses the boundary, as do the two horizontal sides.
    grids, draft = measure(scope, RULES)
    assert [m.cut_edges for m in grids] == [3, 3]
    assert draft.cut_edges == 3


@pytest.mark.parametrize(("third", "per_grid", "total"),
                         [(2, [2, 2], 2), (1, [0, 0], 0), (None, [0, 0], 0), (99, [2, 0], 2)])
def test_cut_edges_need_two_assigned_buildings(third: int | None, per_grid: list[int],
                                               total: int) -> None:
    # A triangle: two buildings in the west grid, the third one in the east, assigned to
    # `third`; it reaches each of the other two by one edge.
    scope = halves((50, 100, 1), (150, 300, 1), (300, 200, third))
    assert building_edges(scope).tolist() == [[0, 1], [0, 2], [1, 2]]
    grids, draft = measure(scope, RULES)
    assert [m.cut_edges for m in grids] == per_grid
    assert draft.cut_edges == total


def test_edges_of_few_or_stacked_buildings() -> None:
    assert building_edges(halves()).shape == (0, 2)
    assert building_edges(halves((100, 100, 1))).shape == (0, 2)
    assert building_edges(halves((100, 100, 1), (100, 100, 2))).shape == (0, 2)
    stacked = building_edges(halves((100, 100, 1), (100, 100, 1), (300, 100, 2)))
    assert stacked.tolist() == [[0, 2]]


def test_edges_of_many_buildings_form_a_triangulation() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 400, size=(300, 2))
    scope = halves(*[(x, y, 1 if x < 200 else 2) for x, y in xy])
    edges = building_edges(scope)
    # A triangulation of n points with h of them on the hull has 3n - 3 - h edges.
    hull = len(shapely.convex_hull(shapely.multipoints(xy)).exterior.coords) - 1
    assert len(edges) == 3 * 300 - 3 - hull
    assert (edges[:, 0] < edges[:, 1]).all()
    assert len({tuple(e) for e in edges.tolist()}) == len(edges)


def test_a_triangulation_is_found_again_for_the_same_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "KEEP_FROM", 2)  # kept from 2 points, not thousands
    scope = halves((50, 100, 1), (150, 300, 1), (300, 200, 2), (320, 320, 2))
    first = building_edges(scope)
    # assignments change between edits, the points do not: the same triangulation
    again = building_edges(replace(scope, buildings=scope.buildings.with_grids([2, 2, 1, 1])))
    assert again is first and not again.flags.writeable
    # one building moved: triangulated anew, and it is another triangulation
    moved = halves((50, 100, 1), (150, 300, 1), (300, 200, 2), (10, 390, 2))
    other = building_edges(moved)
    assert other is not first and other.tolist() != first.tolist()
    assert len(other) == 5  # four points, all on the hull: 3·4 − 3 − 4
    monkeypatch.setattr(metrics, "KEEP_FROM", 5)  # below it, triangulated every time
    assert building_edges(scope) is not first and building_edges(scope).tolist() == first.tolist()


def test_contiguity() -> None:
    piece = box(200, 150, 250, 200)
    scope = tiling(g1=shapely.MultiPolygon([box(*QUARTERS[1]), piece]),
                   g4=shapely.difference(box(*QUARTERS[4]), piece))
    grids, draft = measure(scope, RULES)
    assert [m.contiguous for m in grids] == [False, True, True, True]
    assert draft.contiguous == 0.75
    assert grids[0].area_m2 == pytest.approx(42500, rel=1e-3)


def test_empty_draft() -> None:
    grids, draft = measure(Scope(code=COMMUNITY, epsg=EPSG, communities={}, grids=[]), RULES)
    assert grids == []
    assert (draft.grids, draft.within_range, draft.contiguous, draft.cut_edges) == (0, 1.0, 1.0, 0)
    assert draft.head_coverage is None


def test_as_dict_is_json() -> None:
    grids, draft = measure(tiling(), RULES)
    row = json.loads(json.dumps(grids[0].as_dict()))
    assert row["code"] == grids[0].code and row["households"] == 400
    summary = json.loads(json.dumps(draft.as_dict()))
    assert summary["grids"] == 4 and summary["households"] == 1600


def test_broken_geometries_do_not_raise() -> None:
    bow_tie = lonlat(shapely.Polygon([(0, 200), (200, 400), (200, 200), (0, 400)]))
    scope = tiling(g1=bow_tie)
    scope.grids[1] = replace(scope.grids[1], geom=shapely.Polygon())
    scope = replace(scope, buildings=[*scope.buildings,
                                      PlanBuilding(id=1, point=None, households=5, grid=3),  # type: ignore[arg-type]
                                      PlanBuilding(id=2, point=shapely.Point(), households=5, grid=3)])
    grids, draft = measure(scope, RULES)
    # The repaired bow-tie is its two 10 000 m² triangles, touching at a point.
    assert grids[0].area_m2 == pytest.approx(20000, rel=1e-3)
    assert not grids[0].contiguous
    assert (grids[1].area_m2, grids[1].polsby_popper, grids[1].reock) == (0.0, 0.0, 0.0)
    assert (grids[2].households, grids[2].buildings) == (410, 6)
    assert int(building_edges(scope).max()) < len(scope.buildings) - 2  # no edge to a missing point
    assert draft.households == 1610
