"""Reading a layer for export: checks against the database, a survey, then chunks read through
a server-side cursor and converted to the asked CRS.

The SQL is composed from the layer descriptions (geo/export/layers.py) with values always
passed as parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql

from geo.crs import geometries_from_wgs84
from geo.errors import NotFound
from geo.export.options import ExportRequest

CHUNK_ROWS = 5000


@dataclass
class Chunk:
    """Rows of one fetch: attribute values per column, and geometries in the target CRS."""

    values: dict[str, list[Any]]
    geoms: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass(frozen=True)
class Survey:
    count: int
    types: tuple[str, ...]  # geometry types present, e.g. ("MULTIPOLYGON",)


def _filters(req: ExportRequest, params: dict[str, Any]) -> list[sql.Composable]:
    layer = req.layer
    out: list[sql.Composable] = [sql.SQL(layer.where)]
    if layer.grids:
        out.append(sql.SQL("l.theme = %(theme)s"))
        params["theme"] = req.theme
        if req.generation is None:
            out.append(sql.SQL("l.status = 'active'"))
        else:
            out.append(sql.SQL("l.generation = %(gen)s AND l.status IN ('active', 'archived')"))
            params["gen"] = req.generation
    if req.within:
        params.update(within=req.within, prefix=req.within + "%")
        if layer.within_code and not (layer.grids and req.theme != "unified"):
            out.append(sql.SQL(layer.within_code + " LIKE %(prefix)s"))
        else:
            out.append(sql.SQL("ST_Intersects(" + layer.geom + ", (SELECT geom FROM areas "
                               "WHERE code = %(within)s))"))
    if req.bbox is not None:
        params.update(zip(("minx", "miny", "maxx", "maxy"), req.bbox, strict=True))
        out.append(sql.SQL("ST_Intersects(" + layer.geom + ", ST_MakeEnvelope(%(minx)s, "
                           "%(miny)s, %(maxx)s, %(maxy)s, 4326))"))
    return out


def _where(req: ExportRequest) -> tuple[sql.Composable, dict[str, Any]]:
    params: dict[str, Any] = {}
    return sql.SQL(" AND ").join(_filters(req, params)), params


def select(req: ExportRequest) -> tuple[sql.Composed, dict[str, Any]]:
    """The export query: public columns cast to their kinds, then the geometry as WKB."""
    casts = {"text": "text", "int": "bigint", "float": "double precision", "bool": "boolean"}
    cols = [sql.SQL("(" + c.sql + ")::" + casts[c.kind] + " AS {}").format(sql.Identifier(c.name))
            for c in req.layer.columns]
    where, params = _where(req)
    q = sql.SQL("SELECT {cols}, ST_AsBinary({geom}) AS geom FROM {table} WHERE {where} "
                "ORDER BY {order}").format(
        cols=sql.SQL(", ").join(cols), geom=sql.SQL(req.layer.geom),
        table=sql.SQL(req.layer.table), where=where, order=sql.SQL(req.layer.order))
    return q, params


def check(conn: psycopg.Connection, req: ExportRequest) -> None:
    """NotFound for an area, grid theme or generation that does not exist."""
    if req.within and conn.execute("SELECT 1 FROM areas WHERE code = %s",
                                   (req.within,)).fetchone() is None:
        raise NotFound(f"within: area {req.within} does not exist")
    if req.layer.grids:
        statuses = ("active",) if req.generation is None else ("active", "archived")
        found = conn.execute(
            "SELECT 1 FROM grid_layers WHERE theme = %s AND status = ANY(%s) "
            "AND (%s::int IS NULL OR generation = %s::int)",
            (req.theme, list(statuses), req.generation, req.generation)).fetchone()
        if found is None:
            what = (f"no active grid layer {req.theme!r}" if req.generation is None else
                    f"grid layer {req.theme!r} has no generation {req.generation} "
                    "(active or archived)")
            raise NotFound(("generation" if req.generation else "theme") + ": " + what)


def survey(conn: psycopg.Connection, req: ExportRequest) -> Survey:
    """How many rows and which geometry types the export will hold."""
    where, params = _where(req)
    q = sql.SQL("SELECT count(*), coalesce(array_agg(DISTINCT GeometryType({geom})), '{{}}') "
                "FROM {table} WHERE {where}").format(
        geom=sql.SQL(req.layer.geom), table=sql.SQL(req.layer.table), where=where)
    row = conn.execute(q, params).fetchone()
    assert row is not None
    return Survey(int(row[0]), tuple(sorted(row[1])))


def chunks(conn: psycopg.Connection, req: ExportRequest,
           size: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """The rows in order, ``size`` at a time, from a server-side cursor (one transaction)."""
    q, params = select(req)
    names = [c.name for c in req.layer.columns]
    with conn.transaction(), conn.cursor(name="gridgov_export", binary=True) as cur:
        cur.itersize = size
        cur.execute(q, params)
        while rows := cur.fetchmany(size):
            columns = list(zip(*rows, strict=True))
            geoms = shapely.from_wkb(np.asarray(columns[-1], dtype=object))
            yield Chunk({n: list(v) for n, v in zip(names, columns, strict=False)},
                        geometries_from_wgs84(geoms, req.crs))
