"""The CRUD resources of 共建共治 (geo/resources.py describes the rest): co-building units and
their 双报到 at communities, the posts and projects a community offers and who claims them,
the "1+1+N" duty records of part-time committee members (whose seats are ``committee_member``
roles), party members' duty posts (设岗定责), honours (党员示范户, 先锋楼, 示范楼), and
regional party-building alliances with their member units."""

from __future__ import annotations

from geo.resource_model import GRID_JOIN, Field, Resource

UNIT_KINDS = ("government", "public_institution", "state_enterprise", "private_enterprise",
              "social_organization", "property_company", "financial", "other")
DUTY_TYPES = ("patrol", "policy_outreach", "education", "public_morality", "convenience",
              "mediation", "participation", "conduct_oversight")
DUTY_NAMES = dict(zip(DUTY_TYPES, ("治安巡逻", "政策宣传", "义务教育", "社会公德", "便民服务",
                                   "纠纷调解", "参政议政", "行风监督"), strict=True))
HONOURS = ("model_household", "pioneer_building", "model_building")
ALLIANCE_KINDS = ("business_district", "industrial_park", "street", "community")
_COMMUNITY = Field("community_code", str, required=True, filter=True, max_length=12)

UNITS = Resource(
    "units", "co_units", (
        Field("name", str, required=True, max_length=100),
        Field("kind", str, required=True, filter=True, choices=UNIT_KINDS),
        Field("joint_meeting_member", bool, filter=True),
        Field("address", str, max_length=200),
        Field("community_code", str, filter=True, max_length=12),
    ),
    scope_sql="coalesce(t.community_code, '')", geometry="point", locate=True,
    extra=(("registrations", "(SELECT count(*) FROM unit_registrations r "
                             "WHERE r.unit_id = t.id)"),),
    label="共建单位")

REGISTRATIONS = Resource(
    "unit_registrations", "unit_registrations", (
        Field("unit_id", int, required=True, filter=True),
        _COMMUNITY,
        Field("registered_on", "date", required=True),
    ),
    scope_sql="t.community_code",
    extra=(("unit_name", "(SELECT u.name FROM co_units u WHERE u.id = t.unit_id)"),),
    label="单位双报到")

POSTS = Resource(
    "service_posts", "service_posts", (
        _COMMUNITY,
        Field("name", str, required=True, max_length=100),
        Field("kind", str, max_length=40, filter=True),
        Field("slots", int),
    ),
    scope_sql="t.community_code",
    extra=(("claimed", "(SELECT count(*) FROM claims c WHERE c.post_id = t.id)"),),
    label="服务岗位")

PROJECTS = Resource(
    "projects", "projects", (
        _COMMUNITY,
        Field("name", str, required=True, max_length=100),
        Field("kind", str, max_length=40, filter=True),
        Field("status", str, filter=True, choices=("planned", "active", "done")),
        Field("started_on", "date"),
    ),
    scope_sql="t.community_code",
    extra=(("claimed", "(SELECT count(*) FROM claims c WHERE c.project_id = t.id)"),),
    label="帮扶项目")

CLAIMS = Resource(
    "claims", "claims", (
        Field("post_id", int, filter=True),
        Field("project_id", int, filter=True),
        Field("unit_id", int, filter=True),
        Field("person_id", int, personal=True),
        Field("claimed_on", "date"),
        Field("leads", bool),
    ),
    scope_sql="coalesce(sp.community_code, pj.community_code)",
    joins="LEFT JOIN service_posts sp ON sp.id = t.post_id "
          "LEFT JOIN projects pj ON pj.id = t.project_id",
    label="认领")

DUTY_RECORDS = Resource(
    "duty_records", "duty_records", (
        Field("seat_id", int, required=True, filter=True),
        Field("quarter", str, required=True, filter=True, max_length=6),
        Field("meetings", int),
        Field("projects_led", int),
        Field("matters", int),
    ),
    scope_sql="coalesce(ra.area_code, '')",
    joins="JOIN role_assignments ra ON ra.id = t.seat_id",
    label="兼职委员履职")

DUTY_POSTS = Resource(
    "duty_posts", "duty_posts", (
        Field("person_id", int, required=True, filter=True),
        Field("post_type", str, required=True, filter=True, choices=DUTY_TYPES),
        Field("community_code", str, filter=True, max_length=12),
        Field("grid_id", int, filter=True),
        Field("building_id", int, filter=True),
        Field("description", str, max_length=500),
        Field("valid_from", "date"),
        Field("valid_to", "date"),
    ),
    scope_sql="coalesce(g.code, t.community_code)", joins=GRID_JOIN, geometry="point",
    locate=True, personal=True, label="党员责任岗")

HONOUR_LIST = Resource(
    "honours", "honours", (
        Field("kind", str, required=True, filter=True, choices=HONOURS),
        Field("person_id", int, personal=True),
        Field("building_id", int, filter=True),
        _COMMUNITY,
        Field("awarded_on", "date", required=True),
    ),
    scope_sql="t.community_code",
    extra=(("building_address", "(SELECT b.address FROM buildings b "
                                "WHERE b.id = t.building_id)"),),
    label="示范户与示范楼")

ALLIANCES = Resource(
    "alliances", "alliances", (
        Field("name", str, required=True, max_length=100),
        Field("kind", str, required=True, filter=True, choices=ALLIANCE_KINDS),
        Field("area_code", str, required=True, filter=True, max_length=12),
        Field("grid_id", int, filter=True),
        Field("lead_unit_id", int),
        Field("founded_on", "date"),
    ),
    scope_sql="t.area_code",
    extra=(("members", "(SELECT count(*) FROM alliance_members m "
                       "WHERE m.alliance_id = t.id)"),),
    label="区域党建联盟")

ALLIANCE_MEMBERS = Resource(
    "alliance_members", "alliance_members", (
        Field("alliance_id", int, required=True, filter=True),
        Field("unit_id", int, required=True, filter=True),
        Field("joined_on", "date"),
    ),
    scope_sql="a.area_code", joins="JOIN alliances a ON a.id = t.alliance_id",
    extra=(("unit_name", "(SELECT u.name FROM co_units u WHERE u.id = t.unit_id)"),),
    label="联盟成员单位")

CO_RESOURCES = (UNITS, REGISTRATIONS, POSTS, PROJECTS, CLAIMS, DUTY_RECORDS, DUTY_POSTS,
                HONOUR_LIST, ALLIANCES, ALLIANCE_MEMBERS)
