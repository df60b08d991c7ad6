"""Feature queries of a collection: a page of items (offset paging) and single features.

The database writes the GeoJSON (as geo/db/queries/geojson.py does for the REST API); Python
only adds the page's links around the features' text, so a page is never parsed again. The
properties are exactly the collection's listed properties, in their order (QGIS and GDAL show
columns in the order of the first feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql

from geo.errors import NotFound
from geo.ogc.collections import Collection
from geo.ogc.params import ItemsRequest

PRECISION = 7  # decimals of a degree: about 1 cm
INT4 = 2**31 - 1


@dataclass(frozen=True)
class Page:
    matched: int
    returned: int
    features: str  # a JSON array of GeoJSON features


def _where(collection: Collection, req: ItemsRequest) -> tuple[sql.Composable, dict[str, Any]]:
    params: dict[str, Any] = dict(collection.params)
    clauses: list[sql.Composable] = [sql.SQL("TRUE")]
    if req.bbox is not None:
        params.update(zip(("bx0", "by0", "bx1", "by1"), req.bbox, strict=True))
        clauses.append(sql.SQL(
            "ST_Intersects(t.geom, ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 4326))"))
    for f in req.filters:
        clauses.append(f.where)
        params.update(f.params)
    return sql.SQL(" AND ").join(clauses), params


def feature_sql(collection: Collection) -> sql.Composed:
    """A GeoJSON Feature (json) of the row ``p``, with the collection's properties only."""
    props = sql.SQL(", ").join(
        sql.SQL("{}, p.{}").format(sql.Literal(prop.name), sql.Identifier(prop.name))
        for prop in collection.properties)
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', p.id, 'geometry', "
        "ST_AsGeoJSON(p.geom, {prec})::json, 'properties', json_build_object({props}))"
    ).format(prec=sql.Literal(PRECISION), props=props)


def page_query(collection: Collection, req: ItemsRequest) -> tuple[sql.Composed, dict[str, Any]]:
    """The SQL of one page: numberMatched, numberReturned and the features, ordered by id."""
    where, params = _where(collection, req)
    params.update(_limit=req.limit, _offset=req.offset)
    q = sql.SQL(
        "WITH m AS MATERIALIZED (SELECT * FROM ({src}) t WHERE {where}) "
        "SELECT (SELECT count(*) FROM m), count(p.*), "
        "coalesce(json_agg({feature} ORDER BY p.id), '[]'::json)::text "
        "FROM (SELECT * FROM m ORDER BY id LIMIT %(_limit)s OFFSET %(_offset)s) p"
    ).format(src=collection.source, where=where, feature=feature_sql(collection))
    return q, params


async def page(conn: AsyncConnection, collection: Collection, req: ItemsRequest) -> Page:
    q, params = page_query(collection, req)
    cur = await conn.execute(q, params)
    row = await cur.fetchone()
    assert row is not None
    return Page(matched=int(row[0]), returned=int(row[1]), features=str(row[2]))


def _feature_id(collection: Collection, fid: str) -> str | int:
    if collection.id_type != "integer":
        if "\x00" in fid:  # PostgreSQL text cannot hold it; no id has it
            raise NotFound(f"feature {fid!r} does not exist in collection {collection.id!r}")
        return fid
    if not fid.isdigit() or int(fid) > INT4:
        raise NotFound(f"feature {fid!r} does not exist in collection {collection.id!r}")
    return int(fid)


async def feature(conn: AsyncConnection, collection: Collection, fid: str) -> str:
    """One GeoJSON feature by id, NotFound when there is none."""
    params: dict[str, Any] = {**collection.params, "fid": _feature_id(collection, fid)}
    q = sql.SQL("SELECT {f}::text FROM ({src}) p WHERE p.id = %(fid)s LIMIT 1").format(
        f=feature_sql(collection), src=collection.source)
    cur = await conn.execute(q, params)
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"feature {fid!r} does not exist in collection {collection.id!r}")
    return str(row[0])
