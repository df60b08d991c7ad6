"""Planner drafts: a draft generation of a grid layer for one community or street, the
buildings' assignment inside it, allowed gaps (water, parks), and the view of the grids every
generation consists of.

- A planner's draft is a ``grid_layers`` row with status 'draft', ``draft_scope`` (the
  community or street it redraws) and ``base_layer_id`` (the active generation it was copied
  from). Its generation number is given when it is activated (drafts abandoned leave no
  holes); ``version`` moves with every edit (the draft's ETag).
- ``layer_grids`` lists the grids a generation consists of: its own, and for a draft also
  the grids of the currently active generation outside its scope (what activation would
  publish).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE grid_layers
    ADD COLUMN draft_scope   varchar(12) REFERENCES areas(code),
    ADD COLUMN base_layer_id integer REFERENCES grid_layers(id) ON DELETE SET NULL,
    ADD COLUMN created_by    text,
    ADD COLUMN version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ALTER COLUMN generation DROP NOT NULL,
    ADD CONSTRAINT grid_layers_generation_when_published
        CHECK (status = 'draft' OR generation IS NOT NULL),
    ADD CONSTRAINT grid_layers_draft_in_scope
        CHECK (draft_scope IS NULL OR starts_with(draft_scope, scope_code));

ALTER TABLE grids ADD COLUMN locked boolean NOT NULL DEFAULT false;

-- Which grid of a draft each building of its scope belongs to (assignment-based editing).
CREATE TABLE draft_buildings (
    layer_id    integer NOT NULL REFERENCES grid_layers(id) ON DELETE CASCADE,
    building_id integer NOT NULL REFERENCES buildings(id) ON DELETE CASCADE,
    grid_id     integer REFERENCES grids(id) ON DELETE SET NULL,
    PRIMARY KEY (layer_id, building_id)
);
CREATE INDEX draft_buildings_grid_idx ON draft_buildings (grid_id);

-- Places where no grid is needed (water, parks): gaps there are not validation problems.
CREATE TABLE allowed_gaps (
    id             serial PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('water', 'park', 'green', 'rail', 'other')),
    name           text,
    community_code varchar(12) REFERENCES areas(code),
    geom           geometry(MultiPolygon, 4326) NOT NULL
                   CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX allowed_gaps_geom_idx ON allowed_gaps USING gist (geom);

CREATE VIEW layer_grids AS
SELECT g.layer_id AS of_layer, g.id AS grid_id
FROM grids g
UNION ALL
SELECT d.id, g.id
FROM grid_layers d
JOIN grid_layers a ON a.theme = d.theme AND a.scope_code = d.scope_code AND a.status = 'active'
JOIN grids g ON g.layer_id = a.id
WHERE d.status = 'draft' AND d.draft_scope IS NOT NULL
  AND NOT starts_with(coalesce(g.community_code, ''), d.draft_scope);
"""

DOWNGRADE = r"""
DROP VIEW IF EXISTS layer_grids;
DROP TABLE IF EXISTS allowed_gaps, draft_buildings;
ALTER TABLE grids DROP COLUMN IF EXISTS locked;
DELETE FROM grid_layers WHERE generation IS NULL;
ALTER TABLE grid_layers
    DROP CONSTRAINT IF EXISTS grid_layers_draft_in_scope,
    DROP CONSTRAINT IF EXISTS grid_layers_generation_when_published,
    ALTER COLUMN generation SET NOT NULL,
    DROP COLUMN IF EXISTS version,
    DROP COLUMN IF EXISTS created_by,
    DROP COLUMN IF EXISTS base_layer_id,
    DROP COLUMN IF EXISTS draft_scope;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
