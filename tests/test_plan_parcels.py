"""Parcels (geo.plan.parcels): a community with far more buildings than its grids need is
divided over parcels of buildings, and the proposal stays sound. No database."""

from __future__ import annotations

import numpy as np

from geo.plan import blocks, parcels
from geo.plan.propose import _on_parcels, grid_count, propose
from tests.plan_fixtures import COMMUNITY, EPSG
from tests.test_plan_propose import (
    RULES,
    _on_streets,
    assert_sound,
    demo_style,
    households,
    scattered,
)


def _village(n: int = 9000, seed: int = 3):
    """1 km² of one-storey houses, sheds and shops: 0–2 households a building."""
    return scattered(n, seed, households=(0, 2))


def test_a_village_is_gathered_and_a_tower_block_is_not() -> None:
    village = _village()
    sites = blocks.sites_of(village.buildings, EPSG)
    k = grid_count(int(sites.households.sum()), len(sites), RULES)
    assert parcels.needed(sites, k)
    towers = blocks.sites_of(demo_style(1)[0].buildings, EPSG)
    assert not parcels.needed(towers, grid_count(int(towers.households.sum()), len(towers), RULES))


def test_every_building_is_in_one_parcel_that_stands_where_it_stands() -> None:
    _, network = demo_style(2)  # its streets: a 5 × 5 lattice of 200 m blocks
    village = _village()
    sites = blocks.sites_of(village.buildings, EPSG)
    free = village.communities[COMMUNITY]
    found, gathered = parcels.gathered(free, sites, COMMUNITY, EPSG, network, RULES, seed=2)
    assert len(found.cores) == len(gathered) < len(sites) / 5
    ids = [b for members in gathered.buildings for b in members]
    assert sorted(ids) == sorted(b.id for b in village.buildings)  # each once
    assert int(gathered.households.sum()) == sum(b.households for b in village.buildings)
    # a parcel's target is a sixteenth of a grid: none far above it unless one site is
    assert gathered.households.max() <= 4 * RULES.households_target / 16
    # buildings stand in their own parcel's cell (all but those in cut-off parts of cells)
    where = {b.id: b.point for b in village.buildings}
    inside = sum(found.cores[p].covers(where[b]) for p, members in enumerate(gathered.buildings)
                 for b in members)
    assert inside >= 0.98 * len(village.buildings)
    # the cells are drawn in the 25 street blocks, and parcels meet across the streets
    assert found.blocks == 25 and found.street.any()


def test_a_village_proposal_is_sound() -> None:
    _, network = demo_style(3)
    village = _village(9000, 4)
    result = propose(village, RULES, network=network, seed=4)
    after = assert_sound(village, result)  # no validation error, every grid in range, contiguous
    total = sum(b.households for b in village.buildings)
    assert sum(households(after).values()) == total
    assert len(result.created) == grid_count(total, len(village.buildings), RULES)
    by_key = {g.key: g for g in result.grids}
    for b in village.buildings:  # every building in the grid that covers it
        assert by_key[result.assignment[b.id]].geom.covers(b.point)
    # the boundaries follow the streets more than without them
    plain = propose(village, RULES, seed=4)
    assert _on_streets(result, network) > _on_streets(plain, network) + 0.2


def _in_range(gathered, labels, k) -> bool:
    h = np.bincount(labels, weights=gathered.households, minlength=k)
    return bool(((h >= RULES.households_min) & (h <= RULES.households_max)).all())


def test_the_coarsest_parcels_that_balance_are_taken(monkeypatch) -> None:
    _, network = demo_style(2)
    village = _village()
    sites = blocks.sites_of(village.buildings, EPSG)
    free = village.communities[COMMUNITY]
    coarse, fine = parcels.SHARES
    _, gathered, labels, k = _on_parcels(free, sites, COMMUNITY, EPSG, network, RULES, 2)
    quarter = parcels.gathered(free, sites, COMMUNITY, EPSG, network, RULES, 2, coarse)[1]
    sixteenth = parcels.gathered(free, sites, COMMUNITY, EPSG, network, RULES, 2, fine)[1]
    assert len(gathered) == len(quarter) < len(sixteenth) / 2
    assert _in_range(gathered, labels, k)
    # parcels of four grids each cannot be balanced: the finer ones are taken
    monkeypatch.setattr(parcels, "SHARES", (4.0, fine))
    _, gathered, labels, k = _on_parcels(free, sites, COMMUNITY, EPSG, network, RULES, 2)
    assert len(gathered) == len(sixteenth) and _in_range(gathered, labels, k)
