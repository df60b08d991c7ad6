"""Vector tiles: Web Mercator copies of the mapped geometries, kept by PostgreSQL itself
(stored generated columns with GiST indexes), so a tile query cuts and encodes but never
reprojects; and change notifications for resident issues and facility categories.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# table → (source column, Web Mercator column, geometry type)
MERCATOR = {
    "areas": ("geom", "geom_3857", "MultiPolygon"),
    "grids": ("geom", "geom_3857", "MultiPolygon"),
    "buildings": ("footprint", "footprint_3857", "Polygon"),
    "facilities": ("geom", "geom_3857", "Point"),
    "walk_edges": ("geom", "geom_3857", "LineString"),
    "resident_issues": ("geom", "geom_3857", "Point"),
}
NEW_TOPICS = {"issues": ["resident_issues"], "network": ["facility_categories"]}


def upgrade() -> None:
    for table, (source, target, kind) in MERCATOR.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN {target} geometry({kind}, 3857) "
                   f"GENERATED ALWAYS AS (ST_Transform({source}, 3857)) STORED")
        op.execute(f"CREATE INDEX {table}_{target}_idx ON {table} USING gist ({target})")
    for topic, tables in NEW_TOPICS.items():
        for table in tables:
            op.execute(f"CREATE TRIGGER gridgov_changes_{table} AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION gridgov_notify_change('{topic}')")


def downgrade() -> None:
    for tables in NEW_TOPICS.values():
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS gridgov_changes_{table} ON {table}")
    for table, (_, target, _) in MERCATOR.items():
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {target}")
