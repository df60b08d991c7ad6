"""People, roles, party organisations, co-building units and a year of resident issues.

Counts follow seed 003 (碧江区): 100 full-time and 1,060 part-time grid workers, building
heads on most buildings, ~5,400 in-service party members registered at their home
community, ~8,000 volunteers, 412 joint-meeting member units, 116 part-time committee
members, 43 community instructors. One person often holds several roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np

from geo.demo import names
from geo.demo.city import City

CST = timezone(timedelta(hours=8))
DEMO_END = datetime(2026, 11, 21, 18, 0, tzinfo=CST)
UNIT_KINDS = [("government", 46, "市直"), ("government", 111, "区直"),
              ("private_enterprise", 128, "非公企业"), ("social_organization", 36, "社会组织"),
              ("financial", 13, "金融机构"), ("property_company", 78, "物业")]
UNIT_SUFFIX = {"市直": "市{}局", "区直": "区{}局", "非公企业": "{}有限公司", "社会组织": "{}协会",
               "金融机构": "{}银行支行", "物业": "{}物业服务有限公司"}
DUTY_POSTS = ["治安巡逻", "政策宣传", "义务教育", "社会公德", "便民服务", "纠纷调解", "参政议政", "行风监督"]
PROJECTS = ["老旧小区改造", "背街小巷整治", "一老一小关爱", "就业推荐", "文明创建", "邻里互助",
            "法律援助", "书香社区", "平安守望", "红色物业"]
ISSUE_CATEGORIES = ["环境卫生", "治安", "邻里纠纷", "水电气暖", "物业", "设施维修", "困难帮扶", "其他"]
ISSUE_KINDS = ("immediate", "time_limited", "committed", "remedial", "suggestion")
CHANNELS = ["resident_page", "grid_worker", "hotline", "mailbox"]


@dataclass
class Roster:
    # name, phone, gender, birth_year, home_building, unit, party
    people: list[tuple] = field(default_factory=list)
    # person, role, grid, building, area, unit, from, published, work_phone
    roles: list[tuple] = field(default_factory=list)
    # kind, name, area, grid, building, secretary, members
    party_orgs: list[tuple] = field(default_factory=list)
    units: list[tuple] = field(default_factory=list)  # name, kind
    registrations: list[tuple] = field(default_factory=list)  # unit, community, date, posts, projects
    issues: list[tuple] = field(default_factory=list)


class _People:
    def __init__(self, rng: np.random.Generator, city: City, expected: int) -> None:
        self.rng = rng
        self.city = city
        self.names = names.person_names(rng, expected)
        self.phones = names.phones(rng, expected)
        hh = np.array([b.households for b in city.buildings], float)
        # Homes drawn in one go: one weighted draw per person would cost O(buildings) each.
        self.homes = rng.choice(len(hh), size=expected, p=hh / hh.sum())
        self.rows: list[tuple] = []

    def new(self, home: int | None = None, party: str | None = None) -> int:
        k = len(self.rows)
        if home is None:
            home = int(self.homes[k])
        floors = self.city.buildings[home].floors
        unit = f"{self.rng.integers(1, 4)}单元{self.rng.integers(1, floors + 1)}{self.rng.integers(1, 5):02d}"
        gender = "F" if self.rng.random() < 0.52 else "M"
        self.rows.append((self.names[k], self.phones[k], gender, int(self.rng.integers(1950, 2004)),
                          home, unit, party))
        return k


def _start(rng: np.random.Generator) -> date:
    return date(2021, 1, 1) + timedelta(days=int(rng.integers(0, 1800)))


def build_roster(rng: np.random.Generator, city: City, scale: int) -> Roster:
    r = Roster()
    p = _People(rng, city, 26000 * scale)
    base = [gi for gi, g in enumerate(city.grids) if g.kind == "base"]
    grid_hh = np.array([city.households[city.grids[g].blocks].sum() for g in base], float)
    _grid_workers(rng, r, p, base, grid_hh, scale)
    _building_heads(rng, r, p, city)
    _units(rng, r, city)
    _party_members(rng, r, p, city, scale)
    _volunteers(rng, r, p, city, scale)
    _officials(rng, r, p, city, scale)
    _party_orgs(rng, r, city, base)
    r.people = p.rows
    r.issues = build_issues(rng, city, scale)
    return r


def _grid_workers(rng: np.random.Generator, r: Roster, p: _People, base: list[int],
                  grid_hh: np.ndarray, scale: int) -> None:
    full = [base[i] for i in np.argsort(-grid_hh)[: 100 * scale]]
    leaderless = set(rng.choice(base, 4 * scale, replace=False).tolist())
    full_worker: dict[int, int] = {}
    for g in full:
        k = p.new()
        full_worker[g] = k
        r.roles.append((k, "grid_worker_full", g, None, None, None, _start(rng), True,
                        f"0856-52{rng.integers(0, 100000):05d}"))
    for g in base:
        if g in leaderless:
            continue
        leader = full_worker.get(g)
        if leader is None:
            leader = p.new()
        r.roles.append((leader, "grid_leader", g, None, None, None, _start(rng), True, None))
    # A few grids are left without a part-time worker, so coverage indicators have work to do.
    uncovered = set(rng.choice(base, 3 * scale, replace=False).tolist()) - set(full)
    share = np.where([g in uncovered for g in base], 0.0, grid_hh)
    for g in rng.choice(base, 1060 * scale, p=share / share.sum()):
        r.roles.append((p.new(), "grid_worker_part", int(g), None, None, None, _start(rng), False,
                        None))


def _building_heads(rng: np.random.Generator, r: Roster, p: _People, city: City) -> None:
    for bi, b in enumerate(city.buildings):
        if rng.random() < 0.9:
            party = "registered" if rng.random() < 0.4 else None
            k = p.new(home=bi, party=party)
            r.roles.append((k, "building_head", None, bi, None, None, _start(rng), True, None))
            if party:
                comm = city.grids[city.block_grid[b.block]].community
                r.roles.append((k, "party_member", None, None, comm, None, _start(rng), False, None))


def _units(rng: np.random.Generator, r: Roster, city: City) -> None:
    used: set[str] = set()
    for kind, count, label in UNIT_KINDS:
        for _ in range(count):
            while True:
                nm = UNIT_SUFFIX[label].format(str(rng.choice(names.UNIT_WORDS))
                                               + str(rng.choice(names.ROAD_WORDS)))
                if nm not in used:
                    used.add(nm)
                    break
            r.units.append((nm, "public_institution" if label == "区直" and rng.random() < 0.3
                            else kind))
    comms = [c.code for c in city.communities]
    for u in range(len(r.units)):
        for comm in rng.choice(comms, 1 + int(rng.random() < 0.3), replace=False):
            posts = sorted(rng.choice(DUTY_POSTS, int(rng.integers(1, 4)), replace=False).tolist())
            projects = sorted(rng.choice(PROJECTS, int(rng.integers(0, 3)), replace=False).tolist())
            r.registrations.append((u, str(comm), _start(rng), posts, projects))


def _community_of_building(city: City, bi: int) -> str:
    return city.grids[city.block_grid[city.buildings[bi].block]].community


def _party_members(rng: np.random.Generator, r: Roster, p: _People, city: City,
                   scale: int) -> None:
    for _ in range(6200 * scale):  # registered here (在册)
        k = p.new(party="registered" if rng.random() < 0.93 else "mobile")
        comm = _community_of_building(city, p.rows[k][4])
        r.roles.append((k, "party_member", None, None, comm, None, _start(rng), False, None))
    for _ in range(5400 * scale):  # in-service members registered at their home community
        k = p.new(party="in_service")
        comm = _community_of_building(city, p.rows[k][4])
        unit = int(rng.integers(0, len(r.units)))
        r.roles.append((k, "party_member", None, None, comm, unit, _start(rng), False, None))


def _volunteers(rng: np.random.Generator, r: Roster, p: _People, city: City, scale: int) -> None:
    party_people = [k for k, row in enumerate(p.rows) if row[6]]
    from_party = rng.choice(party_people, 2600 * scale, replace=False)
    for k in from_party:
        r.roles.append((int(k), "volunteer", None, int(p.rows[k][4]), None, None, _start(rng),
                        False, None))
    for _ in range(5400 * scale):
        k = p.new()
        r.roles.append((k, "volunteer", None, p.rows[k][4], None, None, _start(rng), False, None))


def _officials(rng: np.random.Generator, r: Roster, p: _People, city: City, scale: int) -> None:
    comms = [c.code for c in city.communities]
    streets = [s.code for s in city.streets]
    for i in range(116 * scale):
        area = str(rng.choice(streets)) if i % 4 == 0 else str(rng.choice(comms))
        k = p.new(party="in_service")
        r.roles.append((k, "committee_member", None, None, area, int(rng.integers(0, len(r.units))),
                        _start(rng), False, None))
    for comm in comms:
        for role in ("community_instructor", "community_secretary"):
            k = p.new(party="registered")
            r.roles.append((k, role, None, None, comm, None, _start(rng), True,
                            f"0856-52{rng.integers(0, 100000):05d}"))


def _party_orgs(rng: np.random.Generator, r: Roster, city: City, base: list[int]) -> None:
    secretaries = {role[4]: role[0] for role in r.roles if role[1] == "community_secretary"}
    for s in city.streets:
        r.party_orgs.append(("street_working_committee", f"{s.name}大工委", s.code, None, None,
                             None, None))
    for c in city.communities:
        r.party_orgs.append(("community_committee", f"{c.name}大党委", c.code, None, None,
                             secretaries.get(c.code), None))
    members_by_comm: dict[str, int] = {}
    for role in r.roles:
        if role[1] == "party_member" and role[4]:
            members_by_comm[role[4]] = members_by_comm.get(role[4], 0) + 1
    without = set(rng.choice(base, 3, replace=False).tolist())
    for g in base:
        if g in without:
            continue
        grid = city.grids[g]
        share = members_by_comm.get(grid.community, 0) // 5
        kind = "grid_branch" if share >= 30 else "grid_group"
        label = "党支部" if kind == "grid_branch" else "党小组"
        r.party_orgs.append((kind, f"{grid.name}{label}", grid.community, g, None, None, share))
    for bi in rng.choice(len(city.buildings), len(city.buildings) // 15, replace=False):
        b = city.buildings[int(bi)]
        r.party_orgs.append(("building_group", f"{b.address}楼栋党小组",
                             _community_of_building(city, int(bi)), None, int(bi), None,
                             int(rng.integers(3, 12))))


def build_issues(rng: np.random.Generator, city: City, scale: int) -> list[tuple]:
    """A year of 民情 up to DEMO_END, clustered on some buildings, most closed in time; each
    due by the default working-day limits of its kind (geo.issues.limits)."""
    from geo.issues.limits import Calendar
    from geo.settings import Settings

    calendar = Calendar.of(Settings.model_construct())  # the defaults, not the environment
    n = 3200 * scale
    hh = np.array([b.households for b in city.buildings], float)
    hotness = rng.lognormal(0, 1.0, len(hh)) * hh
    picks = rng.choice(len(hh), n, p=hotness / hotness.sum())
    days = np.sort(rng.uniform(0, 365, n))
    kinds = list(ISSUE_KINDS)
    out = []
    for i, (bi, d) in enumerate(zip(picks, days, strict=True)):
        reported = DEMO_END - timedelta(days=float(365 - d))
        kind = str(rng.choice(kinds, p=[0.4, 0.3, 0.15, 0.05, 0.1]))
        out.append(_issue(rng, i, int(bi), reported, kind, calendar.due(reported, kind)))
    return out


def _issue(rng: np.random.Generator, i: int, bi: int, reported: datetime, kind: str,
           due: datetime) -> tuple:
    """(code, category, kind, channel, status, text, building, reported, assigned, resolved,
    feedback_at, closed, due, satisfaction, has_reporter)"""
    cat = str(rng.choice(ISSUE_CATEGORIES, p=[0.22, 0.08, 0.12, 0.16, 0.2, 0.14, 0.05, 0.03]))
    limit = (due - reported).total_seconds()
    took = timedelta(seconds=float(limit * rng.uniform(0.1, 0.95 if rng.random() < 0.93 else 1.8)))
    resolved = reported + took
    assigned = reported + timedelta(hours=float(rng.uniform(0.2, 6)))
    feedback_at = closed = satisfaction = None
    if resolved > DEMO_END:
        status = "in_progress" if assigned <= DEMO_END else "received"
        resolved_at = None
        assigned_at = assigned if assigned <= DEMO_END else None
    else:
        resolved_at, assigned_at, status = resolved, assigned, "resolved"
        published = resolved + timedelta(days=float(rng.uniform(0.2, 2)))
        if published <= DEMO_END:
            status, feedback_at = "feedback_published", published
            closed_at = published + timedelta(days=float(rng.uniform(1, 5)))
            if closed_at <= DEMO_END:
                status, closed = "closed", closed_at
        satisfaction = int(rng.choice([5, 4, 3, 2], p=[0.7, 0.22, 0.06, 0.02]))
    if status in ("in_progress",) and rng.random() < 0.1:
        status = "escalated"
    text = f"{cat}：居民反映相关问题，请网格员核实处理。"
    code = f"MQ{reported:%Y%m%d}-D{i:07d}"
    reporter = rng.random() < 0.6
    return (code, cat, kind, str(rng.choice(CHANNELS, p=[0.3, 0.4, 0.2, 0.1])), status, text, bi,
            reported, assigned_at, resolved_at, feedback_at, closed, due, satisfaction, reporter)
