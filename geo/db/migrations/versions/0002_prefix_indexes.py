"""Prefix indexes on area codes: ``within=<code>`` filters are ``LIKE 'code%'``, which a plain
btree under a non-C collation cannot serve; ``varchar_pattern_ops`` can.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = [
    ("areas_code_prefix_idx", "areas", "code"),
    ("grids_community_prefix_idx", "grids", "community_code"),
    ("buildings_community_prefix_idx", "buildings", "community_code"),
    ("facilities_community_prefix_idx", "facilities", "community_code"),
    ("resident_issues_community_prefix_idx", "resident_issues", "community_code"),
    ("compounds_community_prefix_idx", "compounds", "community_code"),
]


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({column} varchar_pattern_ops)")


def downgrade() -> None:
    for name, _table, _column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
