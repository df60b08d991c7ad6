"""Access model and lookup: user scopes down to a grid, API keys, an append-only audit log,
and the subdivided polygons of the active grids that the public lookup runs on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- A scope is an area code (6/9/12 digits) or a grid code (15 digits): a grid worker sees a grid.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_scope_code_fkey;
ALTER TABLE users ALTER COLUMN scope_code TYPE varchar(20);
ALTER TABLE users ADD CONSTRAINT users_scope_shape CHECK (scope_code IS NULL OR scope_code ~ '^[0-9]{6}([0-9]{3}){0,3}$');
ALTER TABLE users ADD CONSTRAINT users_scope_required CHECK (role = 'admin' OR scope_code IS NOT NULL);

CREATE TABLE api_keys (
    id          serial PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    prefix      text NOT NULL UNIQUE,
    key_hash    text NOT NULL,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_used   timestamptz,
    revoked_at  timestamptz
);

-- The audit log is append-only: no update, delete or truncate, whoever asks.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);

-- The lookup runs on small pieces of the active grids: point-in-polygon on a few dozen
-- vertices instead of hundreds. Refreshed whenever the active generation changes.
CREATE MATERIALIZED VIEW active_grid_parts AS
    SELECT g.id AS grid_id, ST_Subdivide(g.geom, 48)::geometry(Geometry, 4326) AS geom
    FROM grids g JOIN grid_layers l ON l.id = g.layer_id
    WHERE l.theme = 'unified' AND l.status = 'active';
CREATE INDEX active_grid_parts_geom_idx ON active_grid_parts USING gist (geom);
CREATE INDEX active_grid_parts_grid_idx ON active_grid_parts (grid_id);
"""

DOWNGRADE = r"""
DROP MATERIALIZED VIEW IF EXISTS active_grid_parts;
DROP INDEX IF EXISTS audit_log_actor_idx;
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
DROP TABLE IF EXISTS api_keys;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_scope_required;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_scope_shape;
DELETE FROM users WHERE length(scope_code) > 12;
ALTER TABLE users ALTER COLUMN scope_code TYPE varchar(12);
ALTER TABLE users ADD CONSTRAINT users_scope_code_fkey FOREIGN KEY (scope_code) REFERENCES areas(code);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
