"""Personal data rules (PIPL, DESIGN §6) shared by every endpoint and report.

- Phones shown to the public are masked (138****5678) unless they are work numbers.
- Counts of people shown to roles below community_worker suppress groups smaller than k:
  ``suppress`` is the one helper every aggregate in the project goes through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Roles allowed to see unsuppressed counts of people (and personal data, within scope).
FULL_COUNT_ROLES = frozenset({"admin", "planner", "street_leader", "community_worker"})
SUPPRESSED = None  # what a suppressed count becomes in JSON (null), never a small number


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``; landlines keep area code and last four digits."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def needs_suppression(role: str | None) -> bool:
    """Anonymous users, analysts and grid workers (below community_worker) get suppressed
    counts."""
    return role not in FULL_COUNT_ROLES


def suppression_floor(role: str | None, k: int) -> int:
    """The smallest non-zero count ``role`` may see, for aggregates made in SQL (tiles):
    groups below it are left out, the same rule as ``suppress_count``."""
    return k if needs_suppression(role) else 1


def suppress_count(n: int | None, role: str | None, k: int) -> int | None:
    if n is None or not needs_suppression(role):
        return n
    return n if n == 0 or n >= k else SUPPRESSED


def suppress(rows: Iterable[Mapping[str, Any]], fields: Sequence[str], role: str | None,
             k: int) -> list[dict[str, Any]]:
    """Copy ``rows`` with every count in ``fields`` below ``k`` (and above 0) replaced by null
    for roles that need it. Zero stays zero: "nobody" reveals no one."""
    out = []
    for row in rows:
        r = dict(row)
        for f in fields:
            if f in r:
                r[f] = suppress_count(r[f], role, k)
        out.append(r)
    return out
