"""Coverage indicators as GeoJSON: per grid, community or street of an area, the counts,
each indicator's value, target and pass/short flag, and a summary; counts of people
suppressed for roles that need it (``/api/v1/coverage``, the dashboard and the reports)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from psycopg import AsyncConnection

from geo import coverage, coverage_co
from geo.access import narrowed, role_of
from geo.auth import User
from geo.db.queries import coverage as q
from geo.privacy import suppress_count
from geo.settings import Settings


def _feature(code: str, name: str | None, level: str, geometry: str | None,
             counts: dict[str, Any], judged: dict[str, Any], role: str | None,
             k: int) -> dict[str, Any]:
    shown = {key: suppress_count(v, role, k) if key in coverage.PEOPLE else v
             for key, v in counts.items()}
    return {"type": "Feature", "id": code,
            "geometry": None if geometry is None else json.loads(geometry),
            "properties": {"code": code, "name": name, "level": level, "counts": shown,
                           "indicators": judged}}


async def coverage_collection(conn: AsyncConnection, user: User | None, settings: Settings,
                              level: str, within: str | None,
                              indicators: list[coverage.Indicator], geometry: bool = True
                              ) -> dict[str, Any]:
    """The FeatureCollection; without ``geometry`` the features' geometries are null (the
    vector tiles take the outlines from the database themselves)."""
    where = narrowed(user, within)
    if level == "grid":  # communities' facts (共建共治) say nothing of one grid
        indicators = [i for i in indicators if i.grid]
    today = date.today()
    rows = await q.grid_counts(conn, where, today, geometry)
    grids = [(r, coverage.grid_counts(r, settings.household_min, settings.household_max))
             for r in rows]
    role, k, targets = role_of(user), settings.k_anonymity, settings.coverage_targets
    by_code = coverage_co.facts(*await q.co_facts(conn, where, today,
                                                 coverage_co.last_quarter(today)),
                                settings.site_area_min_m2, settings.committee_matters_min)
    features = []
    if level == "grid":
        for r, c in grids:
            features.append(_feature(r["code"], r["name"], level, r["geometry"], c,
                                     coverage.judged(c, indicators, targets, role, k), role, k))
    else:
        n = coverage.LEVELS[level]
        for area in await q.areas(conn, level, where[:n], geometry):
            if not area["code"].startswith(where):
                continue  # a street that only contains the asked community is not shown
            c = coverage.total(c for r, c in grids if r["community_code"][:n] == area["code"])
            c.update(coverage_co.under(by_code, area["code"]))
            features.append(_feature(area["code"], area["name"], level, area["geometry"], c,
                                     coverage.judged(c, indicators, targets, role, k), role, k))
    return {"type": "FeatureCollection", "level": level, "within": where or None,
            "targets": {i.key: targets.get(i.key, i.target) for i in indicators},
            "indicators": {i.key: {"name_zh": i.name_zh, "at_most": i.at_most,
                                   "source": i.source} for i in indicators},
            "standards": {"site_area_min_m2": settings.site_area_min_m2,
                          "committee_matters_min": settings.committee_matters_min},
            "summary": coverage.summary(features, indicators), "features": features}
