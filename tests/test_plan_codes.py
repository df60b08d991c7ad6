"""Grid codes: reading order (从西向东、从北向南), free codes, renumbering."""

from __future__ import annotations

import random

import pytest
import shapely

from geo.errors import InvalidInput
from geo.plan.codes import next_codes, reading_order, renumber
from geo.plan.model import PlanGrid

A = "520602001001"
B = "520602001002"


def cell(col: int, row: int, dy: float = 0.0, size: float = 0.001) -> shapely.Polygon:
    """A square in column ``col`` (west→east) and row ``row`` (north→south), nudged by dy."""
    x0, y0 = 109.19 + col * size, 27.72 - (row + 1) * size + dy
    return shapely.box(x0, y0, x0 + size, y0 + size)


def grid(key: int, code: str, geom: shapely.Polygon, community: str = A) -> PlanGrid:
    return PlanGrid(key, code, f"grid {key}", "base", None, community, geom)


def test_two_by_two_reads_nw_ne_sw_se() -> None:
    names = {"SE": cell(1, 1), "NW": cell(0, 0), "SW": cell(0, 1), "NE": cell(1, 0)}
    keys = list(names)
    order = [keys[i] for i in reading_order(list(names.values()))]
    assert order == ["NW", "NE", "SW", "SE"]


def test_rows_tolerate_jitter_and_input_order() -> None:
    # 3 × 3 squares, each nudged north or south by up to 30% of a row: still three rows.
    rng = random.Random(7)
    layout = [(c, r) for r in range(3) for c in range(3)]
    geoms = {(c, r): cell(c, r, dy=rng.uniform(-0.0003, 0.0003)) for c, r in layout}
    shuffled = layout[:]
    rng.shuffle(shuffled)
    order = reading_order([geoms[p] for p in shuffled])
    assert [shuffled[i] for i in order] == layout


def test_reading_order_uses_a_point_inside_each_grid() -> None:
    # A U-shaped grid with a square in its notch: the U's centroid falls in the notch, south
    # of the square's, which would put the U second; its representative point lies in its
    # western arm, level with the square and west of it, so the U reads first.
    u = shapely.Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    notch = shapely.box(1.1, 1.1, 1.9, 2.9)
    assert u.centroid.y < notch.centroid.y
    assert reading_order([notch, u]) == [1, 0]
    assert reading_order([u, u]) == [0, 1]  # equal geometries: input order


def test_reading_order_of_nothing_and_one() -> None:
    assert reading_order([]) == []
    assert reading_order([cell(0, 0)]) == [0]


def test_next_codes_fill_gaps_of_that_community_only() -> None:
    used = {A + "001", A + "002", A + "004", B + "003", "garbage"}
    assert next_codes(A, used, 3) == [A + "003", A + "005", A + "006"]
    assert next_codes(B, used, 2) == [B + "001", B + "002"]
    assert next_codes(A, used, 0) == []


def test_next_codes_exhausted() -> None:
    used = {f"{A}{s:03d}" for s in range(1, 1000) if s != 500}
    assert next_codes(A, used, 1) == [A + "500"]
    with pytest.raises(InvalidInput, match=r"community: 520602001001 has only 1 free grid codes"):
        next_codes(A, used, 2)


def test_next_codes_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput, match="community: '5206' is not a 12-digit"):
        next_codes("5206", set(), 1)
    with pytest.raises(InvalidInput, match="n: -1 is negative"):
        next_codes(A, set(), -1)


def test_renumber_one_community_in_reading_order() -> None:
    grids = [grid(1, A + "004", cell(0, 0)), grid(2, A + "001", cell(1, 0)),
             grid(3, A + "009", cell(0, 1)), grid(4, A + "003", cell(1, 1)),
             grid(5, B + "001", cell(5, 0), community=B)]
    assert renumber(grids, A) == {1: A + "001", 2: A + "002", 3: A + "003", 4: A + "004"}
    assert renumber(grids, B) == {5: B + "001"}
    assert renumber(grids, "520602001009") == {}
