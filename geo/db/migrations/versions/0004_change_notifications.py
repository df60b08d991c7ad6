"""Change notifications: every write to the tables the public lookup keeps in memory sends
``NOTIFY gridgov_changes, '<topic>'`` (delivered at commit, never for a rolled-back write), so
each app process drops exactly the cached parts that went stale.

Topics: areas · grids (grids, grid_layers; also sent by the refresh of active_grid_parts) ·
people (people, role_assignments, party_orgs) · buildings (buildings, compounds) ·
network (walk_edges, facilities). Statement-level triggers: one notification per statement,
and PostgreSQL folds repeats within a transaction, so a bulk import pays once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TOPICS = {
    "areas": ["areas"],
    "grids": ["grids", "grid_layers"],
    "people": ["people", "role_assignments", "party_orgs"],
    "buildings": ["buildings", "compounds"],
    "network": ["walk_edges", "facilities"],
}

FUNCTION = r"""
CREATE FUNCTION gridgov_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gridgov_changes', TG_ARGV[0]);
    RETURN NULL;
END $$;
"""


def _trigger(table: str) -> str:
    return f"gridgov_changes_{table}"


def upgrade() -> None:
    op.execute(FUNCTION)
    for topic, tables in TOPICS.items():
        for table in tables:
            op.execute(f"CREATE TRIGGER {_trigger(table)} AFTER INSERT OR UPDATE OR DELETE OR "
                       f"TRUNCATE ON {table} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION gridgov_notify_change('{topic}')")


def downgrade() -> None:
    for tables in TOPICS.values():
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS gridgov_notify_change()")
