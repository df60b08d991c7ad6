"""GeoJSON straight from PostGIS: one query builds the whole FeatureCollection.

Every column of the inner query but ``geom`` and ``id`` becomes a property, so the SQL of each
resource decides exactly what leaves the database (never personal data). ``id`` becomes the
feature id. (PostGIS 3.3's ``ST_AsGeoJSON(record)`` has no id column, hence our own.)
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from geo.errors import NotFound


def _feature(precision: int) -> sql.Composed:
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', t.id, 'geometry', "
        "ST_AsGeoJSON(t.geom, {p})::json, 'properties', to_jsonb(t) - 'geom' - 'id')"
    ).format(p=sql.Literal(precision))


def _wrap(inner: sql.Composable, precision: int, limited: bool) -> sql.Composed:
    if not limited:
        return sql.SQL(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', "
            "coalesce(json_agg({f}), '[]'::json))::text FROM ({inner}) t"
        ).format(inner=inner, f=_feature(precision))
    # numberMatched / numberReturned (as in OGC API Features) say when a cap cut the answer.
    return sql.SQL(
        "WITH m AS MATERIALIZED ({inner}) "
        "SELECT json_build_object('type', 'FeatureCollection', "
        "'numberMatched', (SELECT count(*) FROM m), 'numberReturned', count(t.*), "
        "'features', coalesce(json_agg({f}), '[]'::json))::text "
        "FROM (SELECT * FROM m LIMIT %(_limit)s) t"
    ).format(inner=inner, f=_feature(precision))


async def feature_collection(conn: AsyncConnection, query: sql.Composable,
                             params: dict[str, Any] | None = None, precision: int = 7,
                             limit: int | None = None) -> str:
    params = dict(params or {})
    if limit is not None:
        params["_limit"] = limit
    cur = await conn.execute(_wrap(query, precision, limit is not None), params)
    row = await cur.fetchone()
    assert row is not None
    return str(row[0])


async def one_feature(conn: AsyncConnection, query: sql.Composable, params: dict[str, Any],
                      what: str, precision: int = 7) -> str:
    q = sql.SQL("SELECT {f}::text FROM ({inner}) t").format(inner=query, f=_feature(precision))
    cur = await conn.execute(q, params)
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"{what} does not exist")
    return str(row[0])


async def rows(conn: AsyncConnection, query: sql.SQL | sql.Composed,
               params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params or {})
        return list(await cur.fetchall())
