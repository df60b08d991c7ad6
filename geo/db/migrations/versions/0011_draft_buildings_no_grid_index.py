"""A draft's building assignment without its index on the grid.

Writing a district's assignment (10⁵ rows, a merge or an auto-proposal) spent about a third
of its time keeping ``draft_buildings_grid_idx`` up to date: the rows arrive in building
order, so the primary key grows at its right edge while the grid index took each row at a
random place. The index served one query only, the statement trigger that leaves the
buildings of deleted grids unassigned. That trigger now finds them through the layers the
grids belonged to (the primary key's first column) and the deleted ids hashed once: one
pass over the layer's rows per statement, whatever the number of grids deleted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_GONE_GRIDS = """
CREATE OR REPLACE FUNCTION draft_buildings_gone_grids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- grids deleted with their layer: the layer's trigger deletes the rows
    UPDATE draft_buildings d SET grid_id = NULL
    WHERE d.layer_id IN (SELECT o.layer_id FROM old_rows o JOIN grid_layers l ON l.id = o.layer_id)
      AND d.grid_id IN (SELECT o.id FROM old_rows o);
    RETURN NULL;
END $$;
"""

_GONE_GRIDS_0010 = """
CREATE OR REPLACE FUNCTION draft_buildings_gone_grids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- grids deleted with their layer: the layer's trigger deletes the rows
    UPDATE draft_buildings d SET grid_id = NULL FROM old_rows o
    WHERE d.grid_id = o.id AND d.layer_id = o.layer_id
      AND EXISTS (SELECT 1 FROM grid_layers l WHERE l.id = d.layer_id);
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute("DROP INDEX draft_buildings_grid_idx")
    op.execute(_GONE_GRIDS)


def downgrade() -> None:
    op.execute(_GONE_GRIDS_0010)
    op.execute("CREATE INDEX draft_buildings_grid_idx ON draft_buildings (grid_id)")
