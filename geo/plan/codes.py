"""Grid codes: the 12-digit community code followed by a 3-digit sequence (001…999), numbered
west→east within rows and rows north→south (从西向东、从北向南) inside the community."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidInput
from geo.plan.model import PlanGrid

SEQUENCE_MAX = 999
_COMMUNITY = re.compile(r"\d{12}")


def _check_community(community: str) -> None:
    if not isinstance(community, str) or not _COMMUNITY.fullmatch(community):
        raise InvalidInput(f"community: {community!r} is not a 12-digit community code")


def reading_order(geoms: Sequence[BaseGeometry]) -> list[int]:
    """Indices of ``geoms`` in reading order: rows north→south, west→east inside a row.

    Grids never line up exactly, so rows are latitude bands rather than equal latitudes. The
    band height is the extent's height / ceil(sqrt(n)): n grids tiling a roughly square
    community form about sqrt(n) rows, so a band is about one row high and the small vertical
    jitter between grids of one row does not break the row apart. Each geometry is placed by
    its representative point (always inside it, unlike a centroid of an L-shaped grid).
    Only positions are compared here, nothing is measured, so degrees are fine. Ties (same
    band, same longitude) fall back to the northern point first, then the input index.
    """
    n = len(geoms)
    if n == 0:
        return []
    points = [g.representative_point() for g in geoms]
    north = max(g.bounds[3] for g in geoms)
    south = min(g.bounds[1] for g in geoms)
    rows = math.ceil(math.sqrt(n))
    height = (north - south) / rows

    def band(y: float) -> int:
        if height <= 0.0:
            return 0
        return min(int((north - y) / height), rows - 1)

    return sorted(range(n), key=lambda i: (band(points[i].y), points[i].x, -points[i].y, i))


def _sequences(community: str, used: Iterable[str]) -> set[int]:
    taken = set()
    for code in used:
        if len(code) == 15 and code.startswith(community) and code[12:].isdigit():
            taken.add(int(code[12:]))
    return taken


def next_codes(community: str, used: set[str], n: int) -> list[str]:
    """The ``n`` smallest free codes of ``community`` (codes of other communities in ``used``
    are ignored)."""
    _check_community(community)
    if n < 0:
        raise InvalidInput(f"n: {n} is negative")
    taken = _sequences(community, used)
    free: list[str] = []
    for seq in range(1, SEQUENCE_MAX + 1):
        if len(free) == n:
            break
        if seq not in taken:
            free.append(f"{community}{seq:03d}")
    if len(free) < n:
        raise InvalidInput(f"community: {community} has only {len(free)} free grid codes "
                           f"of {SEQUENCE_MAX}, {n} needed")
    return free


def renumber(grids: list[PlanGrid], community: str) -> dict[int, str]:
    """Key → new code for every grid of ``community``: 001, 002, … in reading order."""
    _check_community(community)
    mine = [g for g in grids if g.community_code == community]
    if len(mine) > SEQUENCE_MAX:
        raise InvalidInput(f"community: {community} has {len(mine)} grids, more than the "
                           f"{SEQUENCE_MAX} codes available")
    order = reading_order([g.geom for g in mine])
    return {mine[i].key: f"{community}{seq:03d}" for seq, i in enumerate(order, start=1)}
