"""Create, read, update and delete the resources of geo/resources.py, for a given user.

Every call checks the role (403), the scope (out-of-scope objects are 404, and a write may
not move an object out of scope), strips personal fields for roles that may not see them,
and writes the audit log: every read of personal data and every write, inside the same
transaction as the write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection
from shapely.geometry import mapping

from geo import access
from geo.auth import User
from geo.db.audit import record_async
from geo.db.queries import resources as q
from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo.geometry_input import parse_geometry
from geo.h3cells import TABLES as H3_TABLES
from geo.h3cells import fill_async
from geo.resources import RESOURCES, Field, Resource

BBox = tuple[float, float, float, float]


@dataclass
class Page:
    items: list[dict[str, Any]]
    matched: int
    next_after: int | None


def resource(name: str) -> Resource:
    return RESOURCES[name]


def _read_scope(res: Resource, user: User | None) -> str | None:
    """Public resources are readable everywhere; the others only inside the user's scope."""
    if None in access.PERMISSIONS[res.name]["read"]:
        return None
    return access.scope_prefix(user)


def _shows_personal(res: Resource, user: User | None) -> bool:
    return access.sees_personal(user) and (res.personal or any(f.personal for f in res.fields))


def _actor(user: User | None) -> str:
    return "anonymous" if user is None else user.username


async def list_objects(conn: AsyncConnection, user: User | None, res: Resource, *,
                       within: str | None, bbox: BBox | None, filters: dict[str, Any],
                       after: int | None, limit: int, client: str | None) -> Page:
    access.require(user, res.name, "read")
    personal = access.sees_personal(user)
    rows, matched = await q.list_rows(conn, res, personal=personal, scope=_read_scope(res, user),
                                      within=within, bbox=bbox, filters=filters, after=after,
                                      limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    if _shows_personal(res, user) and rows:
        await record_async(conn, _actor(user), "read", res.name, None,
                           {"ids": [r["id"] for r in rows[:200]], "count": len(rows),
                            "filters": {k: str(v) for k, v in filters.items()},
                            "within": within}, client)
    return Page(rows, matched, rows[-1]["id"] if more else None)


async def get_object(conn: AsyncConnection, user: User | None, res: Resource, oid: int,
                     client: str | None) -> dict[str, Any]:
    access.require(user, res.name, "read")
    row = await q.get_row(conn, res, oid, access.sees_personal(user))
    scope = _read_scope(res, user)
    if row is None or (scope is not None and not str(row["_scope"] or "").startswith(scope)):
        raise NotFound(f"{res.name} {oid} does not exist or is outside your scope")
    if _shows_personal(res, user):
        await record_async(conn, _actor(user), "read", res.name, str(oid), {}, client)
    return row


async def create_object(conn: AsyncConnection, user: User | None, res: Resource,
                        values: dict[str, Any], geometry: dict[str, Any] | None, crs: str | None,
                        client: str | None) -> dict[str, Any]:
    access.require(user, res.name, "write")
    values = _checked(res, values, creating=True)
    geometry = _checked_geometry(res, geometry, crs, required=True)
    async with conn.transaction():
        await _complete(conn, res, values, geometry)
        oid = await _db(res, q.insert_row(conn, res, values, geometry))
        await _cells(conn, res)
        row = await _in_scope_after_write(conn, user, res, oid)
        await record_async(conn, _actor(user), "create", res.name, str(oid),
                           {"fields": sorted(values)}, client)
    return row


async def update_object(conn: AsyncConnection, user: User | None, res: Resource, oid: int,
                        values: dict[str, Any], geometry: dict[str, Any] | None,
                        crs: str | None, client: str | None) -> dict[str, Any]:
    access.require(user, res.name, "write")
    values = _checked(res, values, creating=False)
    geometry = _checked_geometry(res, geometry, crs, required=False)
    async with conn.transaction():
        await _existing_in_scope(conn, user, res, oid)
        await _db(res, q.update_row(conn, res, oid, values, geometry))
        await _cells(conn, res)
        row = await _in_scope_after_write(conn, user, res, oid)
        await record_async(conn, _actor(user), "update", res.name, str(oid),
                           {"fields": sorted(values) + (["geometry"] if geometry else [])},
                           client)
    return row


async def delete_object(conn: AsyncConnection, user: User | None, res: Resource, oid: int,
                        client: str | None) -> None:
    kinds = access.PERMISSIONS[res.name]
    access.require(user, res.name, "delete" if "delete" in kinds else "write")
    async with conn.transaction():
        await _existing_in_scope(conn, user, res, oid)
        try:
            await q.delete_row(conn, res, oid)
        except psycopg.errors.ForeignKeyViolation as exc:
            raise Conflict(f"{res.name} {oid} is still referenced: "
                           f"{exc.diag.message_detail or exc.diag.message_primary}") from None
        await record_async(conn, _actor(user), "delete", res.name, str(oid), {}, client)


async def _cells(conn: AsyncConnection, res: Resource) -> None:
    """The H3 cells of a written point (heat maps count by them)."""
    if res.table in H3_TABLES:
        await fill_async(conn, res.table)


async def _existing_in_scope(conn: AsyncConnection, user: User | None, res: Resource,
                             oid: int) -> dict[str, Any]:
    row = await q.get_row(conn, res, oid, True)
    if row is None or not access.in_scope(user, row["_scope"]):
        raise NotFound(f"{res.name} {oid} does not exist or is outside your scope")
    return row


async def _in_scope_after_write(conn: AsyncConnection, user: User | None, res: Resource,
                                oid: int) -> dict[str, Any]:
    row = await q.get_row(conn, res, oid, access.sees_personal(user))
    assert row is not None
    if not access.in_scope(user, row["_scope"]):
        raise Forbidden(f"{res.name}: the result would lie outside your scope "
                        f"({user.scope if user else ''})")
    return row


async def _db(res: Resource, op: Any) -> Any:
    try:
        return await op
    except psycopg.errors.ForeignKeyViolation as exc:
        raise InvalidInput(f"{res.name}: {exc.diag.message_detail or 'unknown reference'}"
                           ) from None
    except psycopg.errors.CheckViolation as exc:
        raise InvalidInput(f"{res.name}: a value breaks the rule "
                           f"{exc.diag.constraint_name}") from None
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"{res.name}: {exc.diag.message_detail or 'already exists'}") from None


def parsed(f: Field, value: Any, where: str) -> Any:
    """The stored value of user text for fields with a ``parse`` hook (category names …)."""
    if f.parse is None:
        return value
    try:
        stored = f.parse(str(value))
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    if stored is None:
        raise InvalidInput(f"{where}: unknown {f.name} {value!r}")
    return stored


def _checked(res: Resource, values: dict[str, Any], creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        f = res.field(name)
        if f is None or not f.writable:
            raise InvalidInput(f"body.{name}: not a writable field of {res.name}")
        if f.choices and value is not None and value not in f.choices:
            raise InvalidInput(f"body.{name}: {value!r} is not one of {', '.join(f.choices)}")
        out[name] = parsed(f, value, f"body.{name}") if value is not None else None
    if res.derive is not None:
        out = res.derive(out)
    if creating:
        out = {**res.defaults, **out}
        missing = [f.name for f in res.fields if f.required and out.get(f.name) in (None, "")]
        if missing:
            raise InvalidInput(f"body: {', '.join(missing)} required for a new {res.name}")
    return out


ALLOWED = {"point": ("Point",), "point_or_polygon": ("Point", "Polygon"),
           "polygons": ("Polygon", "MultiPolygon")}


def _checked_geometry(res: Resource, geometry: dict[str, Any] | None, crs: str | None,
                      required: bool) -> dict[str, Any] | None:
    if not res.geometry:
        if geometry is not None:
            raise InvalidInput(f"body.geometry: {res.name} have no geometry")
        return None
    if geometry is None:
        if required:
            raise InvalidInput(f"body.geometry: a new {res.name[:-1]} needs a GeoJSON geometry")
        return None
    geom = parse_geometry(geometry, crs, ALLOWED[res.geometry])
    return dict(mapping(geom))


async def _complete(conn: AsyncConnection, res: Resource, values: dict[str, Any],
                    geometry: dict[str, Any] | None) -> None:
    """Fill in grid and community from the location."""
    if geometry is not None and res.locate:
        grid_id, community = await _locate(conn, geometry)
        if res.field("grid_id") and values.get("grid_id") is None:
            values["grid_id"] = grid_id
        if values.get("community_code") is None:
            values["community_code"] = community


async def _locate(conn: AsyncConnection, geometry: dict[str, Any]) -> tuple[int | None, str | None]:
    import json

    cur = await conn.execute(
        "SELECT g.id, g.community_code FROM active_grid_parts p JOIN grids g ON g.id = p.grid_id "
        "WHERE ST_Covers(p.geom, ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))) "
        "ORDER BY g.code LIMIT 1", (json.dumps(geometry),))
    row = await cur.fetchone()
    if row:
        return row[0], row[1]
    # In no grid (a gap, a park): the community covering it, if any.
    cur = await conn.execute(
        "SELECT code FROM areas WHERE level = 'community' AND ST_Covers(geom, "
        "ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))) ORDER BY code LIMIT 1",
        (json.dumps(geometry),))
    area = await cur.fetchone()
    return None, area[0] if area else None
