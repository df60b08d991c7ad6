"""The sheets of a 共建共治 workbook and their headers (Chinese, English), in the order they
are read: later sheets name what earlier ones hold (a claim names its unit and post)."""

from __future__ import annotations

from geo.importers.columns import Aliases

_UNIT = ("单位名称", "单位", "共建单位", "unit", "unit_name")
_AREA = ("社区编码", "社区", "所属社区", "区域编码", "所属区域", "街道", "community", "area")
_DATE = ("报到日期", "认领日期", "加入日期", "成立日期", "开始日期", "日期", "date")
_PERSON = ("姓名", "党员姓名", "name")
_PHONE = ("电话", "手机", "联系电话", "phone")

UNITS: Aliases = {"name": _UNIT, "kind": ("单位类型", "类型", "类别", "kind"),
                  "address": ("地址", "address"), "community": _AREA,
                  "joint": ("联席会议成员", "是否联席", "joint_meeting_member")}
REGISTRATIONS: Aliases = {"unit": _UNIT, "community": _AREA, "date": _DATE}
POSTS: Aliases = {"community": _AREA, "name": ("岗位名称", "岗位", "post", "name"),
                  "kind": ("岗位类型", "类型", "kind"), "slots": ("岗位数", "人数", "slots")}
PROJECTS: Aliases = {"community": _AREA, "name": ("项目名称", "项目", "project", "name"),
                     "kind": ("项目类型", "类型", "kind"), "status": ("状态", "status"),
                     "date": _DATE}
CLAIMS: Aliases = {"community": _AREA, "post": ("岗位名称", "岗位", "post"),
                   "project": ("项目名称", "项目", "project"), "unit": _UNIT,
                   "person": _PERSON, "phone": _PHONE, "date": _DATE,
                   "leads": ("领办", "是否领办", "leads")}
SEATS: Aliases = {"person": _PERSON, "phone": _PHONE, "unit": _UNIT,
                  "area": ("任职社区", "任职街道", "任职区域", *_AREA),
                  "date": ("任职日期", "开始日期", "valid_from"),
                  "quarter": ("季度", "quarter"),
                  "meetings": ("参加议事会", "议事会次数", "参会次数", "meetings"),
                  "projects_led": ("领办项目", "领办项目数", "projects_led"),
                  "matters": ("协助实事", "办实事数", "实事数", "matters")}
ALLIANCES: Aliases = {"name": ("联盟名称", "联盟", "alliance", "name"),
                      "kind": ("联盟类型", "类型", "kind"), "area": _AREA,
                      "grid": ("网格编码", "商圈网格", "grid"), "lead": ("牵头单位", "lead_unit"),
                      "date": _DATE}
MEMBERS: Aliases = {"alliance": ("联盟名称", "联盟", "alliance"), "unit": _UNIT, "date": _DATE}
SITES: Aliases = {"name": ("阵地名称", "名称", "设施名称", "name"), "community": _AREA,
                  "area": ("面积", "建筑面积", "使用面积", "floor_area_m2"),
                  "hours": ("开放时间", "服务时间", "opening_hours"),
                  "windows": ("服务窗口", "窗口", "service_windows")}

# sheet kind → (names the sheet may have, headers, required fields)
SHEETS: dict[str, tuple[tuple[str, ...], Aliases, tuple[str, ...]]] = {
    "units": (("共建单位", "单位", "units"), UNITS, ("name", "kind")),
    "registrations": (("双报到", "单位报到", "报到", "registrations"), REGISTRATIONS,
                      ("unit", "community", "date")),
    "posts": (("服务岗位", "岗位", "posts"), POSTS, ("community", "name")),
    "projects": (("帮扶项目", "项目", "projects"), PROJECTS, ("community", "name")),
    "claims": (("认领", "岗位认领", "claims"), CLAIMS, ("community",)),
    "seats": (("兼职委员", "兼职委员履职", "committee"), SEATS, ("person", "area", "quarter")),
    "alliances": (("区域党建联盟", "党建联盟", "联盟", "alliances"), ALLIANCES,
                  ("name", "kind", "area")),
    "members": (("联盟成员", "联盟成员单位", "alliance_members"), MEMBERS, ("alliance", "unit")),
    "sites": (("阵地", "服务阵地", "sites"), SITES, ("name",)),
}
