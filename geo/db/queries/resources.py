"""Generic SQL for the CRUD resources, generated from geo/resources.py descriptions.

Identifiers come from the descriptions only; every value travels as a parameter.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.resources import Resource

BBox = tuple[float, float, float, float]


def _columns(res: Resource, personal: bool) -> sql.Composed:
    cols: list[sql.Composable] = [sql.SQL("t.id")]
    cols += [sql.SQL("t.{}").format(sql.Identifier(f.name)) for f in res.fields
             if personal or not f.personal]
    cols += [sql.SQL("{} AS {}").format(sql.SQL(expr), sql.Identifier(name))
             for name, expr in res.extra]
    cols.append(sql.SQL("{} AS _scope").format(sql.SQL(res.scope_sql)))
    if res.geometry:
        cols.append(sql.SQL("ST_AsGeoJSON({}, 7)::json AS _geometry").format(
            sql.SQL(res.geom_sql)))
    return sql.SQL(", ").join(cols)


def _from(res: Resource) -> sql.Composed:
    return sql.SQL("{} t {}").format(sql.Identifier(res.table), sql.SQL(res.joins))


def _where(res: Resource, scope: str | None, within: str | None, bbox: BBox | None,
           filters: dict[str, Any], params: dict[str, Any]) -> sql.Composed:
    clauses: list[sql.Composable] = [sql.SQL("TRUE")]
    key = sql.SQL(res.scope_sql)
    for name, prefix in (("scope", scope), ("within", within)):
        if prefix is not None:
            params[name] = prefix + "%"
            clauses.append(sql.SQL("{} LIKE {}").format(key, sql.Placeholder(name)))
    if bbox is not None and res.geometry:
        params.update(minx=bbox[0], miny=bbox[1], maxx=bbox[2], maxy=bbox[3])
        clauses.append(sql.SQL("t.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, "
                               "%(maxy)s, 4326)"))
    for name, value in filters.items():
        params["f_" + name] = value
        clauses.append(sql.SQL("t.{} = {}").format(sql.Identifier(name),
                                                   sql.Placeholder("f_" + name)))
    return sql.SQL(" AND ").join(clauses)


async def list_rows(conn: AsyncConnection, res: Resource, *, personal: bool, scope: str | None,
                    within: str | None, bbox: BBox | None, filters: dict[str, Any],
                    after: int | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    params: dict[str, Any] = {"limit": limit + 1, "after": after or 0}
    where = _where(res, scope, within, bbox, filters, params)
    q = sql.SQL("SELECT {cols} FROM {src} WHERE {w} AND t.id > %(after)s ORDER BY t.id "
                "LIMIT %(limit)s").format(cols=_columns(res, personal), src=_from(res), w=where)
    n = sql.SQL("SELECT count(*) AS n FROM {src} WHERE {w}").format(src=_from(res), w=where)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(q, params)
        rows = await cur.fetchall()
        await cur.execute(n, params)
        matched = (await cur.fetchone() or {"n": 0})["n"]
    return rows, int(matched)


async def get_row(conn: AsyncConnection, res: Resource, oid: int, personal: bool
                  ) -> dict[str, Any] | None:
    q = sql.SQL("SELECT {cols} FROM {src} WHERE t.id = %(id)s").format(
        cols=_columns(res, personal), src=_from(res))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(q, {"id": oid})
        return await cur.fetchone()


def _geometry_values(res: Resource, geometry: dict[str, Any] | None
                     ) -> tuple[list[str], list[sql.Composable], dict[str, Any]]:
    if geometry is None:
        return [], [], {}
    params = {"_geom": json.dumps(geometry)}
    g = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON(%(_geom)s), 4326)")
    if res.geometry == "point_or_polygon" and geometry["type"] == "Polygon":
        return (["footprint", "geom"], [g, sql.SQL("ST_PointOnSurface({})").format(g)], params)
    if res.geometry == "polygons":
        return ["geom"], [sql.SQL("ST_Multi({})").format(g)], params
    return ["geom"], [g], params


async def insert_row(conn: AsyncConnection, res: Resource, values: dict[str, Any],
                     geometry: dict[str, Any] | None) -> int:
    gcols, gexprs, params = _geometry_values(res, geometry)
    names = list(values)
    params.update({"v_" + k: _adapt(v) for k, v in values.items()})
    q = sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) RETURNING id").format(
        t=sql.Identifier(res.table),
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in names + gcols),
        vals=sql.SQL(", ").join([sql.Placeholder("v_" + k) for k in names] + gexprs))
    cur = await conn.execute(q, params)
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def update_row(conn: AsyncConnection, res: Resource, oid: int, values: dict[str, Any],
                     geometry: dict[str, Any] | None) -> None:
    gcols, gexprs, params = _geometry_values(res, geometry)
    sets = [sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder("v_" + k))
            for k in values]
    sets += [sql.SQL("{} = {}").format(sql.Identifier(c), e) for c, e in zip(gcols, gexprs,
                                                                             strict=True)]
    if not sets:
        return
    params.update({"v_" + k: _adapt(v) for k, v in values.items()}, id=oid)
    await conn.execute(sql.SQL("UPDATE {t} SET {s} WHERE id = %(id)s").format(
        t=sql.Identifier(res.table), s=sql.SQL(", ").join(sets)), params)


async def delete_row(conn: AsyncConnection, res: Resource, oid: int) -> None:
    await conn.execute(sql.SQL("DELETE FROM {} WHERE id = %(id)s").format(
        sql.Identifier(res.table)), {"id": oid})


def _adapt(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value) if isinstance(value, dict) else value
