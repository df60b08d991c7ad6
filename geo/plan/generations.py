"""Activation, diff and revert of grid generations.

Activation is one transaction: lock the draft and the active generation, refuse a draft
whose scope someone else redrew since it was opened (409), validate (409 with the problems),
copy the active grids outside the draft's scope into it, move every current reference
(buildings, grid posts, party organisations, open issues) from the old grids to their
successors, archive the old generation (valid_to) and publish the draft as the next
generation (valid_from). Earlier generations stay in the database, queryable by number.
"""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import AsyncConnection

from geo.access import in_scope, require
from geo.auth import User
from geo.db.audit import record_async
from geo.db.queries import drafts as q
from geo.db.queries import generations as gq
from geo.db.queries import merge as mq
from geo.errors import Conflict, DraftInvalid, NotFound
from geo.plan.drafts import actor_of, check, check_draft, draft_for, load_scope, open_draft
from geo.plan.model import Rules


async def activate(conn: AsyncConnection, user: User | None, client: str | None,
                   draft_id: int, if_match: set[str] | None, rules: Rules) -> dict[str, Any]:
    async with conn.transaction():
        draft = await draft_for(conn, user, draft_id, write=True, lock=True)
        check_draft(if_match, draft)
        scope = draft["draft_scope"]
        active = await q.active_layer(conn, draft["theme"], scope, lock=True)
        if active is None:
            raise Conflict(f"there is no active {draft['theme']} layer over {scope} any more")
        base = await q.layer(conn, draft["base_layer_id"])
        await _refuse_stale(conn, draft, base, active)
        checked = await asyncio.to_thread(check, await load_scope(conn, draft), rules)
        if checked.errors:
            raise DraftInvalid(f"draft {draft_id} has {checked.errors} problem(s) that block "
                               "activation; fix them and try again", checked.issues)
        old_inside = await gq.layer_grid_ids(conn, active["id"], scope, inside=True)
        new_inside = await gq.layer_grid_ids(conn, draft_id, scope, inside=True)
        mapping = await gq.successors(conn, old_inside, new_inside)
        mapping.update(await q.copy_grids(conn, active["id"], draft_id, scope, inside=False))
        people = await _accepted_people(conn, draft_id)
        moved = {**await gq.repoint(conn, mapping), **people}
        if draft["theme"] == "unified":
            moved.update(await gq.place_in_scope(conn, draft_id, scope))
            await gq.recount_from_buildings(conn, new_inside)
        generation = await gq.switch(conn, draft, active)
        if draft["theme"] == "unified":
            await gq.refresh_lookup(conn)
        summary = {"theme": draft["theme"], "scope": scope, "generation": generation,
                   "previous": active["generation"], "grids": len(new_inside),
                   "warnings": checked.warnings, "moved": moved}
        await record_async(conn, actor_of(user), "activate", "grid_layer", str(draft_id),
                           summary, client)
    return {"layer": draft_id, **summary}


async def _accepted_people(conn: AsyncConnection, draft_id: int) -> dict[str, int]:
    """The people plan a planner accepted for a merged draft, applied (nothing without one);
    refused when the draft was edited since and lost a grid the plan names."""
    if not await mq.has_posts(conn, draft_id):
        return {}
    stale = await mq.stale_posts(conn, draft_id)
    if stale:
        raise Conflict(f"the accepted people plan names grids this draft no longer has "
                       f"({', '.join(stale[:5])}): review and accept the people plan again")
    return await mq.apply_posts(conn, draft_id)


async def _refuse_stale(conn: AsyncConnection, draft: dict[str, Any], base: dict[str, Any],
                        active: dict[str, Any]) -> None:
    if active["id"] == base["id"]:
        return
    later = await gq.later_activations(conn, draft, base)
    if later:
        g = later[0]
        raise Conflict(
            f"generation {g['generation']} redrew {g['scope']} after this draft was opened "
            f"(from generation {base['generation']}); open a new draft of {draft['draft_scope']}"
            " so your edits start from the current grids")


async def revert(conn: AsyncConnection, user: User | None, client: str | None, theme: str,
                 generation: int, scope_code: str) -> int:
    """A new draft of ``scope_code`` whose grids are those of an earlier generation."""
    require(user, "plans", "write")
    if not in_scope(user, scope_code):
        raise NotFound(f"area {scope_code} is outside your area")
    old = await q.layer_by_generation(conn, theme, generation, scope_code)
    draft_id = await open_draft(conn, user, client, theme, scope_code,
                                f"revert to generation {generation}", copy_from=old["id"],
                                action="revert")
    return draft_id


# -- diff ------------------------------------------------------------------------------------

DIFF_GRIDS = """
WITH a AS (SELECT g.* FROM layer_grids lg JOIN grids g ON g.id = lg.grid_id
           WHERE lg.of_layer = %(a)s AND starts_with(coalesce(g.community_code, ''), %(scope)s)),
     b AS (SELECT g.* FROM layer_grids lg JOIN grids g ON g.id = lg.grid_id
           WHERE lg.of_layer = %(b)s AND starts_with(coalesce(g.community_code, ''), %(scope)s))
SELECT coalesce(a.code, b.code) AS code, a.id AS a_id, b.id AS b_id,
       round(ST_Area(a.geom::geography)::numeric, 1)::float AS area_a_m2,
       round(ST_Area(b.geom::geography)::numeric, 1)::float AS area_b_m2,
       a.households AS households_a, b.households AS households_b,
       CASE WHEN a.id IS NULL THEN 'added' WHEN b.id IS NULL THEN 'removed'
            WHEN ST_Area(ST_SymDifference(a.geom, b.geom)::geography) > %(tol)s
              OR a.name <> b.name OR a.kind <> b.kind THEN 'changed'
            ELSE 'same' END AS change,
       ST_AsGeoJSON(coalesce(b.geom, a.geom), 7)::json AS geometry
FROM a FULL JOIN b ON a.code = b.code
ORDER BY 1
"""

DIFF_PLACES = """
WITH a AS (SELECT g.id, g.code, g.geom FROM layer_grids lg JOIN grids g ON g.id = lg.grid_id
           WHERE lg.of_layer = %(a)s AND starts_with(coalesce(g.community_code, ''), %(scope)s)),
     b AS (SELECT g.id, g.code, g.geom FROM layer_grids lg JOIN grids g ON g.id = lg.grid_id
           WHERE lg.of_layer = %(b)s AND starts_with(coalesce(g.community_code, ''), %(scope)s)),
     places AS (
         SELECT 'building' AS kind, id, geom FROM buildings
         WHERE starts_with(coalesce(community_code, ''), %(scope)s)
         UNION ALL
         SELECT 'issue', id, geom FROM resident_issues
         WHERE status <> 'closed' AND starts_with(coalesce(community_code, ''), %(scope)s))
SELECT p.kind, p.id,
       (SELECT a.code FROM a WHERE ST_Covers(a.geom, p.geom) ORDER BY a.code LIMIT 1) AS from_grid,
       (SELECT b.code FROM b WHERE ST_Covers(b.geom, p.geom) ORDER BY b.code LIMIT 1) AS to_grid
FROM places p
"""


async def diff(conn: AsyncConnection, user: User | None, a: int, b: int, scope: str,
               tolerance_m2: float) -> dict[str, Any]:
    """What changes from generation (layer) ``a`` to ``b`` inside ``scope``: grids added,
    removed and changed with area and household deltas; buildings, open issues and current
    grid posts (by post id and role, no names) that change grid."""
    require(user, "plans", "read")
    if not in_scope(user, scope):
        raise NotFound(f"area {scope} is outside your area")
    params = {"a": a, "b": b, "scope": scope, "tol": tolerance_m2}
    grids = [r for r in await q.fetch(conn, DIFF_GRIDS, params) if r["change"] != "same"]
    moves = [r for r in await q.fetch(conn, DIFF_PLACES, params)
             if r["from_grid"] != r["to_grid"]]
    posts = await _posts(conn, a, b, scope)
    features = [{"type": "Feature", "geometry": r.pop("geometry"),
                 "properties": {**r, "area_delta_m2": _delta(r["area_a_m2"], r["area_b_m2"]),
                                "households_delta": _delta(r["households_a"],
                                                           r["households_b"])}}
                for r in grids]
    return {"a": a, "b": b, "scope": scope,
            "summary": {c: sum(1 for r in grids if r["change"] == c)
                        for c in ("added", "removed", "changed")}
            | {"buildings_moved": sum(1 for m in moves if m["kind"] == "building"),
               "issues_moved": sum(1 for m in moves if m["kind"] == "issue"),
               "posts_moved": len(posts)},
            "grids": {"type": "FeatureCollection", "features": features},
            "buildings": [_move(m) for m in moves if m["kind"] == "building"],
            "issues": [_move(m) for m in moves if m["kind"] == "issue"],
            "posts": posts}


def _delta(x: float | int | None, y: float | int | None) -> float | int | None:
    return None if x is None and y is None else (y or 0) - (x or 0)


def _move(m: dict[str, Any]) -> dict[str, Any]:
    return {"id": m["id"], "from_grid": m["from_grid"], "to_grid": m["to_grid"]}


async def _posts(conn: AsyncConnection, a: int, b: int, scope: str) -> list[dict[str, Any]]:
    """Current grid posts on grids of ``a`` whose successor in ``b`` has another code."""
    old = await gq.layer_grid_ids(conn, a, scope)
    new = await gq.layer_grid_ids(conn, b, scope)
    mapping = await gq.successors(conn, old, new)
    rows = await q.fetch(conn, """
        SELECT r.id, r.role, r.grid_id, g.code FROM role_assignments r
        JOIN grids g ON g.id = r.grid_id
        WHERE r.grid_id = ANY(%s) AND (r.valid_to IS NULL OR r.valid_to >= current_date)
        ORDER BY r.id""", (old,))
    codes = {int(x["id"]): x["code"] for x in await q.fetch(
        conn, "SELECT id, code FROM grids WHERE id = ANY(%s)", (new,))}
    out = []
    for r in rows:
        to = codes.get(mapping.get(r["grid_id"], -1))
        if to != r["code"]:
            out.append({"id": r["id"], "role": r["role"], "from_grid": r["code"], "to_grid": to})
    return out
