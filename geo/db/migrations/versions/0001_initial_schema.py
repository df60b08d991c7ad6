"""Initial schema: areas, grid layers and generations, grids, buildings, people and roles,
party organisations, co-building units, facilities, resident issues, walk network, users,
audit log.

Geometry is stored in EPSG:4326 (CGCS2000, EPSG:4490, is treated as equal at our precision).
Every geometry column has a GiST index and a CHECK that it is valid.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE areas (
    code        varchar(12) PRIMARY KEY CHECK (code ~ '^[0-9]{6}([0-9]{3}){0,2}$'),
    name        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('district', 'street', 'community')),
    parent_code varchar(12) REFERENCES areas(code) ON DELETE RESTRICT,
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    households  integer CHECK (households >= 0),
    residents   integer CHECK (residents >= 0),
    source      text,
    CHECK (length(code) = CASE level WHEN 'district' THEN 6 WHEN 'street' THEN 9 ELSE 12 END),
    CHECK ((level = 'district') = (parent_code IS NULL)),
    CHECK (parent_code IS NULL OR left(code, length(parent_code)) = parent_code)
);
CREATE INDEX areas_geom_idx ON areas USING gist (geom);
CREATE INDEX areas_parent_idx ON areas (parent_code);
CREATE INDEX areas_level_idx ON areas (level);

CREATE TABLE grid_layers (
    id           serial PRIMARY KEY,
    theme        text NOT NULL CHECK (length(theme) BETWEEN 1 AND 40),
    name         text NOT NULL,
    scope_code   varchar(12) NOT NULL REFERENCES areas(code),
    generation   integer NOT NULL CHECK (generation >= 1),
    status       text NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    valid_from   timestamptz,
    valid_to     timestamptz,
    note         text,
    UNIQUE (theme, scope_code, generation),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from)
);
-- One active generation per theme and scope: activation switches it atomically.
CREATE UNIQUE INDEX grid_layers_one_active ON grid_layers (theme, scope_code) WHERE status = 'active';

CREATE TABLE grids (
    id             serial PRIMARY KEY,
    layer_id       integer NOT NULL REFERENCES grid_layers(id) ON DELETE CASCADE,
    code           varchar(20) NOT NULL,
    name           text NOT NULL,
    kind           text NOT NULL DEFAULT 'base' CHECK (kind IN ('base', 'dedicated')),
    dedicated_type text CHECK (dedicated_type IN ('school', 'hospital', 'market', 'enterprise',
                                                  'business_district', 'industrial_park', 'other')),
    community_code varchar(12) REFERENCES areas(code),
    geom           geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    lineage        integer[] NOT NULL DEFAULT '{}',
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz,
    households     integer CHECK (households >= 0),
    residents      integer CHECK (residents >= 0),
    UNIQUE (layer_id, code),
    CHECK ((kind = 'dedicated') = (dedicated_type IS NOT NULL)),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_layer_idx ON grids (layer_id);
CREATE INDEX grids_community_idx ON grids (community_code);

CREATE TABLE compounds (
    id             serial PRIMARY KEY,
    name           text NOT NULL,
    community_code varchar(12) REFERENCES areas(code),
    property_company text,
    geom           geometry(MultiPolygon, 4326) CHECK (geom IS NULL OR ST_IsValid(geom))
);
CREATE INDEX compounds_geom_idx ON compounds USING gist (geom);

CREATE TABLE buildings (
    id             serial PRIMARY KEY,
    address        text NOT NULL,
    compound_id    integer REFERENCES compounds(id) ON DELETE SET NULL,
    name           text,
    households     integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    residents      integer NOT NULL DEFAULT 0 CHECK (residents >= 0),
    floors         smallint CHECK (floors > 0),
    community_code varchar(12) REFERENCES areas(code),
    grid_id        integer REFERENCES grids(id) ON DELETE SET NULL,
    footprint      geometry(Polygon, 4326) CHECK (footprint IS NULL OR ST_IsValid(footprint)),
    geom           geometry(Point, 4326) NOT NULL,
    source         text,
    source_id      text
);
CREATE INDEX buildings_geom_idx ON buildings USING gist (geom);
CREATE INDEX buildings_footprint_idx ON buildings USING gist (footprint);
CREATE INDEX buildings_grid_idx ON buildings (grid_id);
CREATE INDEX buildings_community_idx ON buildings (community_code);
CREATE UNIQUE INDEX buildings_source_uid ON buildings (source, source_id) WHERE source_id IS NOT NULL;

-- Personal data (PIPL): names, phones, home units, party membership. Read through the
-- access model only; every read is audited.
CREATE TABLE people (
    id               serial PRIMARY KEY,
    name             text NOT NULL,
    phone            text CHECK (phone IS NULL OR phone ~ '^[0-9+\- ]{5,20}$'),
    gender           text CHECK (gender IN ('M', 'F')),
    birth_year       smallint CHECK (birth_year BETWEEN 1900 AND 2100),
    home_building_id integer REFERENCES buildings(id) ON DELETE SET NULL,
    home_unit        text,
    party_status     text CHECK (party_status IN ('registered', 'in_service', 'mobile')),
    attributes       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX people_home_idx ON people (home_building_id);
CREATE INDEX people_party_idx ON people (party_status) WHERE party_status IS NOT NULL;

CREATE TABLE co_units (
    id                  serial PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    kind                text NOT NULL CHECK (kind IN ('government', 'public_institution', 'state_enterprise',
                                                      'private_enterprise', 'social_organization',
                                                      'property_company', 'financial', 'other')),
    joint_meeting_member boolean NOT NULL DEFAULT false,
    address             text,
    geom                geometry(Point, 4326)
);
CREATE INDEX co_units_geom_idx ON co_units USING gist (geom);

CREATE TABLE unit_registrations (
    id             serial PRIMARY KEY,
    unit_id        integer NOT NULL REFERENCES co_units(id) ON DELETE CASCADE,
    community_code varchar(12) NOT NULL REFERENCES areas(code),
    registered_on  date NOT NULL,
    service_posts  text[] NOT NULL DEFAULT '{}',
    projects       text[] NOT NULL DEFAULT '{}',
    UNIQUE (unit_id, community_code)
);

CREATE TABLE role_assignments (
    id             serial PRIMARY KEY,
    person_id      integer NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    role           text NOT NULL CHECK (role IN (
                       'grid_worker_full', 'grid_worker_part', 'grid_leader', 'building_head',
                       'lane_head', 'courtyard_head', 'household_liaison', 'party_member',
                       'volunteer', 'committee_member', 'community_instructor',
                       'community_secretary', 'grid_assistant')),
    grid_id        integer REFERENCES grids(id) ON DELETE RESTRICT,
    building_id    integer REFERENCES buildings(id) ON DELETE RESTRICT,
    area_code      varchar(12) REFERENCES areas(code),
    unit_id        integer REFERENCES co_units(id) ON DELETE SET NULL,
    valid_from     date NOT NULL DEFAULT current_date,
    valid_to       date,
    published      boolean NOT NULL DEFAULT false,
    work_phone     text,
    CHECK (num_nonnulls(grid_id, building_id, area_code) >= 1),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX role_assignments_person_idx ON role_assignments (person_id);
CREATE INDEX role_assignments_grid_idx ON role_assignments (grid_id);
CREATE INDEX role_assignments_building_idx ON role_assignments (building_id);
CREATE INDEX role_assignments_role_idx ON role_assignments (role);

CREATE TABLE party_orgs (
    id                  serial PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('street_working_committee', 'community_committee',
                                                      'grid_branch', 'grid_group', 'building_group',
                                                      'unit_branch', 'alliance')),
    name                text NOT NULL,
    area_code           varchar(12) REFERENCES areas(code),
    grid_id             integer REFERENCES grids(id) ON DELETE SET NULL,
    building_id         integer REFERENCES buildings(id) ON DELETE SET NULL,
    secretary_person_id integer REFERENCES people(id) ON DELETE SET NULL,
    members             integer CHECK (members >= 0)
);
CREATE INDEX party_orgs_grid_idx ON party_orgs (grid_id);

CREATE TABLE facility_categories (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z_]+$'),
    name_zh       text NOT NULL UNIQUE,
    service_group text NOT NULL CHECK (service_group IN ('basic', 'quality', 'party', 'public')),
    walk_minutes  smallint CHECK (walk_minutes > 0)
);

CREATE TABLE facilities (
    id             serial PRIMARY KEY,
    category       text NOT NULL REFERENCES facility_categories(code),
    name           text NOT NULL,
    address        text,
    phone          text,
    opening_hours  text,
    off_hours_service boolean NOT NULL DEFAULT false,
    floor_area_m2  numeric(10, 1) CHECK (floor_area_m2 > 0),
    community_code varchar(12) REFERENCES areas(code),
    geom           geometry(Point, 4326) NOT NULL,
    source         text,
    source_id      text
);
CREATE INDEX facilities_geom_idx ON facilities USING gist (geom);
CREATE INDEX facilities_category_idx ON facilities (category);
CREATE UNIQUE INDEX facilities_source_uid ON facilities (source, source_id) WHERE source_id IS NOT NULL;

CREATE TABLE resident_issues (
    id             serial PRIMARY KEY,
    receipt_code   text NOT NULL UNIQUE,
    category       text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('immediate', 'time_limited', 'committed', 'remedial', 'suggestion')),
    channel        text NOT NULL CHECK (channel IN ('resident_page', 'grid_worker', 'hotline', 'mailbox')),
    status         text NOT NULL CHECK (status IN ('received', 'assigned', 'in_progress', 'resolved',
                                                   'feedback_published', 'closed', 'escalated')),
    description    text NOT NULL,
    geom           geometry(Point, 4326) NOT NULL,
    building_id    integer REFERENCES buildings(id) ON DELETE SET NULL,
    grid_id        integer REFERENCES grids(id) ON DELETE SET NULL,
    community_code varchar(12) REFERENCES areas(code),
    reported_at    timestamptz NOT NULL,
    assigned_at    timestamptz,
    resolved_at    timestamptz,
    closed_at      timestamptz,
    due_at         timestamptz,
    satisfaction   smallint CHECK (satisfaction BETWEEN 1 AND 5),
    reporter_name  text,
    reporter_phone text,
    CHECK (resolved_at IS NULL OR resolved_at >= reported_at)
);
CREATE INDEX resident_issues_geom_idx ON resident_issues USING gist (geom);
CREATE INDEX resident_issues_grid_idx ON resident_issues (grid_id);
CREATE INDEX resident_issues_status_idx ON resident_issues (status);
CREATE INDEX resident_issues_reported_idx ON resident_issues (reported_at);

CREATE TABLE walk_nodes (
    id            bigint PRIMARY KEY,
    geom          geometry(Point, 4326) NOT NULL,
    district_code varchar(6)
);
CREATE INDEX walk_nodes_geom_idx ON walk_nodes USING gist (geom);

CREATE TABLE walk_edges (
    id            bigserial PRIMARY KEY,
    source        bigint NOT NULL REFERENCES walk_nodes(id) ON DELETE CASCADE,
    target        bigint NOT NULL REFERENCES walk_nodes(id) ON DELETE CASCADE,
    length_m      double precision NOT NULL CHECK (length_m >= 0),
    highway       text,
    name          text,
    district_code varchar(6),
    geom          geometry(LineString, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CHECK (source <> target)
);
CREATE INDEX walk_edges_geom_idx ON walk_edges USING gist (geom);
CREATE INDEX walk_edges_source_idx ON walk_edges (source);
CREATE INDEX walk_edges_target_idx ON walk_edges (target);

CREATE TABLE users (
    id            serial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'planner', 'street_leader', 'community_worker',
                                                'grid_worker', 'analyst')),
    scope_code    varchar(12) REFERENCES areas(code),
    person_id     integer REFERENCES people(id) ON DELETE SET NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    client      text
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS audit_log, users, walk_edges, walk_nodes, resident_issues, facilities,
    facility_categories, party_orgs, role_assignments, unit_registrations, co_units, people,
    buildings, compounds, grids, grid_layers, areas CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
