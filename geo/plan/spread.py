"""Seeds spread over sites in proportion to their households, by recursive bisection.

A group due for kk seeds is cut across its longer side (in a frame turned by a random angle)
where ⌊kk/2⌋/kk of its households lie on one side, until each group holds one seed, placed on
its site nearest the group's household centroid.

Seeds follow the households, not the ground: k-means++ (even weighted) spreads them by
distance and, with low-rise and towers side by side, left the low-rise part with far more
seeds than households for (a tenth of the grids out of range, where this gives none).

The bisection runs level by level over every group at once (one sort per level, not one per
group): the parcels of a district spread centres in thousands of street blocks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


def spread_seeds(xy: Floats, w: Floats, k: int, rng: np.random.Generator) -> list[int]:
    """k distinct sites of ``xy`` (metric) spread in proportion to the households ``w``; the
    frame is turned by an angle drawn from ``rng``, so other seeds give other cuts. The seeds
    come in a fixed order (the regions grown from them are numbered in it)."""
    angle = np.array([rng.uniform(0.0, np.pi)])
    return spread_in_groups(xy, w, np.zeros(len(xy), dtype=np.intp), np.array([k]), angle).tolist()


def spread_in_groups(xy: Floats, w: Floats, group: Ints, k: Ints, angles: Floats) -> Ints:
    """For every group g (the sites whose ``group`` is g; -1: none) ``k[g]`` distinct seeds
    (k[g] ≤ its sites), the frame turned by ``angles[g]``: the seeds' site indices, group by
    group, each group's in the order of ``spread_seeds``."""
    k = np.asarray(k, dtype=np.intp)
    member = np.flatnonzero((group >= 0) & (k[np.maximum(group, 0)] > 0))
    elem = member[np.argsort(group[member], kind="stable")]
    task = group[elem]
    # sites without households still count a little (a billionth of the group's largest)
    top = np.zeros(len(k))
    np.maximum.at(top, task, w[elem])
    mass = w[elem] + 1e-9 * np.maximum(top[task], 1.0)
    cos, sin = np.cos(angles)[task], np.sin(angles)[task]
    turned = np.column_stack([xy[elem, 0] * cos + xy[elem, 1] * sin,
                              -xy[elem, 0] * sin + xy[elem, 1] * cos])
    due = k.copy()  # seeds each task is due (tasks start as the groups)
    path = np.ones(len(k), dtype=np.int64)  # 1, then a bit per cut: see _seeds_of
    owner = np.arange(len(k))  # the group each task belongs to
    found: list[tuple[Ints, Ints, Ints]] = []
    while len(elem):
        starts = np.flatnonzero(np.r_[True, task[1:] != task[:-1]])
        tasks = task[starts]
        one = due[tasks] == 1
        leaf = one[np.searchsorted(tasks, task)]
        if leaf.any():
            found.append(_seeds_of(xy, elem[leaf], task[leaf], mass[leaf], owner, path))
            keep = ~leaf
            elem, task, mass, turned = elem[keep], task[keep], mass[keep], turned[keep]
            continue
        elem, task, mass, turned, due, path, owner = _split(elem, task, mass, turned, due, path,
                                                            owner, starts)
    if not found:
        return np.zeros(0, dtype=np.intp)
    seeds, groups, keys = (np.concatenate(c) for c in zip(*found, strict=True))
    return seeds[np.lexsort((keys, groups))]


def _split(elem: Ints, task: Ints, mass: Floats, turned: Floats, due: Ints, path: Ints,
           owner: Ints, starts: Ints) -> tuple[Ints, Ints, Floats, Floats, Ints, Ints, Ints]:
    """Every task cut in two across its longer side: the first part, due ⌊kk/2⌋ seeds, holds
    that share of its households (and at least as many sites as seeds, as does the rest)."""
    tasks = task[starts]
    spans = np.maximum.reduceat(turned, starts) - np.minimum.reduceat(turned, starts)
    axis = (spans[:, 1] > spans[:, 0]).astype(np.intp)
    at = np.searchsorted(tasks, task)  # each element's task, as a rank
    value = turned[np.arange(len(task)), axis[at]]
    order = np.lexsort((value, at))
    elem, task, mass, turned, at = elem[order], task[order], mass[order], turned[order], at[order]
    total = np.cumsum(mass)
    before = np.r_[0.0, total][starts]
    within = total - before[at]  # households up to each element in its task
    size = np.diff(np.r_[starts, len(task)])
    kk = due[tasks]
    half = kk // 2
    whole = within[starts + size - 1]
    below = np.bincount(at, weights=within < (whole * half / kk)[at], minlength=len(tasks))
    cut = np.minimum(np.maximum(below.astype(np.intp), half), size - (kk - half))
    second = (np.arange(len(task)) - starts[at]) >= cut[at]
    new_task = 2 * at + second
    # the rest is visited before the first part (spread_seeds' order): its path bit is 0
    new_path = np.repeat(path[tasks] * 2, 2) + np.tile([1, 0], len(tasks))
    new_due = np.column_stack([half, kk - half]).ravel()
    new_owner = np.repeat(owner[tasks], 2)
    return elem, new_task, mass, turned, new_due, new_path, new_owner


def _seeds_of(xy: Floats, elem: Ints, task: Ints, mass: Floats, owner: Ints, path: Ints
              ) -> tuple[Ints, Ints, Ints]:
    """The seed of each task due one: its site nearest its household centroid (the first of
    equals). With the task's group and its place among the group's seeds: the path of cuts
    leading to it, read as a number after a leading 1 (paths have different lengths: each is
    left-aligned)."""
    tasks, at = np.unique(task, return_inverse=True)
    weight = np.bincount(at, weights=mass)
    centre = np.column_stack([np.bincount(at, weights=xy[elem, i] * mass) / weight
                              for i in (0, 1)])
    d = ((xy[elem] - centre[at]) ** 2).sum(axis=1)
    first = np.lexsort((np.arange(len(elem)), d, at))
    pick = first[np.r_[True, at[first][1:] != at[first][:-1]]]
    depth = np.floor(np.log2(np.maximum(path[tasks], 1))).astype(np.int64)
    key = path[tasks] << (_DEPTH - depth)
    return elem[pick], owner[tasks], key


_DEPTH = 40  # deeper than any bisection (2⁴⁰ seeds)
