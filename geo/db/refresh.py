"""Derived tables that follow the active generation of the grids."""

from __future__ import annotations

import psycopg


def refresh_active_grids(conn: psycopg.Connection) -> None:
    """Rebuild the subdivided polygons the public lookup runs on (after any activation)."""
    conn.execute("REFRESH MATERIALIZED VIEW active_grid_parts")
