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

# Every grid lies in exactly one community, so a building's grid is looked for among the grids
# of the building's own community only: a given community and a grid from a neighbour would
# disagree. Active unified layers may be nested (a district layer and a street layer inside
# it); the layer with the narrowest scope that contains the community wins, then the lowest
# grid id, so the choice never depends on the query plan.
_UNIFIED_GRID = """
UPDATE {stage} s SET grid_id = (
    SELECT g.id FROM grids g JOIN grid_layers l ON l.id = g.layer_id
    WHERE l.theme = 'unified' AND l.status = 'active' AND g.valid_to IS NULL
      AND g.community_code = s.community_code
      AND left(s.community_code, length(l.scope_code)) = l.scope_code
      AND ST_Covers(g.geom, s.geom)
    ORDER BY length(l.scope_code) DESC, g.id LIMIT 1)
WHERE s.community_code IS NOT NULL
"""

# Rows left without a grid although unified grids are there: the point lies in a grid of
# another community, or in a gap of its own community's grids. Where no active unified grid
# touches the community or the point, there is nothing to report beyond the count.
_UNGRIDDED = """
SELECT s.pos, s.community_code, other.code, other.community_code
FROM {stage} s
LEFT JOIN LATERAL (
    SELECT g.code, g.community_code FROM grids g JOIN grid_layers l ON l.id = g.layer_id
    WHERE l.theme = 'unified' AND l.status = 'active' AND g.valid_to IS NULL
      AND g.community_code IS DISTINCT FROM s.community_code AND ST_Covers(g.geom, s.geom)
    ORDER BY length(l.scope_code) DESC, g.id LIMIT 1) other ON true
WHERE s.grid_id IS NULL AND s.community_code IS NOT NULL
  AND (other.code IS NOT NULL OR EXISTS (
      SELECT 1 FROM grids g JOIN grid_layers l ON l.id = g.layer_id
      WHERE l.theme = 'unified' AND l.status = 'active' AND g.valid_to IS NULL
        AND g.community_code = s.community_code))
ORDER BY s.pos
"""


def locate(conn: psycopg.Connection, stage: str, problems: Problems, *, grid: bool) -> None:
    """Fill ``community_code`` where the file gave none and ``grid_id`` (when ``grid``);
    warn where the given community disagrees with the map, no community contains the point,
    or no grid of the row's community contains it."""
    ident = sql.Identifier(stage)
    with conn.cursor() as cur:
        cur.execute(sql.SQL(_SPATIAL_COMMUNITY).format(stage=ident))
    query = sql.SQL("SELECT pos, community_code, spatial_community FROM {} WHERE "
                    "(community_code IS NULL AND spatial_community IS NULL) "
                    "OR community_code <> spatial_community ORDER BY pos").format(ident)
    for pos, given, found in fetch_pairs(conn, query.as_string(conn)):
        if given is None:
            problems.warn(pos, "not inside any community: stored without one")
        else:
            problems.warn(pos, f"community {given} given, but the location lies in {found}")
    with conn.cursor() as cur:
        cur.execute(sql.SQL("UPDATE {} SET community_code = spatial_community "
                            "WHERE community_code IS NULL").format(ident))
        if grid:
            cur.execute(sql.SQL(_UNIFIED_GRID).format(stage=ident))
    if grid:
        _warn_ungridded(conn, stage, problems)


def _warn_ungridded(conn: psycopg.Connection, stage: str, problems: Problems) -> None:
    query = sql.SQL(_UNGRIDDED).format(stage=sql.Identifier(stage)).as_string(conn)
    for pos, community, other, other_community in fetch_pairs(conn, query):
        where = (f"lies in grid {other} of community {other_community}" if other
                 else "lies in none of its grids")
        problems.warn(pos, f"no unified grid of community {community} contains the location "
                      f"(it {where}): stored without a grid")


def no_grid(conn: psycopg.Connection, stage: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE grid_id IS NULL").format(sql.Identifier(stage))
    ((n,),) = fetch_pairs(conn, query.as_string(conn))
    return int(n)
