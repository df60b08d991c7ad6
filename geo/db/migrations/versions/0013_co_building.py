"""共建共治: service posts and projects a community offers and who claims them, the "1+1+N"
duty records of part-time committee members, party members' duty posts (设岗定责) and
honours (党员示范户, 先锋楼/示范楼), regional party-building alliances (区域党建联盟, 大党委)
and their member units, and the service windows of sites (阵地).

What already had a home stays there: a unit's 双报到 is ``unit_registrations``; an in-service
party member's 报到 at the home community is a ``party_member`` role with the work unit
(``unit_id``) at the community (``area_code``); a 兼职委员's seat is a ``committee_member``
role at a community or street with the unit. The posts and projects that unit registrations
kept as lists of names become rows (offered by the community, one claim per unit), so that
posts claimed can be counted against posts offered.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DUTY_TYPES = ("patrol", "policy_outreach", "education", "public_morality", "convenience",
              "mediation", "participation", "conduct_oversight")

UPGRADE = rf"""
CREATE TABLE service_posts (
    id             serial PRIMARY KEY,
    community_code varchar(12) NOT NULL REFERENCES areas(code),
    name           text NOT NULL,
    kind           text,
    slots          smallint NOT NULL DEFAULT 1 CHECK (slots > 0),
    UNIQUE (community_code, name)
);
CREATE TABLE projects (
    id             serial PRIMARY KEY,
    community_code varchar(12) NOT NULL REFERENCES areas(code),
    name           text NOT NULL,
    kind           text,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('planned', 'active', 'done')),
    started_on     date,
    UNIQUE (community_code, name)
);
-- a unit (registered at the community) or a party member claims a post or a project
CREATE TABLE claims (
    id          serial PRIMARY KEY,
    post_id     integer REFERENCES service_posts(id) ON DELETE CASCADE,
    project_id  integer REFERENCES projects(id) ON DELETE CASCADE,
    unit_id     integer REFERENCES co_units(id) ON DELETE CASCADE,
    person_id   integer REFERENCES people(id) ON DELETE CASCADE,
    claimed_on  date NOT NULL DEFAULT current_date,
    leads       boolean NOT NULL DEFAULT false,  -- 领办: the claimant leads the project
    CHECK (num_nonnulls(post_id, project_id) = 1),
    CHECK (num_nonnulls(unit_id, person_id) = 1)
);
CREATE UNIQUE INDEX claims_post_uid ON claims (post_id, coalesce(unit_id, 0), coalesce(person_id, 0))
    WHERE post_id IS NOT NULL;
CREATE UNIQUE INDEX claims_project_uid ON claims (project_id, coalesce(unit_id, 0),
    coalesce(person_id, 0)) WHERE project_id IS NOT NULL;

-- the lists of names become rows; a post's slots are the units that took it (the lists kept
-- no posts offered but untaken); names repeated in one list count once, empty ones none
INSERT INTO service_posts (community_code, name, slots)
SELECT r.community_code, p, count(DISTINCT r.unit_id)
FROM unit_registrations r, unnest(r.service_posts) p WHERE coalesce(p, '') <> '' GROUP BY 1, 2;
INSERT INTO claims (post_id, unit_id, claimed_on)
SELECT DISTINCT s.id, r.unit_id, r.registered_on
FROM unit_registrations r CROSS JOIN LATERAL unnest(r.service_posts) p
JOIN service_posts s ON s.community_code = r.community_code AND s.name = p;
INSERT INTO projects (community_code, name)
SELECT DISTINCT r.community_code, p FROM unit_registrations r, unnest(r.projects) p
WHERE coalesce(p, '') <> '';
INSERT INTO claims (project_id, unit_id, claimed_on)
SELECT DISTINCT j.id, r.unit_id, r.registered_on
FROM unit_registrations r CROSS JOIN LATERAL unnest(r.projects) p
JOIN projects j ON j.community_code = r.community_code AND j.name = p;
ALTER TABLE unit_registrations DROP COLUMN service_posts, DROP COLUMN projects;

-- "1+1+N": each quarter at least one meeting, one project led, N matters helped
CREATE TABLE duty_records (
    id          serial PRIMARY KEY,
    seat_id     integer NOT NULL REFERENCES role_assignments(id) ON DELETE CASCADE,
    quarter     text NOT NULL CHECK (quarter ~ '^[0-9]{{4}}Q[1-4]$'),
    meetings    smallint NOT NULL DEFAULT 0 CHECK (meetings >= 0),
    projects_led smallint NOT NULL DEFAULT 0 CHECK (projects_led >= 0),
    matters     smallint NOT NULL DEFAULT 0 CHECK (matters >= 0),
    UNIQUE (seat_id, quarter)
);

CREATE TABLE duty_posts (
    id             serial PRIMARY KEY,
    person_id      integer NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    post_type      text NOT NULL CHECK (post_type IN {DUTY_TYPES!r}),
    community_code varchar(12) NOT NULL REFERENCES areas(code),
    grid_id        integer REFERENCES grids(id) ON DELETE SET NULL,
    building_id    integer REFERENCES buildings(id) ON DELETE SET NULL,
    geom           geometry(Point, 4326),
    description    text,
    valid_from     date NOT NULL DEFAULT current_date,
    valid_to       date,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX duty_posts_community_idx ON duty_posts (community_code);
CREATE INDEX duty_posts_geom_idx ON duty_posts USING gist (geom);

CREATE TABLE honours (
    id             serial PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('model_household', 'pioneer_building',
                                                 'model_building')),
    person_id      integer REFERENCES people(id) ON DELETE CASCADE,
    building_id    integer REFERENCES buildings(id) ON DELETE CASCADE,
    community_code varchar(12) NOT NULL REFERENCES areas(code),
    awarded_on     date NOT NULL,
    CHECK ((kind = 'model_household') = (person_id IS NOT NULL)),
    -- a household's honour names no building: it would give a party member's home
    CHECK ((kind = 'model_household') = (building_id IS NULL))
);

CREATE TABLE alliances (
    id           serial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('business_district', 'industrial_park', 'street',
                                               'community')),
    area_code    varchar(12) NOT NULL REFERENCES areas(code),
    grid_id      integer REFERENCES grids(id) ON DELETE SET NULL,
    lead_unit_id integer REFERENCES co_units(id) ON DELETE SET NULL,
    founded_on   date
);
CREATE TABLE alliance_members (
    id          serial PRIMARY KEY,
    alliance_id integer NOT NULL REFERENCES alliances(id) ON DELETE CASCADE,
    unit_id     integer NOT NULL REFERENCES co_units(id) ON DELETE CASCADE,
    joined_on   date,
    UNIQUE (alliance_id, unit_id)
);

-- service windows of a site (阵地) by type, e.g. ["党建服务", "社保医保"]
ALTER TABLE facilities ADD COLUMN service_windows jsonb NOT NULL DEFAULT '[]'::jsonb
    CHECK (jsonb_typeof(service_windows) = 'array');
-- where a unit sits (its community): the scope of the unit's record
ALTER TABLE co_units ADD COLUMN community_code varchar(12) REFERENCES areas(code);
UPDATE co_units u SET community_code = (
    SELECT min(r.community_code) FROM unit_registrations r WHERE r.unit_id = u.id);
"""

# Down: what the lists can hold comes back (posts claimed by units); member claims, posts no
# unit took, slots and projects' status have no place there and are lost.
DOWNGRADE = """
ALTER TABLE facilities DROP COLUMN service_windows;
ALTER TABLE co_units DROP COLUMN community_code;
DROP TABLE IF EXISTS alliance_members, alliances, honours, duty_posts, duty_records;
ALTER TABLE unit_registrations ADD COLUMN service_posts text[] NOT NULL DEFAULT '{}',
    ADD COLUMN projects text[] NOT NULL DEFAULT '{}';
UPDATE unit_registrations r SET
    service_posts = coalesce((SELECT array_agg(s.name ORDER BY s.name) FROM claims c
        JOIN service_posts s ON s.id = c.post_id
        WHERE c.unit_id = r.unit_id AND s.community_code = r.community_code), '{}'),
    projects = coalesce((SELECT array_agg(j.name ORDER BY j.name) FROM claims c
        JOIN projects j ON j.id = c.project_id
        WHERE c.unit_id = r.unit_id AND j.community_code = r.community_code), '{}');
DROP TABLE IF EXISTS claims, projects, service_posts;
"""


# changes to these tables reach the caches of coverage tiles (topic "people", as roles)
NOTIFIED = ("co_units", "unit_registrations", "service_posts", "projects", "claims",
            "duty_records", "duty_posts", "honours", "alliances", "alliance_members")


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in NOTIFIED:
        op.execute(f"CREATE TRIGGER gridgov_changes_{table} AFTER INSERT OR UPDATE OR DELETE OR "
                   f"TRUNCATE ON {table} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION gridgov_notify_change('people')")


def downgrade() -> None:
    for table in NOTIFIED:
        op.execute(f"DROP TRIGGER IF EXISTS gridgov_changes_{table} ON {table}")
    op.execute(DOWNGRADE)
