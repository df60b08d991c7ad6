"""validate(): each rule on a small synthetic community, failing and passing."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
import shapely

from geo.plan.model import PlanBuilding, PlanFacility, Rules, Scope
from geo.plan.validate import ERROR, WARNING, PlanIssue, blocking, validate
from tests.plan_fixtures import (
    COMMUNITY,
    EPSG,
    QUARTERS,
    area_m2,
    box,
    buildings_for,
    code,
    grid,
    lonlat,
    metres,
    point,
    tiling,
)

RULES = Rules()


def of_rule(issues: list[PlanIssue], rule: str) -> list[PlanIssue]:
    return [i for i in issues if i.rule == rule]


def near(geom: shapely.Geometry, x: float, y: float, tol_m: float = 0.01) -> bool:
    return bool(metres(geom).distance(shapely.Point(x, y)) < tol_m)


def assert_bounds(geom: shapely.Geometry, expected: tuple[float, ...], tol_m: float = 0.01) -> None:
    assert metres(geom).bounds == pytest.approx(expected, abs=tol_m)


def with_buildings(scope: Scope, buildings: list[PlanBuilding]) -> Scope:
    return replace(scope, buildings=buildings)


def test_clean_tiling_has_no_issues() -> None:
    scope = tiling()
    assert validate(scope, RULES) == []
    assert blocking(validate(scope, RULES)) == []


def test_self_intersecting_grid_is_located_and_the_other_rules_still_run() -> None:
    bow_tie = lonlat(shapely.Polygon([(0, 200), (200, 400), (200, 200), (0, 400)]))
    issues = validate(tiling(g1=bow_tie), RULES)
    [invalid] = of_rule(issues, "invalid_geometry")
    assert (invalid.severity, invalid.grids) == (ERROR, (code(1),))
    assert invalid.geometry is not None and invalid.geometry.geom_type == "Point"
    assert near(invalid.geometry, 100, 300)
    assert "Self-intersection" in invalid.message
    # The repaired bow-tie keeps its west and east triangles: the north and south ones are gaps.
    gaps = of_rule(issues, "gap")
    assert sorted(round(g.value or 0) for g in gaps) == [10000, 10000]


@pytest.mark.parametrize(("geom", "words"), [(shapely.Polygon(), "empty"),
                                             (shapely.LineString([(109.19, 27.72), (109.2, 27.73)]),
                                              "LineString")])
def test_empty_or_non_polygon_grid_is_invalid(geom: shapely.Geometry, words: str) -> None:
    [invalid] = of_rule(validate(tiling(g2=geom), RULES), "invalid_geometry")
    assert invalid.grids == (code(2),)
    assert words in invalid.message


def test_part_outside_the_community() -> None:
    issues = validate(tiling(g2=box(200, 200, 400, 410)), RULES)
    [outside] = of_rule(issues, "outside_community")
    assert (outside.severity, outside.grids) == (ERROR, (code(2),))
    assert outside.value == pytest.approx(2000, rel=0.01)
    assert outside.geometry is not None
    assert area_m2(outside.geometry) == pytest.approx(2000, rel=0.01)
    assert_bounds(outside.geometry, (200, 400, 400, 410))
    assert f"grid {code(2)} extends 1999.9 m² outside its community {COMMUNITY}" in outside.message


def test_grid_of_an_unknown_community() -> None:
    scope = tiling()
    other = "520602001999"
    scope.grids[3] = grid(4, box(*QUARTERS[4]), community=other)
    [outside] = of_rule(validate(scope, RULES), "outside_community")
    assert outside.grids == (code(4, other),)
    assert other in outside.message and "not in the draft's scope" in outside.message


def test_slivers_below_the_tolerance_are_not_problems() -> None:
    # 2 mm over the community edge and into the neighbour: 0.4 m² each.
    issues = validate(tiling(g2=box(199.998, 200, 400.002, 400)), RULES)
    assert of_rule(issues, "outside_community") == []
    assert of_rule(issues, "overlap") == []


def test_overlap_between_neighbours() -> None:
    [overlap] = of_rule(validate(tiling(g1=box(0, 200, 205, 400)), RULES), "overlap")
    assert (overlap.severity, overlap.grids) == (ERROR, (code(1), code(2)))
    assert overlap.value == pytest.approx(1000, rel=0.01)
    assert overlap.geometry is not None
    assert_bounds(overlap.geometry, (200, 200, 205, 400))
    assert f"grids {code(1)} and {code(2)} overlap by 1000.0 m²" in overlap.message


def test_grid_contained_in_another_overlaps_it() -> None:
    scope = tiling()
    scope.grids.append(grid(5, box(300, 50, 350, 100), kind="dedicated", dedicated_type="enterprise"))
    [overlap] = of_rule(validate(scope, RULES), "overlap")
    assert overlap.grids == (code(4), code(5))
    assert overlap.value == pytest.approx(2500, rel=0.01)


def test_gap_between_grids() -> None:
    issues = validate(tiling(g1=box(0, 200, 190, 400)), RULES)
    [gap] = of_rule(issues, "gap")
    assert gap.severity == ERROR
    assert {code(1), code(2)} <= set(gap.grids)
    assert gap.value == pytest.approx(2000, rel=0.01)
    assert gap.geometry is not None
    assert_bounds(gap.geometry, (190, 200, 200, 400))
    assert COMMUNITY in gap.message


def test_each_gap_part_is_one_issue() -> None:
    issues = validate(tiling(g1=box(0, 200, 190, 400), g4=box(200, 5, 400, 200)), RULES)
    gaps = of_rule(issues, "gap")
    assert sorted(round(g.value or 0) for g in gaps) == [1000, 2000]


def test_allowed_gaps_are_not_problems() -> None:
    scope = replace(tiling(g1=box(0, 200, 190, 400)), allowed_gaps=box(185, 200, 200, 400))
    assert of_rule(validate(scope, RULES), "gap") == []


def test_building_in_no_grid() -> None:
    # Quarter 1's fourth building stands at x = 160, now in the gap.
    issues = validate(tiling(g1=box(0, 200, 150, 400)), RULES)
    [lost] = of_rule(issues, "building_unassigned")
    assert (lost.severity, lost.buildings, lost.grids) == (ERROR, (103,), (code(1),))
    assert lost.geometry is not None and near(lost.geometry, 160, 310)
    assert of_rule(issues, "building_misassigned") == []


@pytest.mark.parametrize("assigned", [1, 2])
def test_building_on_a_shared_edge_is_in_either_grid(assigned: int) -> None:
    scope = tiling()
    on_edge = point(200, 300)
    assert all(g.geom.covers(on_edge) and not g.geom.contains(on_edge) for g in scope.grids[:2])
    scope = replace(scope, buildings=[*scope.buildings, PlanBuilding(id=1, point=on_edge, households=0,
                                                                  grid=assigned)])
    issues = validate(scope, RULES)
    assert [i for i in issues if i.rule.startswith("building_")] == []


def test_building_inside_two_grids() -> None:
    scope = tiling(g1=box(0, 200, 230, 400))  # quarter 2's buildings start at x = 240
    scope = replace(scope, buildings=[*scope.buildings,
                                      PlanBuilding(id=1, point=point(215, 300), households=0, grid=1)])
    issues = validate(scope, RULES)
    [twice] = of_rule(issues, "building_in_two_grids")
    assert (twice.severity, twice.grids, twice.buildings) == (ERROR, (code(1), code(2)), (1,))
    assert twice.geometry is not None and near(twice.geometry, 215, 300)
    assert of_rule(issues, "building_misassigned") == []


@pytest.mark.parametrize(("grid_key", "words", "grids"),
                         [(2, f"assigned to grid {code(2)} but lies in grid {code(1)}", (code(1), code(2))),
                          (None, f"assigned to no grid but lies in grid {code(1)}", (code(1),)),
                          (99, "grid key 99, which is not in the draft's scope", (code(1),))])
def test_building_assigned_to_another_grid(grid_key: int | None, words: str,
                                           grids: tuple[str, ...]) -> None:
    scope = tiling()
    scope = replace(scope, buildings=[replace(scope.buildings[0], grid=grid_key), *scope.buildings[1:]])
    [wrong] = of_rule(validate(scope, RULES), "building_misassigned")
    assert (wrong.severity, wrong.buildings, wrong.grids) == (ERROR, (100,), grids)
    assert words in wrong.message
    assert wrong.geometry is not None and wrong.geometry.equals(scope.buildings[0].point)


def test_households_out_of_range_counts_by_assignment() -> None:
    scope = with_buildings(tiling(), [*buildings_for(1, 250, start=100), *buildings_for(2, 600, start=200),
                                      *buildings_for(3, 300, start=300), *buildings_for(4, 500, start=400)])
    issues = of_rule(validate(scope, RULES), "households_out_of_range")
    assert [(i.severity, i.grids, i.value) for i in issues] == [
        (WARNING, (code(1),), 250.0), (WARNING, (code(2),), 600.0)]
    assert "250 households" in issues[0].message


def test_dedicated_grids_are_exempt_from_the_household_range() -> None:
    scope = with_buildings(tiling(), [b for b in tiling().buildings if b.grid != 4])
    assert [i.grids for i in of_rule(validate(scope, RULES), "households_out_of_range")] == [(code(4),)]
    scope.grids[3] = replace(scope.grids[3], kind="dedicated", dedicated_type="enterprise")
    assert validate(scope, RULES) == []


def test_grid_in_two_parts() -> None:
    piece = box(200, 150, 250, 200)  # touches quarter 1 only at its corner
    g1 = shapely.MultiPolygon([box(*QUARTERS[1]), piece])
    issues = validate(tiling(g1=g1, g4=shapely.difference(box(*QUARTERS[4]), piece)), RULES)
    assert {i.rule for i in issues} == {"non_contiguous"}
    [split] = issues
    assert (split.severity, split.grids, split.value) == (ERROR, (code(1),), 2.0)
    assert split.geometry is not None
    assert area_m2(split.geometry) == pytest.approx(2500, rel=0.01)
    assert_bounds(split.geometry, (200, 150, 250, 200))


def test_part_below_the_tolerance_keeps_a_grid_contiguous() -> None:
    crumb = box(200, 199.5, 200.5, 200)  # 0.25 m²
    g1 = shapely.MultiPolygon([box(*QUARTERS[1]), crumb])
    issues = validate(tiling(g1=g1, g4=shapely.difference(box(*QUARTERS[4]), crumb)), RULES)
    assert of_rule(issues, "non_contiguous") == []


@pytest.mark.parametrize(("kind", "dedicated_type", "words"),
                         [("dedicated", None, "has no dedicated type"),
                          ("dedicated", "zoo", "unknown dedicated type 'zoo'"),
                          ("base", "school", "base grid")])
def test_dedicated_type_missing(kind: str, dedicated_type: str | None, words: str) -> None:
    scope = tiling()
    scope.grids[3] = replace(scope.grids[3], kind=kind, dedicated_type=dedicated_type)
    [missing] = of_rule(validate(scope, RULES), "dedicated_type_missing")
    assert (missing.severity, missing.grids) == (ERROR, (code(4),))
    assert words in missing.message


@pytest.mark.parametrize(("facility", "expected"),
                         [(None, 1), (PlanFacility(1, "school", point(300, 100)), 0),
                          (PlanFacility(1, "school", point(100, 300)), 1),
                          (PlanFacility(1, "hospital", point(300, 100)), 1)])
def test_dedicated_school_grid_needs_a_school(facility: PlanFacility | None, expected: int) -> None:
    scope = tiling()
    scope.grids[3] = replace(scope.grids[3], kind="dedicated", dedicated_type="school")
    scope.facilities = [facility] if facility else []
    issues = validate(scope, RULES)
    found = of_rule(issues, "dedicated_without_facility")
    assert [(i.severity, i.grids) for i in found] == [(WARNING, (code(4),))] * expected
    assert of_rule(issues, "dedicated_type_missing") == []


def test_order_blocking_and_features() -> None:
    scope = with_buildings(tiling(g1=box(0, 200, 205, 400), g3=box(0, 0, 190, 200)),
                           [*buildings_for(1, 100, start=100), *buildings_for(2, 900, start=200),
                            *buildings_for(4, 400, start=400)])
    issues = validate(scope, RULES)
    assert [(i.severity, i.rule, i.grids[0]) for i in issues] == [
        (ERROR, "gap", code(1)), (ERROR, "overlap", code(1)),
        (WARNING, "households_out_of_range", code(1)), (WARNING, "households_out_of_range", code(2)),
        (WARNING, "households_out_of_range", code(3))]
    assert [i.rule for i in blocking(issues)] == ["gap", "overlap"]
    feature = json.loads(json.dumps(issues[1].feature()))
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["rule"] == "overlap"
    assert feature["properties"]["grids"] == [code(1), code(2)]
    assert feature["properties"]["value"] == pytest.approx(1000, rel=0.01)
    assert PlanIssue("gap", ERROR, "m", (), None).feature()["geometry"] is None


def street(communities: int = 10, cols: int = 3, rows: int = 5, per_grid: int = 14) -> Scope:
    """A street of communities in a row, each cut into cols × rows 200 m grids."""
    comms, grids, buildings = {}, [], []
    for c in range(communities):
        community = f"520602001{c + 1:03d}"
        x0 = c * cols * 200
        mine = []
        for k in range(cols * rows):
            gx, gy = x0 + (k % cols) * 200, (k // cols) * 200
            key = c * 100 + k + 1
            grids.append(replace(grid(k + 1, box(gx, gy, gx + 200, gy + 200), community=community),
                                 key=key))
            buildings += [PlanBuilding(id=key * 100 + j, point=point(gx + 10 + 13 * j, gy + 20 + 11 * j),
                                       households=400 // per_grid + (j < 400 % per_grid), grid=key)
                          for j in range(per_grid)]
            mine.append(grids[-1].geom)
        comms[community] = shapely.union_all(mine)  # sharing the grids' vertices
    return Scope(code="520602001", epsg=EPSG, communities=comms, grids=grids, buildings=buildings)


def test_a_street_validates_quickly() -> None:
    scope = street()
    assert (len(scope.grids), len(scope.buildings)) == (150, 2100)
    start = time.perf_counter()
    issues = validate(scope, RULES)
    elapsed = time.perf_counter() - start
    assert issues == []
    assert elapsed < 2.0  # well under a second on a laptop; generous for a loaded CI box


def test_building_without_a_location_is_in_no_grid() -> None:
    scope = tiling()
    scope = replace(scope, buildings=[*scope.buildings,
                                      PlanBuilding(id=1, point=shapely.Point(), households=5, grid=1)])
    [lost] = validate(scope, RULES)
    assert (lost.rule, lost.buildings, lost.grids) == ("building_unassigned", (1,), (code(1),))
