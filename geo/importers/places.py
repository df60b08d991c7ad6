"""Where a building or facility lies: its community (given, else found with ST_Covers on the
community polygons) and, for buildings, its grid in the active unified (综合) layer.

Rows are staged in a temporary table with their file position (``pos``) so that what the
database finds can be reported against the row it came from.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from geo.importers.result import Problems
from geo.importers.store import fetch_pairs

_SPATIAL_COMMUNITY = """
UPDATE {stage} s SET spatial_community = (
    SELECT a.code FROM areas a
    WHERE a.level = 'community' AND ST_Covers(a.geom, s.geom)
    ORDER BY a.code LIMIT 1)
"""

_UNIFIED_GRID = """
UPDATE {stage} s SET grid_id = (
    SELECT g.id FROM grids g JOIN grid_layers l ON l.id = g.layer_id
    WHERE l.theme = 'unified' AND l.status = 'active' AND g.valid_to IS NULL
      AND ST_Covers(g.geom, s.geom)
    ORDER BY g.id LIMIT 1)
"""


def locate(conn: psycopg.Connection, stage: str, problems: Problems, *, grid: bool) -> None:
    """Fill ``community_code`` where the file gave none and ``grid_id`` (when ``grid``);
    warn where the given community disagrees with the map or no community contains it."""
    ident = sql.Identifier(stage)
    with conn.cursor() as cur:
        cur.execute(sql.SQL(_SPATIAL_COMMUNITY).format(stage=ident))
        if grid:
            cur.execute(sql.SQL(_UNIFIED_GRID).format(stage=ident))
    query = sql.SQL("SELECT pos, community_code, spatial_community FROM {} WHERE "
                    "community_code IS DISTINCT FROM spatial_community ORDER BY pos").format(ident)
    for pos, given, found in fetch_pairs(conn, query.as_string(conn)):
        if given is None:
            problems.warn(pos, "not inside any community: stored without one")
        elif found is not None:
            problems.warn(pos, f"community {given} given, but the location lies in {found}")
    with conn.cursor() as cur:
        cur.execute(sql.SQL("UPDATE {} SET community_code = spatial_community "
                            "WHERE community_code IS NULL").format(ident))


def no_grid(conn: psycopg.Connection, stage: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE grid_id IS NULL").format(sql.Identifier(stage))
    ((n,),) = fetch_pairs(conn, query.as_string(conn))
    return int(n)
