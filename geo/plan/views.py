"""What planners read: a draft with its grids (each with its ETag), problems and metrics;
the open drafts of their area; one grid; a draft's diff against the active generation; the
generations of a layer. And abandoning a draft."""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import AsyncConnection

from geo.access import require, scope_prefix
from geo.auth import User
from geo.db.audit import record_async
from geo.db.queries import drafts as q
from geo.errors import NotFound
from geo.plan.drafts import actor_of, check, check_draft, draft_etag, draft_for, grid_etag, load_scope
from geo.plan.generations import diff
from geo.plan.model import Rules

_GRIDS = """
SELECT id, code, name, kind, dedicated_type, community_code, households, residents, version,
       lineage, locked, ST_AsGeoJSON(geom, 7)::json AS geometry,
       (SELECT json_build_array(round(ST_X(p)::numeric, 7), round(ST_Y(p)::numeric, 7))
        FROM ST_PointOnSurface(geom) AS p) AS label
FROM grids WHERE layer_id = %(layer)s AND (%(grid)s::int IS NULL OR id = %(grid)s)
ORDER BY code
"""


def _feature(r: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in r.items() if k != "geometry"}
    props["etag"] = grid_etag(r["id"], r["version"])
    return {"type": "Feature", "id": r["id"], "geometry": r["geometry"], "properties": props}


def _layer(layer: dict[str, Any]) -> dict[str, Any]:
    return {k: layer[k] for k in ("id", "theme", "scope_code", "draft_scope", "base_layer_id",
                                  "status", "generation", "version", "created_by",
                                  "created_at", "valid_from", "valid_to", "note")}


async def draft_view(conn: AsyncConnection, user: User | None, draft_id: int, rules: Rules
                     ) -> dict[str, Any]:
    layer = await draft_for(conn, user, draft_id, write=False)
    rows = await q.fetch(conn, _GRIDS, {"layer": draft_id, "grid": None})
    checked = await asyncio.to_thread(check, await load_scope(conn, layer), rules)
    return {**_layer(layer), "etag": draft_etag(layer),
            "grids": {"type": "FeatureCollection", "features": [_feature(r) for r in rows]},
            "rules": {"households_min": rules.households_min,
                      "households_max": rules.households_max},
            **checked.as_dict()}


async def draft_grid(conn: AsyncConnection, user: User | None, draft_id: int, grid_id: int
                     ) -> dict[str, Any]:
    await draft_for(conn, user, draft_id, write=False)
    rows = await q.fetch(conn, _GRIDS, {"layer": draft_id, "grid": grid_id})
    if not rows:
        raise NotFound(f"grid {grid_id} is not in draft {draft_id}")
    return _feature(rows[0])


async def draft_buildings(conn: AsyncConnection, user: User | None, draft_id: int
                          ) -> dict[str, Any]:
    layer = await draft_for(conn, user, draft_id, write=False)
    features = await q.building_features(conn, draft_id, layer["draft_scope"])
    return {"type": "FeatureCollection", "features": features}


async def list_drafts(conn: AsyncConnection, user: User | None) -> list[dict[str, Any]]:
    require(user, "plans", "read")
    prefix = scope_prefix(user) or ""
    rows = await q.fetch(conn, f"SELECT {q.LAYER_COLUMNS} FROM grid_layers WHERE status = "
                         "'draft' AND draft_scope IS NOT NULL AND starts_with(draft_scope, %s) "
                         "ORDER BY id", (prefix,))
    return [{**_layer(r), "etag": draft_etag(r)} for r in rows]


async def draft_diff(conn: AsyncConnection, user: User | None, draft_id: int,
                     tolerance_m2: float) -> dict[str, Any]:
    layer = await draft_for(conn, user, draft_id, write=False)
    active = await q.active_layer(conn, layer["theme"], layer["draft_scope"])
    if active is None:
        raise NotFound(f"there is no active {layer['theme']} layer over {layer['draft_scope']}")
    return await diff(conn, user, active["id"], draft_id, layer["draft_scope"], tolerance_m2)


async def generation_diff(conn: AsyncConnection, user: User | None, theme: str, a: int,
                          b: int, scope: str, tolerance_m2: float) -> dict[str, Any]:
    old = await q.layer_by_generation(conn, theme, a, scope)
    new = await q.layer_by_generation(conn, theme, b, scope)
    return await diff(conn, user, old["id"], new["id"], scope, tolerance_m2)


async def list_generations(conn: AsyncConnection, user: User | None, theme: str,
                           within: str | None) -> list[dict[str, Any]]:
    require(user, "plans", "read")
    rows = await q.fetch(conn, f"SELECT {q.LAYER_COLUMNS} FROM grid_layers WHERE theme = %s "
                         "AND status <> 'draft' AND (%s::text IS NULL OR starts_with(%s, "
                         "scope_code) OR starts_with(scope_code, %s)) ORDER BY scope_code, "
                         "generation", (theme, within, within or "", within or ""))
    return [_layer(r) for r in rows]


async def abandon(conn: AsyncConnection, user: User | None, client: str | None, draft_id: int,
                  if_match: set[str] | None) -> None:
    async with conn.transaction():
        layer = await draft_for(conn, user, draft_id, write=True, lock=True)
        check_draft(if_match, layer)
        await conn.execute("DELETE FROM grid_layers WHERE id = %s", (draft_id,))
        await record_async(conn, actor_of(user), "abandon_draft", "grid_layer", str(draft_id),
                           {"scope": layer["draft_scope"], "version": layer["version"]}, client)
