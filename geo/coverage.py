"""Coverage indicators (网格化治理 targets) per grid, community and street, each with a target
and a pass/short flag. Pure: counts in (``geo.db.queries.coverage``), judgements out.

Every indicator is a function of summed counts, so one definition serves every level: a grid
is a group of one grid (its "share of grids with a worker" is 1 or 0), a community or street
sums its grids' counts first and then divides. Default targets come from the seed texts and
the grid rules; ``Settings.coverage_targets`` overrides any of them.

Counts of people (residents, volunteers, party members, in-service party members) go through
``geo.privacy.suppress_count`` for roles that need it; an indicator made from a suppressed
count is itself null, never a figure that would let the small count be worked out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from geo.errors import InvalidInput
from geo.privacy import suppress_count

Counts = Mapping[str, float | None]
LEVELS = {"grid": 0, "community": 12, "street": 9}  # level → length of its area code
PEOPLE = ("residents", "volunteers", "party_members", "in_service", "member_registrations",
          "seats", "seats_meeting")
SUMMED = ("grids", "grids_with_worker", "grids_with_org", "base_grids", "base_in_range",
          "buildings", "buildings_with_head", "households", "residents", "grid_workers",
          "volunteers", "party_members", "in_service", "issues_open", "issues_overdue",
          "issues_due_resolved",
          "issues_in_time", "rated", "satisfied")


def _ratio(top: str, bottom: str) -> Callable[[Counts], float | None]:
    def value(c: Counts) -> float | None:
        a, b = c.get(top), c.get(bottom)
        if a is None or b is None or b == 0:
            return None
        return round(a / b, 4)
    return value


@dataclass(frozen=True)
class Indicator:
    key: str
    name_zh: str
    value: Callable[[Counts], float | None]
    target: float | None  # None: shown for information, never judged
    at_most: bool = False  # the target is a ceiling (workload), not a floor
    source: str = ""
    grid: bool = True  # False: a fact of communities and streets, not shown for grids

    def judge(self, value: float | None, target: float | None) -> bool | None:
        if value is None or target is None:
            return None
        return value <= target if self.at_most else value >= target


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("grid_worker", "网格员配备率", _ratio("grids_with_worker", "grids"), 1.0,
              source="every grid has a grid worker (一格一员)"),
    Indicator("party_org", "网格党组织覆盖率", _ratio("grids_with_org", "grids"), 1.0,
              source="网格党组织全覆盖 (seeds 001, 003)"),
    Indicator("building_head_share", "楼栋长覆盖率", _ratio("buildings_with_head", "buildings"),
              1.0, source="a 楼栋长 in every building (seed 004)"),
    Indicator("volunteers_per_building", "每栋志愿者数", _ratio("volunteers", "buildings"), 2.0,
              source="at least two volunteers per building"),
    Indicator("volunteers_per_party_member", "志愿者占党员比例",
              _ratio("volunteers", "party_members"), 0.20),
    Indicator("volunteers_per_resident", "志愿者占居民比例", _ratio("volunteers", "residents"),
              0.05),
    Indicator("in_service_per_grid", "在职党员报到(每格)", _ratio("in_service", "grids"), 1.0,
              source="在职党员到居住地社区报到 (seeds 001, 002)"),
    Indicator("households_in_range", "户数在规划范围内的网格比例",
              _ratio("base_in_range", "base_grids"), 1.0,
              source="base grids of 300–500 households (settings)"),
    Indicator("households_per_worker", "每名网格员服务户数",
              _ratio("households", "grid_workers"), 500.0, at_most=True),
    Indicator("issues_open", "未办结民情", lambda c: c.get("issues_open"), None),
    Indicator("issues_overdue", "超期未办结民情", lambda c: c.get("issues_overdue"), 0.0,
              at_most=True, source="限时办结制: open past the limit of its kind (seed 002)"),
    Indicator("issues_in_time", "限时办结率", _ratio("issues_in_time", "issues_due_resolved"),
              0.952, source="95.2% of 民情 resolved (seed 002)"),
    Indicator("satisfaction", "群众满意率", _ratio("satisfied", "rated"), 0.90,
              source="share of rated issues rated 4 or 5"),
    # 共建共治: facts of communities and streets (geo.coverage_co), unknown for a grid
    Indicator("unit_registrations", "单位双报到(每社区)",
              _ratio("unit_registrations", "communities"), None,
              source="seed 003: 412 member units in 43 communities", grid=False),
    Indicator("member_registrations", "在职党员报到(每社区)",
              _ratio("member_registrations", "communities"), None,
              source="seeds 000, 001: in-service members registered at home", grid=False),
    Indicator("posts_claimed", "服务岗位认领率", _ratio("posts_claimed", "posts_offered"), 1.0,
              source="认领服务岗位: every post offered is taken", grid=False),
    Indicator("committee_duty", "兼职委员履职率", _ratio("seats_meeting", "seats"), 1.0,
              source="seed 003: 1+1+N each quarter (a meeting, a project led, N matters)", grid=False),
    Indicator("site_area", "阵地面积达标率", _ratio("sites_standard", "communities"), 1.0,
              source="seed 002: every community's site ≥ 400 m² (settings)", grid=False),
    Indicator("site_area_500", "阵地≥500㎡社区占比", _ratio("sites_500", "communities"), 0.55,
              source="seed 001: 55% of communities", grid=False),
    Indicator("site_area_1000", "阵地≥1000㎡社区占比", _ratio("sites_1000", "communities"), 0.22,
              source="seed 001: 22% of communities", grid=False),
    Indicator("site_off_hours", "阵地错时服务率", _ratio("sites_off_hours", "communities"), 1.0,
              source="seed 002: 错时服务 evenings and weekends", grid=False),
)}


def chosen(keys: str | None) -> list[Indicator]:
    """The indicators named in a comma-separated list (all of them for None)."""
    if not keys:
        return list(INDICATORS.values())
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in INDICATORS]
    if unknown:
        raise InvalidInput(f"indicator: unknown {', '.join(unknown)}; known: "
                           f"{', '.join(INDICATORS)}")
    return [INDICATORS[k] for k in wanted]


def grid_counts(row: Mapping[str, Any], household_min: int, household_max: int) -> dict[str, Any]:
    """A grid's row of counts, with the per-grid flags that sum into shares of grids."""
    c = {k: row[k] for k in SUMMED if k in row}
    base = row["kind"] == "base"
    c.update(grids=1, grids_with_worker=int(row["grid_workers"] > 0),
             grids_with_org=int(row["party_orgs"] > 0), base_grids=int(base),
             base_in_range=int(base and household_min <= row["households"] <= household_max))
    return c


def total(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(SUMMED, 0)
    for r in rows:
        for k in SUMMED:
            out[k] += r[k]
    return out


def judged(counts: Mapping[str, Any], indicators: list[Indicator],
           targets: Mapping[str, float | None], role: str | None, k: int) -> dict[str, Any]:
    """Values, targets and flags of ``indicators`` for one group's counts, seen by ``role``
    (counts of people suppressed below ``k`` where the role requires it)."""
    seen = dict(counts)
    for key in PEOPLE:
        seen[key] = suppress_count(seen.get(key), role, k)
    out = {}
    for ind in indicators:
        target = targets.get(ind.key, ind.target)
        value = ind.value(seen)
        out[ind.key] = {"value": value, "target": target, "pass": ind.judge(value, target)}
    return out


def summary(features: list[dict[str, Any]], indicators: list[Indicator]) -> dict[str, Any]:
    """Per indicator: how many areas pass, fall short, or cannot be judged."""
    out = {}
    for ind in indicators:
        flags = [f["properties"]["indicators"][ind.key]["pass"] for f in features]
        out[ind.key] = {"name_zh": ind.name_zh, "pass": flags.count(True),
                        "short": flags.count(False), "unknown": flags.count(None)}
    return out
