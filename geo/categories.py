"""Facility categories are data: codes, Chinese names, service group and walk threshold.

Thresholds follow the MOFCOM 2021 一刻钟便民生活圈 guide as used in practice (DESIGN §2):
5 min for 便利店; 10 min for 菜市场, 药店, 早餐店; 15 min for the rest of the everyday services.
The table ``facility_categories`` is filled from here by the demo loader and importers
(``ensure_categories``); planners may add rows of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    group: str  # basic | quality | party | public
    walk_minutes: int | None


CATEGORIES: tuple[Category, ...] = (
    Category("party_service_center", "党群服务中心", "party", 15),
    Category("discussion_room", "小区说事室", "party", None),
    Category("new_sector_station", "新兴领域党建驿站", "party", None),
    Category("convenience_store", "便利店", "basic", 5),
    Category("market", "菜市场", "basic", 10),
    Category("pharmacy", "药店", "basic", 10),
    Category("breakfast", "早餐店", "basic", 10),
    Category("supermarket", "超市", "basic", 15),
    Category("parcel_station", "快递服务站", "basic", 15),
    Category("laundry", "洗染店", "basic", 15),
    Category("hairdresser", "美容美发", "basic", 15),
    Category("housekeeping", "家政服务", "basic", 15),
    Category("repair", "维修点", "basic", 15),
    Category("clinic", "社区卫生服务站", "quality", 15),
    Category("elderly_care", "养老服务站", "quality", 15),
    Category("kindergarten", "托幼机构", "quality", 15),
    Category("fitness", "健身场所", "quality", 15),
    Category("school", "学校", "public", None),
    Category("hospital", "医院", "public", None),
    Category("points_exchange", "积分兑换站", "party", None),
    Category("volunteer_station", "志愿服务站", "party", None),
)

BY_CODE = {c.code: c for c in CATEGORIES}
# Accept Chinese names and a few common synonyms in imported files.
ALIASES: dict[str, str] = {c.name_zh: c.code for c in CATEGORIES} | {
    "农贸市场": "market", "菜场": "market", "综合超市": "supermarket", "快递": "parcel_station",
    "快递站": "parcel_station", "卫生服务站": "clinic", "社区卫生服务中心": "clinic",
    "诊所": "clinic", "养老": "elderly_care", "日间照料中心": "elderly_care", "幼儿园": "kindergarten",
    "托幼": "kindergarten", "健身": "fitness", "早餐": "breakfast", "党建驿站": "new_sector_station",
    "社区综合服务中心": "party_service_center", "党群服务站": "party_service_center",
}


def resolve(value: str) -> str | None:
    """A category code for a code, Chinese name or alias; None when unknown."""
    v = value.strip()
    if v in BY_CODE:
        return v
    return ALIASES.get(v)


def ensure_categories(conn: psycopg.Connection) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO facility_categories (code, name_zh, service_group, walk_minutes) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (code) DO NOTHING",
            [(c.code, c.name_zh, c.group, c.walk_minutes) for c in CATEGORIES],
        )
