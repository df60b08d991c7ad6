"""Planners' drafts of a grid layer: open, read (with ETags), edit (split, merge, reshape,
move buildings, dedicated grid, renumber), validate, diff, activate, abandon.

Edits need ``If-Match`` with the ETag of every grid they name (412 when one changed since
it was read, 428 without); activation needs the draft's ETag."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import UserDep, client_of
from api.deps import ConnDep, SettingsDep
from geo.db.changes import Changes
from geo.errors import InvalidInput
from geo.geometry_input import parse_geometry
from geo.plan import drafts, edit, generations, views
from geo.plan import propose as plan_propose
from geo.plan.model import DEDICATED_TYPES, Rules
from geo.settings import Settings

router = APIRouter(prefix="/drafts", tags=["planning"])
DraftId = Annotated[int, Path(ge=1, description="The draft (a grid layer row in status draft)")]
IfMatch = Annotated[str | None, Header(description="ETag(s) of what you edit, as read")]
POLYGONS = ("Polygon", "MultiPolygon")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenDraft(Strict):
    scope: str = Field(description="Community (12 digits) or street (9 digits) code",
                       pattern=r"^[0-9]{9}([0-9]{3})?$")
    theme: str = Field("unified", max_length=40)
    note: str | None = Field(None, max_length=500)


class Split(Strict):
    grid: int = Field(description="Id of the grid to split")
    line: dict[str, Any] = Field(description="GeoJSON LineString drawn across the grid")
    crs: str | None = None


class Merge(Strict):
    grids: list[int] = Field(min_length=2, max_length=50)


class Reshape(Strict):
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    crs: str | None = None


class MoveBuildings(Strict):
    buildings: list[int] = Field(min_length=1, max_length=5000)
    to: int = Field(description="Id of the grid that takes them")


class Dedicated(Strict):
    geometry: dict[str, Any]
    crs: str | None = None
    dedicated_type: str = Field(description=", ".join(DEDICATED_TYPES))
    name: str = Field(min_length=1, max_length=100)
    community: str | None = Field(None, pattern=r"^[0-9]{12}$")


class Propose(Strict):
    community: str | None = Field(None, pattern=r"^[0-9]{12}$",
                                  description="One community (default: the draft's whole scope)")
    households_min: int | None = Field(None, ge=1, le=100000)
    households_max: int | None = Field(None, ge=1, le=100000)
    seed: int = Field(0, ge=0)


class Renumber(Strict):
    community: str = Field(pattern=r"^[0-9]{12}$")


def _rules(settings: Settings) -> Rules:
    return Rules.from_settings(settings)


def _json(body: Any, status: int = 200, etag: str | None = None) -> JSONResponse:
    headers = {"ETag": etag} if etag else None
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _wrote(request: Request) -> None:
    changes: Changes = request.app.state.changes
    changes.wrote("grids")


@router.post("", status_code=201, summary="Open a draft of a community or street")
async def open_draft(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                     body: OpenDraft) -> JSONResponse:
    draft_id = await drafts.open_draft(conn, user, client_of(request), body.theme, body.scope,
                                       body.note)
    view = await views.draft_view(conn, user, draft_id, _rules(settings))
    return _json(view, 201, view["etag"])


@router.get("", summary="Open drafts in your area")
async def list_drafts(conn: ConnDep, user: UserDep) -> JSONResponse:
    return _json(await views.list_drafts(conn, user))


@router.get("/{draft_id}", summary="A draft: its grids (with ETags), problems and metrics")
async def get_draft(conn: ConnDep, user: UserDep, settings: SettingsDep,
                    draft_id: DraftId) -> JSONResponse:
    view = await views.draft_view(conn, user, draft_id, _rules(settings))
    return _json(view, etag=view["etag"])


@router.get("/{draft_id}/grids/{grid_id}", summary="One grid of a draft, with its ETag")
async def get_grid(conn: ConnDep, user: UserDep, draft_id: DraftId,
                   grid_id: Annotated[int, Path(ge=1)]) -> JSONResponse:
    feature = await views.draft_grid(conn, user, draft_id, grid_id)
    return _json(feature, etag=feature["properties"]["etag"])


@router.get("/{draft_id}/buildings",
            summary="The scope's buildings with their draft grid (points, households)")
async def get_buildings(conn: ConnDep, user: UserDep, draft_id: DraftId) -> JSONResponse:
    return _json(await views.draft_buildings(conn, user, draft_id))


async def _edit(request: Request, conn: ConnDep, user: UserDep, settings: Settings,
                draft_id: int, if_match: str | None, targets: list[int], action: str,
                detail: dict[str, Any], operation: drafts.Operation,
                rules: Rules | None = None) -> JSONResponse:
    result = await drafts.edit(conn, user, client_of(request), draft_id,
                               drafts.parse_if_match(if_match), targets, action, detail,
                               operation, rules or _rules(settings))
    _wrote(request)
    return _json(result, etag=result["etag"])


@router.post("/{draft_id}/split", summary="Split a grid by a drawn line")
async def split(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                draft_id: DraftId, body: Split, if_match: IfMatch = None) -> JSONResponse:
    line = parse_geometry(body.line, body.crs, ("LineString",), "body.line")
    return await _edit(request, conn, user, settings, draft_id, if_match, [body.grid], "split",
                       {"grid": body.grid, "line": line.wkt},
                       partial(edit.split, key=body.grid, line=line))


@router.post("/{draft_id}/merge", summary="Merge adjacent grids of one community")
async def merge(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                draft_id: DraftId, body: Merge, if_match: IfMatch = None) -> JSONResponse:
    return await _edit(request, conn, user, settings, draft_id, if_match, body.grids, "merge",
                       {"grids": body.grids}, partial(edit.merge, keys=body.grids))


@router.put("/{draft_id}/grids/{grid_id}/geometry",
            summary="Reshape a grid (snapped to its neighbours and the community edge)")
async def reshape(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                  draft_id: DraftId, grid_id: Annotated[int, Path(ge=1)], body: Reshape,
                  if_match: IfMatch = None) -> JSONResponse:
    geom = parse_geometry(body.geometry, body.crs, POLYGONS)
    return await _edit(request, conn, user, settings, draft_id, if_match, [grid_id], "reshape",
                       {"grid": grid_id}, partial(edit.reshape, key=grid_id, geom=geom))


@router.post("/{draft_id}/move-buildings", summary="Move buildings to another grid")
async def move_buildings(request: Request, conn: ConnDep, user: UserDep,
                         settings: SettingsDep, draft_id: DraftId, body: MoveBuildings,
                         if_match: IfMatch = None) -> JSONResponse:
    return await _edit(request, conn, user, settings, draft_id, if_match, [body.to],
                       "move_buildings", {"buildings": body.buildings, "to": body.to},
                       partial(edit.move_buildings, building_ids=body.buildings,
                               target_key=body.to))


@router.post("/{draft_id}/dedicated", summary="Create a dedicated grid (专属网格)")
async def dedicated(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                    draft_id: DraftId, body: Dedicated, if_match: IfMatch = None) -> JSONResponse:
    geom = parse_geometry(body.geometry, body.crs, POLYGONS)
    return await _edit(request, conn, user, settings, draft_id, if_match, [], "dedicated",
                       {"type": body.dedicated_type, "name": body.name},
                       partial(edit.dedicated, geom=geom, dedicated_type=body.dedicated_type,
                               name=body.name, community=body.community))


@router.post("/{draft_id}/propose",
             summary="Propose grids: households within range, contiguous, compact, on streets")
async def propose(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                  draft_id: DraftId, body: Propose, if_match: IfMatch = None) -> JSONResponse:
    rules = Rules.from_settings(settings, households_min=body.households_min,
                                households_max=body.households_max)
    if rules.households_min > rules.households_max:
        raise InvalidInput("households_min: must not exceed households_max")
    network = await drafts.network_of(conn, user, draft_id)
    return await _edit(request, conn, user, settings, draft_id, if_match, [], "propose",
                       body.model_dump(), partial(plan_propose.propose, community=body.community,
                                                  network=network, seed=body.seed), rules)


@router.post("/{draft_id}/renumber",
             summary="Renumber a community's grids west→east, north→south")
async def renumber(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                   draft_id: DraftId, body: Renumber, if_match: IfMatch = None) -> JSONResponse:
    return await _edit(request, conn, user, settings, draft_id, if_match, [], "renumber",
                       {"community": body.community},
                       partial(edit.renumber_community, community=body.community))


@router.get("/{draft_id}/diff", summary="What activating the draft would change")
async def diff(conn: ConnDep, user: UserDep, settings: SettingsDep,
               draft_id: DraftId) -> JSONResponse:
    return _json(await views.draft_diff(conn, user, draft_id, settings.plan_tolerance_m2))


@router.post("/{draft_id}/activate", summary="Validate and publish as the next generation")
async def activate(request: Request, conn: ConnDep, user: UserDep, settings: SettingsDep,
                   draft_id: DraftId, if_match: IfMatch = None) -> JSONResponse:
    result = await generations.activate(conn, user, client_of(request), draft_id,
                                        drafts.parse_if_match(if_match), _rules(settings))
    _wrote(request)
    return _json(result)


@router.delete("/{draft_id}", status_code=204, summary="Abandon a draft")
async def abandon(request: Request, conn: ConnDep, user: UserDep, draft_id: DraftId,
                  if_match: IfMatch = None) -> Response:
    await views.abandon(conn, user, client_of(request), draft_id,
                        drafts.parse_if_match(if_match))
    return Response(status_code=204)
