"""Crosswalk between two grid layers: every grid of one (``old``) → the grids of the other
that take part of it, with the share of its area and of its households each takes; what no
grid of the other takes is listed as uncovered, so the shares of every old grid sum to 1.
Asked the other way round, the same function gives the new → old direction."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import shapely

from geo.merge.overlay import Ints, Layer, households_by_pair, intersect

UNCOVERED = None  # the "new grid" of the part no grid takes


def crosswalk(old: Layer, new: Layer, households: Ints, tolerance_m2: float = 1.0
              ) -> list[dict[str, Any]]:
    """One row per (old grid, new grid) that share area or households, plus one per old grid
    for its uncovered rest (when there is any), old grids in code order."""
    pieces = intersect(old.geoms, new.geoms, tolerance_m2)
    area = pieces.area
    total = shapely.area(old.geoms)
    held = households_by_pair(old, new, households, in_b=False)
    per_old = np.zeros(len(old.codes), dtype=np.int64)
    for (i, _), h in held.items():
        per_old[i] += h
    parts: dict[int, dict[int, float]] = {}
    for i, j, s in zip(pieces.left.tolist(), pieces.right.tolist(), area.tolist(), strict=True):
        parts.setdefault(i, {})[j] = parts.get(i, {}).get(j, 0.0) + s
    for i, j in held:  # households in a grid that meets this one in no area
        parts.setdefault(i, {}).setdefault(j, 0.0)
    rows = []
    for i in sorted(range(len(old.codes)), key=lambda i: old.codes[i]):
        mine = parts.get(i, {})
        rest = max(0.0, float(total[i]) - sum(s for j, s in mine.items() if j >= 0))
        if rest > tolerance_m2 or held.get((i, -1), 0):
            mine[-1] = rest
        for j, s in sorted(mine.items(), key=lambda js: -js[1]):
            h = held.get((i, j), 0)
            rows.append({"old": old.codes[i], "new": new.codes[j] if j >= 0 else UNCOVERED,
                         "area_m2": round(s, 1), "area_share": round(s / float(total[i]), 6),
                         "households": h, "household_share":
                         round(h / int(per_old[i]), 6) if per_old[i] else None})
    return rows


def as_csv(rows: list[dict[str, Any]], old: str, new: str) -> str:
    """The crosswalk as CSV (UTF-8 with a BOM, so that Excel reads the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([f"{old}网格", f"{new}网格", "面积(m²)", "面积占比", "户数", "户数占比"])
    for r in rows:
        writer.writerow([r["old"], r["new"] or "（未覆盖）", r["area_m2"], r["area_share"],
                         r["households"], "" if r["household_share"] is None
                         else r["household_share"]])
    return out.getvalue()
