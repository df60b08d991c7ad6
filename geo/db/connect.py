"""Which database to use: ``GRIDGOV_DATABASE_URL`` when set, else the embedded cluster."""

from __future__ import annotations

import psycopg

from geo.db.cluster import Cluster
from geo.settings import Settings


def embedded_cluster(settings: Settings) -> Cluster:
    return Cluster(settings.data_dir / "pg")


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded_cluster(settings).url(settings.database_name)


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy/Alembic, on the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(settings: Settings, **kw: object) -> psycopg.Connection:
    return psycopg.connect(database_url(settings), **kw)  # type: ignore[arg-type]
