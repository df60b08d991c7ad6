"""Derived tables that follow the active generation of the grids."""

from __future__ import annotations

import psycopg

from geo.db.changes import CHANNEL


def refresh_active_grids(conn: psycopg.Connection) -> None:
    """Rebuild the subdivided polygons the public lookup runs on (after any activation) and
    tell the running services (a materialized view's refresh fires no trigger)."""
    conn.execute("REFRESH MATERIALIZED VIEW active_grid_parts")
    conn.execute("SELECT pg_notify(%s, 'grids')", (CHANNEL,))
