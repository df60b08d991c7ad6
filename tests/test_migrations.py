"""Alembic owns the schema: up, down and up again on a scratch database; constraints bite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from geo.db import migrate
from tests.conftest import drop, fresh_database

TABLES = {"areas", "grid_layers", "grids", "compounds", "buildings", "people", "role_assignments",
          "party_orgs", "co_units", "unit_registrations", "facility_categories", "facilities",
          "resident_issues", "walk_nodes", "walk_edges", "users", "audit_log", "issue_events",
          "issue_photos", "service_posts", "projects", "claims", "duty_records", "duty_posts",
          "honours", "alliances", "alliance_members"}


@pytest.fixture(scope="module")
def scratch() -> Iterator[str]:
    url = fresh_database("_migrations")
    yield url
    drop(url)


MIGRATIONS = Path(migrate.__file__).parent / "migrations" / "versions"


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as c:
        return {r[0] for r in c.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")} - {"spatial_ref_sys"}


def test_upgrade_downgrade_upgrade(scratch: str) -> None:
    migrate.upgrade(scratch)
    newest = max(p.name[:4] for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert migrate.current(scratch) == newest
    assert _tables(scratch) >= TABLES
    migrate.downgrade(scratch, "base")
    assert migrate.current(scratch) is None
    assert _tables(scratch) & TABLES == set()
    migrate.upgrade(scratch)
    assert _tables(scratch) >= TABLES


def test_every_geometry_column_is_4326_and_indexed(db_url: str) -> None:
    with psycopg.connect(db_url) as c:
        cols = c.execute("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
                         "WHERE f_table_schema = 'public'").fetchall()
        indexed = {(r[0], r[1]) for r in c.execute(
            "SELECT t.relname, a.attname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am m ON m.oid = i.relam "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) "
            "WHERE m.amname = 'gist'")}
    assert len(cols) == 19  # every geometry column of the schema (and the lookup view)
    for table, column, srid in cols:
        # WGS84 everywhere; the Web Mercator copies for tiles say so in their name
        assert srid == (3857 if column.endswith("_3857") else 4326), (table, column)
        assert (table, column) in indexed, f"{table}.{column} has no GiST index"


BOWTIE = "SRID=4326;MULTIPOLYGON(((109 27,109.01 27.01,109.01 27,109 27.01,109 27)))"
SQUARE = "SRID=4326;MULTIPOLYGON(((109 27,109.01 27,109.01 27.01,109 27.01,109 27)))"


def test_invalid_geometry_is_refused(db_conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), db_conn.transaction():
        db_conn.execute("INSERT INTO areas (code, name, level, geom) VALUES "
                        "('990101', 'bad', 'district', %s)", (BOWTIE,))


def test_area_codes_must_nest(db_conn: psycopg.Connection) -> None:
    db_conn.execute("INSERT INTO areas (code, name, level, geom) VALUES "
                    "('990101', 'd', 'district', %s)", (SQUARE,))
    with pytest.raises(psycopg.errors.CheckViolation), db_conn.transaction():
        db_conn.execute("INSERT INTO areas (code, name, level, parent_code, geom) VALUES "
                        "('990202001', 's', 'street', '990101', %s)", (SQUARE,))


def test_grid_codes_unique_per_generation_and_one_active(db_conn: psycopg.Connection) -> None:
    db_conn.execute("INSERT INTO areas (code, name, level, geom) VALUES "
                    "('990101', 'd', 'district', %s)", (SQUARE,))
    layer = db_conn.execute("INSERT INTO grid_layers (theme, name, scope_code, generation, status)"
                            " VALUES ('综治', 'x', '990101', 1, 'active') RETURNING id"
                            ).fetchone()[0]  # type: ignore[index]
    insert = "INSERT INTO grids (layer_id, code, name, geom) VALUES (%s, 'G1', 'g', %s)"
    db_conn.execute(insert, (layer, SQUARE))
    with pytest.raises(psycopg.errors.UniqueViolation), db_conn.transaction():
        db_conn.execute(insert, (layer, SQUARE))
    with pytest.raises(psycopg.errors.UniqueViolation), db_conn.transaction():
        db_conn.execute("INSERT INTO grid_layers (theme, name, scope_code, generation, status) "
                        "VALUES ('综治', 'y', '990101', 2, 'active')")


def test_within_filters_can_use_an_index(db_conn: psycopg.Connection) -> None:
    db_conn.execute("SET LOCAL enable_seqscan = off")
    plan = "\n".join(r[0] for r in db_conn.execute(
        "EXPLAIN SELECT id FROM buildings WHERE community_code LIKE '520602001%'"))
    assert "buildings_community_prefix_idx" in plan, plan
