"""Seeds spread by recursive bisection (geo.plan.spread): one group at a time, and every group
at once for the parcels of a district's street blocks."""

from __future__ import annotations

import numpy as np

from geo.plan.spread import spread_in_groups, spread_seeds


def _frame(angle: float):
    class Fixed:  # a generator whose only draw is the frame's angle
        def uniform(self, low: float, high: float) -> float:
            assert low <= angle < high
            return angle
    return Fixed()


def test_seeds_are_distinct_and_follow_the_households():
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(200, 2)) * 50.0  # towers: 30 households a site
    sparse = rng.normal(size=(200, 2)) * 50.0 + [2000.0, 0.0]  # low-rise: 10
    xy = np.vstack([dense, sparse])
    w = np.r_[np.full(200, 30.0), np.full(200, 10.0)]
    seeds = spread_seeds(xy, w, 40, np.random.default_rng(0))
    assert len(seeds) == len(set(seeds)) == 40
    in_dense = sum(s < 200 for s in seeds)
    assert in_dense == 30  # 3/4 of the households, 3/4 of the seeds


def test_sites_without_households_still_get_seeds():
    xy = np.column_stack([np.arange(10.0), np.zeros(10)])
    seeds = spread_seeds(xy, np.zeros(10), 10, np.random.default_rng(0))
    assert sorted(seeds) == list(range(10))


def test_every_group_at_once_gives_each_group_its_own_seeds():
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 60, 150)
    group = np.repeat(np.arange(150), sizes)
    rng.shuffle(group)
    group[:5] = -1  # in no group
    xy = rng.normal(size=(len(group), 2)) * 100.0
    w = rng.uniform(0.0, 40.0, len(group))  # no ties between cumulative sums
    counts = np.bincount(group[group >= 0], minlength=150)
    k = np.array([rng.integers(0, c + 1) for c in counts])
    angles = rng.uniform(0.0, np.pi, 150)
    got = spread_in_groups(xy, w, group, k, angles)
    expected = []
    for g in range(150):
        idx = np.flatnonzero(group == g)
        if k[g]:
            expected += idx[spread_seeds(xy[idx], w[idx], int(k[g]), _frame(angles[g]))].tolist()
    assert got.tolist() == expected
    assert (np.bincount(group[got], minlength=150) == k).all()
