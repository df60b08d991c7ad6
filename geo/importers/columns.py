"""Which header means which field: one alias table per entity, Chinese and English.

Headers are compared after dropping a bracketed unit (``面积(㎡)``), spaces, ``_`` and ``-``
and case. Shapefile field names are cut to 10 bytes, so each alias also matches its
10-character / 10-byte (UTF-8 or GBK) truncation. Within a field the first alias that a
header matches wins, so ``社区编码`` is preferred to ``社区`` when a file has both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from geo.importers.result import Problems

Aliases = dict[str, tuple[str, ...]]

LON = ("经度", "lon", "lng", "long", "longitude", "x")
LAT = ("纬度", "lat", "latitude", "y")
WKT = ("wkt", "geometry", "geom", "几何", "坐标串")

_HOUSEHOLDS = ("户数", "households", "hh")
_RESIDENTS = ("人口", "人数", "常住人口", "居民人数", "residents", "population")
_COMMUNITY = ("社区编码", "社区代码", "community_code", "社区", "所属社区", "community")

AREA: Aliases = {
    "code": ("编码", "代码", "区划代码", "行政区划代码", "code", "adcode"),
    "name": ("名称", "区划名称", "name"),
    "level": ("级别", "层级", "level"),
    "parent": ("上级编码", "上级代码", "上级", "parent_code", "parent"),
    "households": _HOUSEHOLDS,
    "residents": _RESIDENTS,
}

GRID: Aliases = {
    "code": ("网格编码", "网格代码", "编码", "代码", "grid_code", "code"),
    "name": ("网格名称", "名称", "name"),
    "kind": ("网格类型", "类型", "kind", "type"),
    "dedicated_type": ("专属类型", "专属网格类型", "dedicated_type", "ded_type"),
    "community": _COMMUNITY,
    "households": _HOUSEHOLDS,
    "residents": _RESIDENTS,
}

BUILDING: Aliases = {
    "address": ("地址", "楼栋地址", "门牌地址", "address", "addr"),
    "name": ("名称", "楼栋名称", "楼栋", "name"),
    "households": _HOUSEHOLDS,
    "residents": _RESIDENTS,
    "floors": ("层数", "楼层数", "楼层", "floors", "levels"),
    "community": _COMMUNITY,
    "source_id": ("楼栋编码", "楼栋编号", "编号", "source_id", "id"),
}

FACILITY: Aliases = {
    "category": ("类别", "类型", "分类", "category", "type"),
    "name": ("名称", "name"),
    "address": ("地址", "address", "addr"),
    "phone": ("电话", "联系电话", "phone", "tel"),
    "opening_hours": ("营业时间", "开放时间", "服务时间", "opening_hours", "hours"),
    "floor_area_m2": ("面积", "建筑面积", "使用面积", "floor_area_m2", "floor_area", "area_m2"),
    "community": _COMMUNITY,
    "source_id": ("编号", "source_id", "id"),
}

PERSON: Aliases = {
    "name": ("姓名", "名字", "name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "phone", "mobile"),
    "gender": ("性别", "gender", "sex"),
    "birth_year": ("出生年份", "出生年", "出生日期", "birth_year", "birthdate", "born"),
    "party_status": ("党员身份", "党员类别", "党籍", "政治面貌", "party_status", "party"),
    "address": ("住址", "楼栋地址", "地址", "home_address", "address"),
    "home_unit": ("单元房号", "门牌号", "房号", "单元", "home_unit", "unit"),
}

ROLE: Aliases = {
    "name": ("姓名", "名字", "name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "phone", "mobile"),
    "role": ("角色", "职务", "身份", "role"),
    "grid": ("网格编码", "网格代码", "网格", "grid_code", "grid"),
    "building": ("楼栋地址", "楼栋", "地址", "building_address", "building", "address"),
    "community": _COMMUNITY,
    "valid_from": ("开始日期", "起始日期", "任职日期", "生效日期", "valid_from", "from"),
    "valid_to": ("结束日期", "截止日期", "离任日期", "valid_to", "to"),
    "published": ("公开", "是否公开", "published", "public"),
    "work_phone": ("工作电话", "办公电话", "work_phone"),
}

# 民情台账 / 社情日记: the ledgers communities keep of residents' issues.
ISSUE: Aliases = {
    "reported_at": ("受理时间", "反映时间", "登记时间", "受理日期", "日期", "reported_at", "date"),
    "category": ("问题类别", "类别", "分类", "category"),
    "kind": ("办件类型", "件类", "办件类别", "kind"),
    "channel": ("反映渠道", "来源渠道", "渠道", "来源", "channel"),
    "description": ("问题描述", "反映内容", "内容", "描述", "事项", "description"),
    "status": ("办理状态", "状态", "status"),
    "resolved_at": ("办结时间", "完成时间", "办结日期", "resolved_at"),
    "feedback": ("办理结果", "答复内容", "处理结果", "答复", "feedback"),
    "satisfaction": ("满意度", "群众评价", "评价", "satisfaction"),
    "reporter_name": ("反映人", "姓名", "reporter_name", "reporter"),
    "reporter_phone": ("联系电话", "电话", "手机", "reporter_phone", "phone"),
    "receipt_code": ("受理编号", "编号", "receipt_code", "code"),
}


def normalize_header(text: object) -> str:
    s = re.sub(r"[（(【\[].*?[)）】\]]", "", str(text))
    return re.sub(r"[\s_\-]+", "", s).casefold()


def _truncations(alias: str) -> set[str]:
    out = {alias, alias[:10]}
    for enc in ("utf-8", "gbk"):
        raw = alias.encode(enc, errors="ignore")[:10]
        out.add(raw.decode(enc, errors="ignore"))
    return {normalize_header(a) for a in out if a}


def _rank(header: str, aliases: tuple[str, ...]) -> int | None:
    h = normalize_header(header)
    for rank, alias in enumerate(aliases):
        if h == normalize_header(alias):
            return rank
    for rank, alias in enumerate(aliases):
        if h in _truncations(alias):
            return len(aliases) + rank
    return None


def find(headers: Sequence[str], aliases: tuple[str, ...],
         taken: set[str] | None = None) -> str | None:
    """The header that best matches ``aliases`` (not one already taken), or None."""
    best: tuple[int, str] | None = None
    for header in headers:
        if taken and header in taken:
            continue
        rank = _rank(header, aliases)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, header)
    return best[1] if best else None


def map_columns(headers: Sequence[str], table: Aliases, required: Sequence[str],
                problems: Problems) -> dict[str, str]:
    """Field name → header in the file; a missing required field is an error that names it
    and lists the columns found."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for name, aliases in table.items():
        header = find(headers, aliases, taken)
        if header is not None:
            mapping[name] = header
            taken.add(header)
    found = ", ".join(str(h) for h in headers) or "(none)"
    for name in required:
        if name not in mapping:
            problems.error("header", f"missing required column {name!r} "
                           f"({' / '.join(table[name])}); columns found: {found}")
    return mapping
