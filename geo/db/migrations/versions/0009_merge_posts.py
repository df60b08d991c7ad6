"""多网合一: the people plan a planner accepted for a merged draft, applied at activation.

One row per post on an old grid: (layer, old grid code, role) → the draft's grid that takes
it (NULL: not carried over). Posts, not people: the planner decides where the 综治 grid's
网格员 go without needing to see who they are.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE merge_posts (
    draft_id   integer NOT NULL REFERENCES grid_layers(id) ON DELETE CASCADE,
    layer      text NOT NULL,
    grid       text NOT NULL,
    role       text NOT NULL,
    to_code    text,
    edited     boolean NOT NULL DEFAULT false,
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (draft_id, layer, grid, role)
);
""")


def downgrade() -> None:
    op.execute("DROP TABLE merge_posts;")
