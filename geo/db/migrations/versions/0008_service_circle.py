"""The 一刻钟便民服务圈 as stored: every building's walk to the nearest facility of each
category, for SQL and GIS users (the API works from the same figures in memory).

- ``building_walks``: one row per building and category, metres along the walk network
  (NULL: none reachable) and in a straight line, and the facility reached. Rewritten for a
  whole district whenever the service works the district out after a change of its
  network, facilities or buildings (``geo.circle.store``).
- ``circle_runs``: when each district was last worked out, and the network it had.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE building_walks (
    building_id integer NOT NULL REFERENCES buildings(id) ON DELETE CASCADE,
    category    text NOT NULL REFERENCES facility_categories(code) ON DELETE CASCADE ON UPDATE CASCADE,
    walk_m      real CHECK (walk_m >= 0),
    straight_m  real CHECK (straight_m >= 0),
    facility_id integer REFERENCES facilities(id) ON DELETE SET NULL,
    PRIMARY KEY (building_id, category)
);
CREATE INDEX building_walks_category_idx ON building_walks (category);

CREATE TABLE circle_runs (
    district_code varchar(6) PRIMARY KEY,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    junctions     integer NOT NULL,
    edges         integer NOT NULL,
    pieces        integer NOT NULL,
    buildings     integer NOT NULL,
    facilities    integer NOT NULL
);
""")


def downgrade() -> None:
    op.execute("DROP TABLE circle_runs; DROP TABLE building_walks;")
