"""Balanced, contiguous partitions of lattice blocks by recursive bisection.

Cutting a column-convex set of lattice cells in (column, row) order along its longer side
keeps both halves contiguous, and splitting the weight k1 : k2 gives exactly k parts whose
weights differ only by the granularity of one block. The district's edge makes some sets
not column-convex, so a cut can leave a part in pieces: ``mend`` then hands every piece but
a part's largest to its lightest neighbouring part.
"""

from __future__ import annotations

import numpy as np


def bisect(cells: np.ndarray, ij: np.ndarray, weight: np.ndarray, k: int,
           prefer: int | None = None) -> list[np.ndarray]:
    """Split ``cells`` (indices into ``ij``/``weight``) into ``k`` contiguous parts of
    near-equal weight."""
    return mend(_bisect(cells, ij, weight, k, prefer), ij, weight)


def _bisect(cells: np.ndarray, ij: np.ndarray, weight: np.ndarray, k: int,
            prefer: int | None = None) -> list[np.ndarray]:
    if k <= 1 or len(cells) <= 1:
        return [cells]
    k1 = k // 2
    sub = ij[cells]
    extent = sub.max(axis=0) - sub.min(axis=0)
    axis = int(np.argmax(extent)) if prefer is None else prefer
    other = 1 - axis
    order, cut = _cut(cells, ij, weight, k1, k, axis)
    if not _halves_whole(order, cut, ij) and prefer is None:
        # Where the set is not column-convex, the cut that keeps both halves whole.
        order, cut = _whole_cut(cells, ij, weight, k1, k, (axis, other)) or (order, cut)
    nxt = None if prefer is None else other
    return (_bisect(order[:cut], ij, weight, k1, nxt)
            + _bisect(order[cut:], ij, weight, k - k1, nxt))


def _cut(cells: np.ndarray, ij: np.ndarray, weight: np.ndarray, k1: int, k: int, axis: int
         ) -> tuple[np.ndarray, int]:
    """Cells in (axis, other) order and the position splitting their weight k1 : k − k1."""
    sub = ij[cells]
    order = cells[np.lexsort((sub[:, 1 - axis], sub[:, axis]))]
    cum = np.cumsum(weight[order])
    target = cum[-1] * k1 / k
    cut = int(np.searchsorted(cum, target))
    if cut < len(cum) and cut > 0 and abs(cum[cut - 1] - target) < abs(cum[cut] - target):
        cut -= 1
    return order, min(max(cut + 1, k1), len(order) - (k - k1))


def _halves_whole(order: np.ndarray, cut: int, ij: np.ndarray) -> bool:
    return all(len(_pieces(list(map(int, half)), _index(half, ij), ij)) == 1
               for half in (order[:cut], order[cut:]))


def _whole_cut(cells: np.ndarray, ij: np.ndarray, weight: np.ndarray, k1: int, k: int,
               axes: tuple[int, int]) -> tuple[np.ndarray, int] | None:
    """Of the cuts near the balanced one (either axis), the most balanced with both halves
    whole; None when there is none within a quarter of the cells."""
    best: tuple[float, np.ndarray, int] | None = None
    target = float(weight[cells].sum()) * k1 / k
    for axis in axes:
        order, cut = _cut(cells, ij, weight, k1, k, axis)
        cum = np.cumsum(weight[order])
        for step in range(len(order) // 4 + 1):
            found = [c for c in {cut - step, cut + step}
                     if k1 <= c <= len(order) - (k - k1) and _halves_whole(order, c, ij)]
            if found:
                c = min(found, key=lambda c: abs(cum[c - 1] - target))
                off = abs(float(cum[c - 1]) - target)
                if best is None or off < best[0]:
                    best = (off, order, c)
                break
    return None if best is None else (best[1], best[2])


def _index(cells: np.ndarray, ij: np.ndarray) -> dict[tuple[int, int], int]:
    return {(int(ij[c][0]), int(ij[c][1])): int(c) for c in cells}


STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _pieces(cells: list[int], at: dict[tuple[int, int], int], ij: np.ndarray) -> list[list[int]]:
    """The 4-connected pieces of ``cells`` on the lattice."""
    todo, out = set(cells), []
    while todo:
        stack = [todo.pop()]
        piece = []
        while stack:
            c = stack.pop()
            piece.append(c)
            i, j = ij[c]
            for di, dj in STEPS:
                n = at.get((int(i) + di, int(j) + dj))
                if n is not None and n in todo:
                    todo.remove(n)
                    stack.append(n)
        out.append(piece)
    return out


def mend(parts: list[np.ndarray], ij: np.ndarray, weight: np.ndarray) -> list[np.ndarray]:
    """Make every part contiguous: each piece but a part's heaviest joins its lightest
    neighbouring part. Every move lowers the number of pieces, and no
    part empties."""
    owner = {int(c): p for p, cells in enumerate(parts) for c in cells}
    at = _index(np.fromiter(owner, dtype=int), ij)
    members = [[int(c) for c in cells] for cells in parts]
    moved = True
    while moved:
        moved = False
        for p in range(len(members)):
            pieces = _pieces(members[p], at, ij)
            if len(pieces) < 2:
                continue
            pieces.sort(key=lambda x: -float(weight[x].sum()))
            for piece in pieces[1:]:
                shared: dict[int, int] = {}
                for c in piece:
                    i, j = ij[c]
                    for di, dj in STEPS:
                        n = at.get((int(i) + di, int(j) + dj))
                        if n is not None and owner[n] != p:
                            shared[owner[n]] = shared.get(owner[n], 0) + 1
                if not shared:
                    continue  # an island of the whole set: nothing to join
                to = min(sorted(shared), key=lambda q: float(weight[members[q]].sum()))
                for c in piece:
                    owner[c] = to
                members[to] += piece
                members[p] = [c for c in members[p] if owner[c] == p]
                moved = True
    return [np.array(sorted(m), dtype=cells.dtype) for m, cells in zip(members, parts, strict=True)]


def split_counts(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``weights`` (largest remainder), each ≥ 1."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    base = np.maximum(np.floor(raw).astype(int), 1)
    while base.sum() > total:
        base[np.argmax(base - raw)] -= 1
    rem = raw - base
    for idx in np.argsort(-rem)[: total - base.sum()]:
        base[idx] += 1
    return base


def reading_order(xy: np.ndarray, band_m: float) -> np.ndarray:
    """Order points north→south in bands of ``band_m`` metres, west→east inside a band."""
    band = np.floor((xy[:, 1].max() - xy[:, 1]) / band_m)
    return np.lexsort((xy[:, 0], band))
