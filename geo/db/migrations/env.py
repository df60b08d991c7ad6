"""Alembic environment: the URL comes from the caller (geo.db.migrate), never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("geo.db.migrate sets sqlalchemy.url before running migrations")

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
