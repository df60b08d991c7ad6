"""``/api/v1/merges``: 多网合一. The overlay report of departmental grid layers (signed-in
staff, within their scope): the overlap matrix of every pair of layers, grids split across
another layer's, slivers, parts outside any community, gaps, and how far the layers agree;
and the crosswalk between any two layers, both ways."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import quote

import shapely
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from psycopg import AsyncConnection
from pydantic import BaseModel, Field
from pydantic_core import to_json

from api.auth import UserDep, client_of
from api.deps import ConnDep, SettingsDep, WithinDep
from geo.access import PERSONAL_ROLES, in_scope, narrowed, require, role_of
from geo.auth import User
from geo.db.audit import record_async
from geo.db.queries import merge as q
from geo.errors import Forbidden, InvalidInput
from geo.merge.crosswalk import as_csv, crosswalk
from geo.merge.inputs import Inputs, inputs
from geo.merge.overlay import report
from geo.merge.people import accepted, destination, posts, proposal
from geo.merge.start import open_merge
from geo.merge.unify import unify
from geo.plan import drafts
from geo.plan.drafts import actor_of
from geo.plan.model import Rules
from geo.settings import Settings

router = APIRouter(prefix="/merges", tags=["merges"])




async def _inputs(conn: AsyncConnection, user: User | None, where: str, chosen: list[str],
                  name: str) -> Inputs:
    """The layers ``chosen`` (validated: active, at least two different), the communities
    and the buildings of the area, in metres."""
    known = await q.themes(conn)
    for t in chosen:
        if t.startswith("draft:") and t[6:].isdigit():  # a draft the caller may read
            await drafts.draft_for(conn, user, int(t[6:]), write=False)
            known.append(t)
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise InvalidInput(f"{name}: no active layer {', '.join(unknown)} (nor a draft:<id>); "
                           f"active: {', '.join(known)}")
    if len(set(chosen)) < 2:
        raise InvalidInput(f"{name}: name at least two different layers")
    chosen = list(dict.fromkeys(chosen))
    grids, communities, buildings = await q.read(conn, where, chosen)
    if not grids:
        raise InvalidInput(f"within: no grid of {', '.join(chosen)} meets {where or 'the city'}")
    return await asyncio.to_thread(inputs, chosen, grids, communities, buildings)


@router.get("/overlay", summary="How the active grid layers of an area agree: overlaps, "
            "splits, slivers, parts outside communities, gaps")
async def overlay(conn: ConnDep, settings: SettingsDep, user: UserDep, within: WithinDep = None,
                  layers: Annotated[str | None, Query(max_length=400, description=(
                      "comma-separated themes (default: every active layer)"))] = None
                  ) -> Response:
    require(user, "plans", "read")
    where = narrowed(user, within)
    chosen = [t.strip() for t in (layers or ",".join(await q.themes(conn))).split(",")
              if t.strip()]
    found = await _inputs(conn, user, where, chosen, "layers")
    body = await asyncio.to_thread(report, found.layers, found.communities, found.own,
                                   found.households, settings.plan_sliver_m2)
    body.update(within=where or None, epsg=found.epsg, sliver_m2=settings.plan_sliver_m2)
    return Response(to_json(body), media_type="application/json")


@router.get("/crosswalk", summary="Every grid of one layer → the grids of another that take "
            "part of it, with area and household shares (JSON or CSV)")
async def get_crosswalk(
    conn: ConnDep, user: UserDep, within: WithinDep = None,
    old: Annotated[str, Query(alias="from", max_length=40, description="the layer mapped")] = "",
    new: Annotated[str, Query(alias="to", max_length=40, description="the layer mapped onto"
                              )] = "unified",
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    require(user, "plans", "read")
    where = narrowed(user, within)
    if not old:
        raise InvalidInput("from: name the layer to map (e.g. 综治)")
    found = await _inputs(conn, user, where, [old, new], "from, to")
    a, b = found.layers
    if where:  # the old grids as far as they lie in the area: their rest is not "uncovered"
        area = shapely.union_all(found.communities[found.own])
        a = replace(a, geoms=shapely.intersection(a.geoms, area))
    rows = await asyncio.to_thread(crosswalk, a, b, found.households)
    if format == "csv":
        return Response(as_csv(rows, old, new), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename*=UTF-8''"
                                 f"{quote(f'crosswalk-{old}-{new}.csv')}"})
    return Response(to_json({"from": old, "to": new, "within": where or None, "rows": rows}),
                    media_type="application/json")


class MergeRequest(BaseModel):
    scope: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$",
                       description="a district (6), street (9) or community (12)")
    layers: list[str] = Field(min_length=1, max_length=12, description="departmental layers "
                              "by priority: the first one's boundaries are kept where they "
                              "satisfy the rules")
    households_min: int | None = Field(default=None, ge=0)
    households_max: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)
    note: str | None = Field(default=None, max_length=400)


@router.post("", status_code=201, summary="Merge departmental layers into a draft of unified "
             "grids (nested in communities, households in range, contiguous, compact)")
async def merge(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                body: MergeRequest) -> Response:
    require(user, "plans", "write")
    if not in_scope(user, body.scope):
        raise Forbidden(f"scope: {body.scope} is outside your area")
    rules = Rules.from_settings(settings, households_min=body.households_min,
                                households_max=body.households_max)
    if rules.households_min > rules.households_max:
        raise InvalidInput("households_min: must not exceed households_max")
    known = await q.themes(conn)
    unknown = [t for t in body.layers if t not in known or t == "unified"]
    if unknown:
        raise InvalidInput(f"layers: {', '.join(unknown)} is not an active departmental layer "
                           f"({', '.join(t for t in known if t != 'unified')})")
    order = list(dict.fromkeys(body.layers))
    grids = await q.grids(conn, body.scope, order)
    rank = {t: i for i, t in enumerate(order)}
    sources = [(t, str(code), shapely.from_wkb(bytes(wkb)))
               for t, code, wkb in sorted(grids, key=lambda g: (rank[g[0]], g[1]))]
    if not sources:
        raise InvalidInput(f"layers: no grid of {', '.join(order)} reaches {body.scope}")
    client = client_of(request)
    async with conn.transaction():  # the draft and its merge, or nothing
        draft_id = await open_merge(conn, user, client, body.scope,
                                    body.note or f"多网合一：{'、'.join(order)}")
        network = await drafts.network_of(conn, user, draft_id)
        # the draft was opened just now, in this transaction: nobody else has edited it
        result = await drafts.edit(conn, user, client, draft_id, {"*"}, [], "merge",
                                   {"layers": order, "households_min": rules.households_min,
                                    "households_max": rules.households_max,
                                    "seed": body.seed},
                                   unify(sources, network, body.seed), rules)
    return Response(to_json({**result, "layers": order, "sources": len(sources)}),
                    status_code=201, media_type="application/json")


async def _moves(conn: AsyncConnection, user: User | None, scope: str, draft_id: int,
                 settings: Settings) -> tuple[list[dict[str, Any]], dict[str, str | None],
                                              list[str]]:
    """The current roles on old grids of the draft's area, where the rule sends each old grid
    (every layer and the draft read at once: a layer that does not reach the scope has no
    grids, and so no rows in its crosswalk), and the draft's grid codes."""
    found = await _inputs(conn, user, scope, [*await q.themes(conn), f"draft:{draft_id}"],
                          "layers")
    *olds, new = found.layers
    moves: dict[str, str | None] = {}
    for old in olds:
        rows = await asyncio.to_thread(crosswalk, old, new, found.households)
        moves.update({f"{old.theme}/{g}": to for g, to in destination(rows).items()})
    return await q.roles(conn, scope, settings.plan_sliver_m2), moves, list(new.codes)


async def _posts(conn: AsyncConnection, user: User | None, scope: str, draft_id: int,
                 settings: Settings) -> tuple[list[dict[str, Any]], list[str]]:
    roles, moves, new_grids = await _moves(conn, user, scope, draft_id, settings)
    return posts(roles, moves, {}), new_grids


@router.get("/{draft_id}/people", summary="Who takes which unified grid: every current role on "
            "an old grid proposed on the unified grid that took most of its households")
async def people(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                 draft_id: Annotated[int, Path(ge=1)],
                 names: Annotated[bool, Query(description="people's names (for roles that may "
                                              "read people; the read is audited)")] = True
                 ) -> Response:
    require(user, "plans", "read")
    layer = await drafts.draft_for(conn, user, draft_id, write=False)
    scope = layer["draft_scope"]
    roles, moves, new_grids = await _moves(conn, user, scope, draft_id, settings)
    wanted = names and role_of(user) in PERSONAL_ROLES
    body = proposal(roles, moves, new_grids, settings.merge_workers_max, wanted,
                    await q.decided(conn, draft_id))
    if wanted:  # names are personal data: read, and audited
        await record_async(conn, actor_of(user), "read_people", "grid_layer", str(draft_id),
                           {"people": sum(1 for p in body["people"] if p["name"]),
                            "purpose": "merge"}, client_of(request))
    body.update(draft=draft_id, scope=scope, names_shown=wanted)
    return Response(to_json(body), media_type="application/json")


class PostEdit(BaseModel):
    layer: str = Field(max_length=60, description="the old grid's layer (theme)")
    grid: str = Field(max_length=40, description="the old grid's code")
    role: str = Field(max_length=40)
    to: str | None = Field(default=None, max_length=40, description="a grid of the draft, "
                           "or null: the post is not carried over")


class AcceptPeople(BaseModel):
    edits: list[PostEdit] = Field(default_factory=list, max_length=5000, description="posts "
                                  "sent elsewhere than proposed; every other post as proposed")


@router.post("/{draft_id}/people/accept", summary="Accept the people plan of a merged draft, "
             "post by post with the planner's edits; applied when the draft is activated")
async def accept_people(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                        draft_id: Annotated[int, Path(ge=1)], body: AcceptPeople) -> Response:
    require(user, "plans", "write")
    async with conn.transaction():
        layer = await drafts.draft_for(conn, user, draft_id, write=True, lock=True)
        current, new_grids = await _posts(conn, user, layer["draft_scope"], draft_id, settings)
        plan = accepted(current, [e.model_dump() for e in body.edits], new_grids)
        await q.store_posts(conn, draft_id, plan, actor_of(user))
        await record_async(conn, actor_of(user), "accept_people", "grid_layer", str(draft_id),
                           {"posts": len(plan), "edited": sum(1 for p in plan if p[4]),
                            "not_carried": sum(1 for p in plan if p[3] is None)},
                           client_of(request))
    return Response(to_json({"draft": draft_id, "posts": len(plan),
                             "edited": sum(1 for p in plan if p[4])}),
                    media_type="application/json")
