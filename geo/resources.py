"""The resources of the CRUD API, described as data: fields, geometry, scope, filters.

Each description decides exactly which columns can be read or written, which of them are
personal data, and how an object's scope key (grid code, else area code) is found. The SQL
is generated from these descriptions (geo/db/queries/resources.py) with identifiers that come
from here, never from a request.
"""

from __future__ import annotations

from typing import Any

from geo.categories import resolve
from geo.hours import off_hours, to_osm
from geo.issues.limits import DONE, KINDS, OPEN
from geo.resource_model import GRID_JOIN, Field, Resource
from geo.resources_co import CO_RESOURCES

ROLE_CHOICES = ("grid_worker_full", "grid_worker_part", "grid_leader", "building_head",
                "lane_head", "courtyard_head", "household_liaison", "party_member", "volunteer",
                "committee_member", "community_instructor", "community_secretary",
                "grid_assistant")


def _site_hours(values: dict[str, Any]) -> dict[str, Any]:
    """Hours are kept in OpenStreetMap syntax (Chinese forms translated on the way in), and
    错时服务 follows from them, never from a flag that could contradict them."""
    if values.get("opening_hours"):
        return {**values, "off_hours_service": off_hours(values["opening_hours"])}
    return values

PEOPLE = Resource(
    "people", "people", (
        Field("name", str, required=True, personal=True, max_length=60),
        Field("phone", str, personal=True, max_length=20),
        Field("gender", str, personal=True, choices=("M", "F")),
        Field("birth_year", int, personal=True),
        Field("home_building_id", int, personal=True, filter=True),
        Field("home_unit", str, personal=True, max_length=40),
        Field("party_status", str, personal=True, choices=("registered", "in_service", "mobile"),
              filter=True),
        Field("attributes", "json", personal=True),
    ),
    scope_sql="coalesce(hg.code, hb.community_code)",
    joins="LEFT JOIN buildings hb ON hb.id = t.home_building_id "
          "LEFT JOIN grids hg ON hg.id = hb.grid_id",
    personal=True, label="人员")

ROLES = Resource(
    "roles", "role_assignments", (
        Field("person_id", int, required=True, filter=True),
        Field("role", str, required=True, choices=ROLE_CHOICES, filter=True),
        Field("grid_id", int, filter=True),
        Field("building_id", int, filter=True),
        Field("area_code", str, filter=True, max_length=12),
        Field("unit_id", int),
        Field("valid_from", "date"),
        Field("valid_to", "date"),
        Field("published", bool, filter=True),
        Field("work_phone", str, max_length=20),
    ),
    scope_sql="coalesce(g.code, bg.code, b.community_code, t.area_code)",
    joins=f"{GRID_JOIN} LEFT JOIN buildings b ON b.id = t.building_id "
          "LEFT JOIN grids bg ON bg.id = b.grid_id",
    extra=(("person_name", "(SELECT p.name FROM people p WHERE p.id = t.person_id)"),),
    personal=True, label="角色")

BUILDINGS = Resource(
    "buildings", "buildings", (
        Field("address", str, required=True, max_length=200),
        Field("compound_id", int, filter=True),
        Field("name", str, max_length=100),
        Field("households", int),
        Field("residents", int),
        Field("floors", int),
        Field("community_code", str, filter=True, max_length=12),
        Field("grid_id", int, filter=True),
    ),
    scope_sql="coalesce(g.code, t.community_code)", joins=GRID_JOIN, locate=True,
    geometry="point_or_polygon", geom_sql="coalesce(t.footprint, t.geom)",
    extra=(("compound", "(SELECT c.name FROM compounds c WHERE c.id = t.compound_id)"),
           ("grid_code", "g.code")),
    label="楼栋")

FACILITIES = Resource(
    "facilities", "facilities", (
        Field("category", str, required=True, filter=True, max_length=40, parse=resolve),
        Field("name", str, required=True, max_length=100),
        Field("address", str, max_length=200),
        Field("phone", str, max_length=30),
        Field("opening_hours", str, max_length=200, parse=to_osm),
        Field("off_hours_service", bool, filter=True),
        Field("floor_area_m2", float),
        Field("service_windows", "json"),
        Field("community_code", str, filter=True, max_length=12),
    ),
    scope_sql="t.community_code", geometry="point", locate=True,
    extra=(("category_name", "(SELECT c.name_zh FROM facility_categories c "
                             "WHERE c.code = t.category)"),
           ("service_group", "(SELECT c.service_group FROM facility_categories c "
                             "WHERE c.code = t.category)")),
    derive=_site_hours, label="设施")

ISSUES = Resource(
    "issues", "resident_issues", (
        Field("receipt_code", str, writable=False, personal=True),  # the reporter's key
        Field("category", str, required=True, filter=True, max_length=40),
        Field("kind", str, filter=True, writable=False, choices=KINDS),
        Field("channel", str, filter=True, writable=False,
              choices=("resident_page", "grid_worker", "hotline", "mailbox")),
        Field("status", str, filter=True, writable=False, choices=OPEN + DONE),
        Field("level", str, filter=True, writable=False),
        Field("description", str, required=True, max_length=2000),
        Field("building_id", int, filter=True, writable=False),
        Field("grid_id", int, filter=True, writable=False),
        Field("community_code", str, filter=True, max_length=12, writable=False),
        Field("reported_at", "datetime", writable=False),
        Field("due_at", "datetime", writable=False),
        Field("resolved_at", "datetime", writable=False),
        Field("satisfaction", int, writable=False),
        Field("assignee_id", int, filter=True, writable=False),
        Field("reporter_name", str, personal=True, max_length=60),
        Field("reporter_phone", str, personal=True, max_length=20),
    ),
    scope_sql="coalesce(g.code, t.community_code)", joins=GRID_JOIN, geometry="point",
    locate=True, extra=(("grid_code", "g.code"),), label="民情", creatable=False)

PARTY_ORGS = Resource(
    "party_orgs", "party_orgs", (
        Field("kind", str, required=True, filter=True,
              choices=("street_working_committee", "community_committee", "grid_branch",
                       "grid_group", "building_group", "unit_branch", "alliance")),
        Field("name", str, required=True, max_length=100),
        Field("area_code", str, filter=True, max_length=12),
        Field("grid_id", int, filter=True),
        Field("building_id", int, filter=True),
        Field("secretary_person_id", int, personal=True),
        Field("members", int),
    ),
    scope_sql="coalesce(g.code, t.area_code)", joins=GRID_JOIN, extra=(("grid_code", "g.code"),),
    label="党组织")

# Where no grid is needed (water, parks, rail): planners' validation lets gaps there pass.
ALLOWED_GAPS = Resource(
    "allowed_gaps", "allowed_gaps", (
        Field("kind", str, required=True, filter=True,
              choices=("water", "park", "green", "rail", "other")),
        Field("name", str, max_length=100),
        Field("community_code", str, filter=True, max_length=12),
    ),
    scope_sql="t.community_code", geometry="polygons", locate=True, label="允许空白")

RESOURCES: dict[str, Resource] = {r.name: r for r in (PEOPLE, ROLES, BUILDINGS, FACILITIES,
                                                      ISSUES, PARTY_ORGS, ALLOWED_GAPS,
                                                      *CO_RESOURCES)}
