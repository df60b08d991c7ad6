"""H3 cells of buildings and resident issues, stored so that a heat map is a GROUP BY.

- ``h3_7`` … ``h3_10``: the H3 cell (as a signed bigint: H3 ids leave the top bit clear) of
  the row's point at resolutions 7 to 10. PostgreSQL cannot compute them (no H3 extension
  in Debian), so the writers do (``geo.h3cells.fill``, vectorised with h3ronpy) in the same
  transaction as the write.
- A trigger clears them whenever the point moves, so a writer that does not fill them (raw
  SQL, a future import) leaves NULLs, never stale cells; the partial index finds those rows
  and the heat map fills them before it counts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("buildings", "resident_issues")
RESOLUTIONS = (7, 8, 9, 10)


def upgrade() -> None:
    op.execute(r"""
CREATE FUNCTION gridgov_clear_h3() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.geom IS DISTINCT FROM OLD.geom THEN
        IF TG_OP = 'UPDATE' AND NEW.h3_10 IS DISTINCT FROM OLD.h3_10 THEN
            RETURN NEW;  -- the writer moved the point and gave its new cells
        END IF;
        IF TG_OP = 'INSERT' AND NEW.h3_10 IS NOT NULL THEN
            RETURN NEW;
        END IF;
        NEW.h3_7 := NULL; NEW.h3_8 := NULL; NEW.h3_9 := NULL; NEW.h3_10 := NULL;
    END IF;
    RETURN NEW;
END $$;
""")
    for table in TABLES:
        columns = ", ".join(f"ADD COLUMN h3_{r} bigint" for r in RESOLUTIONS)
        op.execute(f"ALTER TABLE {table} {columns}")
        op.execute(f"CREATE INDEX {table}_h3_missing_idx ON {table} (id) WHERE h3_10 IS NULL")
        op.execute(f"CREATE TRIGGER gridgov_clear_h3 BEFORE INSERT OR UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION gridgov_clear_h3()")
    op.execute("CREATE INDEX resident_issues_scope_time_idx ON resident_issues "
               "(community_code varchar_pattern_ops, reported_at)")


def downgrade() -> None:
    op.execute("DROP INDEX resident_issues_scope_time_idx")
    for table in TABLES:
        op.execute(f"DROP TRIGGER gridgov_clear_h3 ON {table}")
        op.execute(f"DROP INDEX {table}_h3_missing_idx")
        columns = ", ".join(f"DROP COLUMN h3_{r}" for r in RESOLUTIONS)
        op.execute(f"ALTER TABLE {table} {columns}")
    op.execute("DROP FUNCTION gridgov_clear_h3()")
