"""Areas (district / street / community): listing and single areas."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from geo.db.queries.geojson import feature_collection, one_feature, rows
from geo.errors import NotFound

LEVELS = ("district", "street", "community")

_COLUMNS = sql.SQL(
    "a.code AS id, a.code, a.name, a.level, a.parent_code, a.households, a.residents, "
    "round((ST_Area(a.geom::geography) / 1e6)::numeric, 3)::float AS area_km2, "
    "(SELECT count(*) FROM areas c WHERE c.parent_code = a.code) AS children"
)


def _where(level: str | None, parent: str | None, within: str | None = None
           ) -> tuple[sql.Composable, dict[str, Any]]:
    clauses: list[sql.Composable] = [sql.SQL("TRUE")]
    params: dict[str, Any] = {}
    if within:
        clauses.append(sql.SQL("left(a.code, %(wlen)s) = %(within)s"))
        params.update(within=within, wlen=len(within))
    if level:
        clauses.append(sql.SQL("a.level = %(level)s"))
        params["level"] = level
    if parent:
        clauses.append(sql.SQL("a.parent_code = %(parent)s"))
        params["parent"] = parent
    return sql.SQL(" AND ").join(clauses), params


async def list_areas(conn: AsyncConnection, level: str | None, parent: str | None,
                     within: str | None = None) -> list[dict[str, Any]]:
    where, params = _where(level, parent, within)
    q = sql.SQL(
        "SELECT {cols}, ARRAY[ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom)]"
        " AS bbox FROM areas a WHERE {where} ORDER BY a.code"
    ).format(cols=_COLUMNS, where=where)
    out = await rows(conn, q, params)
    for r in out:
        r["bbox"] = [round(v, 7) for v in r["bbox"]]
    return out


async def areas_geojson(conn: AsyncConnection, level: str | None, parent: str | None,
                        simplify_m: float = 0.0, within: str | None = None) -> str:
    where, params = _where(level, parent, within)
    # A display tolerance only, never a measurement: metres to degrees of latitude (east-west
    # it is 1/cos(lat) coarser, which does not matter for drawing).
    params["tol"] = simplify_m / 111_320.0
    q = sql.SQL(
        "SELECT {cols}, CASE WHEN %(tol)s > 0 THEN ST_SimplifyPreserveTopology(a.geom, %(tol)s) "
        "ELSE a.geom END AS geom FROM areas a WHERE {where} ORDER BY a.code"
    ).format(cols=_COLUMNS, where=where)
    return await feature_collection(conn, q, params)


async def require_area(conn: AsyncConnection, code: str) -> None:
    """NotFound unless the area exists (a key lookup, no geometry work)."""
    cur = await conn.execute("SELECT 1 FROM areas WHERE code = %s", (code,))
    if await cur.fetchone() is None:
        raise NotFound(f"area {code} does not exist")


async def area_feature(conn: AsyncConnection, code: str) -> str:
    q = sql.SQL("SELECT {cols}, a.geom FROM areas a WHERE a.code = %(code)s").format(cols=_COLUMNS)
    return await one_feature(conn, q, {"code": code}, f"area {code}")


_SUMMARY = sql.SQL("""
SELECT a.code, a.name, a.level,
  (SELECT count(*) FROM areas s WHERE s.level = 'street' AND s.code LIKE %(prefix)s) AS streets,
  (SELECT count(*) FROM areas c WHERE c.level = 'community' AND c.code LIKE %(prefix)s)
      AS communities,
  (SELECT count(*) FROM grids g JOIN grid_layers l ON l.id = g.layer_id
   WHERE l.theme = 'unified' AND l.status = 'active' AND g.community_code LIKE %(prefix)s)
      AS grids,
  (SELECT count(*) FROM buildings b WHERE b.community_code LIKE %(prefix)s) AS buildings,
  (SELECT count(*) FROM facilities f WHERE f.community_code LIKE %(prefix)s) AS facilities,
  ARRAY[ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom)] AS bbox,
  (SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] FROM (
     SELECT ST_Extent(g.geom)::geometry AS e FROM grids g JOIN grid_layers l ON l.id = g.layer_id
     WHERE l.theme = 'unified' AND l.status = 'active' AND g.community_code LIKE %(prefix)s) x
   WHERE e IS NOT NULL) AS grids_bbox
FROM areas a WHERE a.code = %(code)s
""")


async def summary(conn: AsyncConnection, code: str) -> dict[str, Any]:
    """How many streets, communities, active grids, buildings and facilities lie in an
    area, its box and the box of its grids (objects, not people: nothing to suppress)."""
    found = await rows(conn, _SUMMARY, {"code": code, "prefix": code + "%"})
    if not found:
        raise NotFound(f"no area with code {code}")
    return found[0]
