"""共建共治 facts for the coverage indicators (pure): per community, its registrations, posts
offered and claimed, whether its largest 党群服务中心 meets the floor-area standards and opens
outside working hours; per community or street, its committee seats and those that kept to
"1+1+N" in the last complete quarter. An area's facts are those of the codes under it; a grid
has none (its indicators stay unknown)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from geo.errors import InvalidInput
from geo.hours import off_hours, to_osm

FACTS = ("communities", "unit_registrations", "member_registrations", "posts_offered",
         "posts_claimed", "seats", "seats_meeting", "sites_standard", "sites_500", "sites_1000",
         "sites_off_hours")


def last_quarter(day: date) -> str:
    """The last quarter that has ended by ``day``: duty lists are judged on whole quarters."""
    q = (day.month - 1) // 3  # quarters ended this year
    return f"{day.year}Q{q}" if q else f"{day.year - 1}Q4"


def _opens_off_hours(hours: list[str] | None) -> bool:
    """Whether one of a community's sites opens outside working hours; hours stored in
    Chinese are translated, unreadable ones count as not shown to be open then."""
    for text in hours or []:
        try:
            if off_hours(to_osm(text)):
                return True
        except InvalidInput:
            continue
    return False


def community_facts(row: Mapping[str, Any], site_min_m2: float) -> dict[str, int]:
    area = row["site_area"]
    area = float(area) if area is not None else 0.0
    return {"communities": 1, "unit_registrations": row["unit_registrations"],
            "member_registrations": row["member_registrations"],
            "posts_offered": int(row["posts_offered"]), "posts_claimed": int(row["posts_claimed"]),
            "seats": 0, "seats_meeting": 0, "sites_standard": int(area >= site_min_m2),
            "sites_500": int(area >= 500), "sites_1000": int(area >= 1000),
            "sites_off_hours": int(_opens_off_hours(row["site_hours"]))}


def keeps_duties(seat: Mapping[str, Any], matters_min: int) -> bool:
    return (seat["meetings"] or 0) >= 1 and (seat["projects_led"] or 0) >= 1 and \
        (seat["matters"] or 0) >= matters_min


def facts(communities: Iterable[Mapping[str, Any]], seats: Iterable[Mapping[str, Any]],
          site_min_m2: float, matters_min: int) -> dict[str, dict[str, int]]:
    """Area code → its own facts (seats at the code they sit at)."""
    out = {r["code"]: community_facts(r, site_min_m2) for r in communities}
    for seat in seats:
        own = out.setdefault(seat["code"], dict.fromkeys(FACTS, 0))
        own["seats"] += 1
        own["seats_meeting"] += int(keeps_duties(seat, matters_min))
    return out


def under(by_code: Mapping[str, Mapping[str, int]], code: str) -> dict[str, int]:
    """The facts of every code under ``code`` (itself included), summed."""
    out = dict.fromkeys(FACTS, 0)
    for c, f in by_code.items():
        if c.startswith(code):
            for k in FACTS:
                out[k] += f[k]
    return out
