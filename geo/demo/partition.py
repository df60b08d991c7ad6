"""Balanced, contiguous partitions of lattice blocks by recursive bisection.

Cutting a column-convex set of lattice cells in (column, row) order along its longer side
keeps both halves contiguous, and splitting the weight k1 : k2 gives exactly k parts whose
weights differ only by the granularity of one block.
"""

from __future__ import annotations

import numpy as np


def bisect(cells: np.ndarray, ij: np.ndarray, weight: np.ndarray, k: int,
           prefer: int | None = None) -> list[np.ndarray]:
    """Split ``cells`` (indices into ``ij``/``weight``) into ``k`` parts of near-equal weight."""
    if k <= 1 or len(cells) <= 1:
        return [cells]
    k1 = k // 2
    sub = ij[cells]
    extent = sub.max(axis=0) - sub.min(axis=0)
    axis = int(np.argmax(extent)) if prefer is None else prefer
    other = 1 - axis
    order = cells[np.lexsort((sub[:, other], sub[:, axis]))]
    cum = np.cumsum(weight[order])
    target = cum[-1] * k1 / k
    cut = int(np.searchsorted(cum, target))
    if cut < len(cum) and cut > 0 and abs(cum[cut - 1] - target) < abs(cum[cut] - target):
        cut -= 1
    cut = min(max(cut + 1, k1), len(order) - (k - k1))
    nxt = None if prefer is None else other
    return bisect(order[:cut], ij, weight, k1, nxt) + bisect(order[cut:], ij, weight, k - k1, nxt)


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
