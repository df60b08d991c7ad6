"""Generations of a grid layer: list them, diff two, revert a community or street to one
(as a new draft). The grids of any generation: ``GET /api/v1/grids?generation=N``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import UserDep, client_of
from api.deps import ConnDep, SettingsDep, WithinDep
from geo.plan import generations, views

router = APIRouter(prefix="/generations", tags=["planning"])
Theme = Annotated[str, Query(max_length=40, description="unified, 综治, 城管, 应急 …")]
Scope = Annotated[str, Query(pattern=r"^[0-9]{6}([0-9]{3}){0,2}$",
                             description="Area code the diff is limited to")]


class Revert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: str = Field(pattern=r"^[0-9]{9}([0-9]{3})?$",
                       description="Community or street to put back as it was")
    theme: str = Field("unified", max_length=40)


@router.get("", summary="Generations of a grid layer, with valid-from / valid-to")
async def list_generations(conn: ConnDep, user: UserDep, within: WithinDep,
                           theme: Theme = "unified") -> JSONResponse:
    return JSONResponse(jsonable_encoder(
        await views.list_generations(conn, user, theme, within)))


@router.get("/diff", summary="Grids, buildings, issues and posts that change between two "
            "generations")
async def diff(conn: ConnDep, user: UserDep, settings: SettingsDep, scope: Scope,
               a: Annotated[int, Query(ge=1, alias="from")],
               b: Annotated[int, Query(ge=1, alias="to")],
               theme: Theme = "unified") -> JSONResponse:
    return JSONResponse(jsonable_encoder(await views.generation_diff(
        conn, user, theme, a, b, scope, settings.plan_tolerance_m2)))


@router.post("/{generation}/revert", status_code=201,
             summary="A new draft of a community or street with that generation's grids")
async def revert(request: Request, conn: ConnDep, user: UserDep,
                 generation: Annotated[int, Path(ge=1)], body: Revert) -> JSONResponse:
    draft_id = await generations.revert(conn, user, client_of(request), body.theme,
                                        generation, body.scope)
    return JSONResponse({"draft": draft_id, "href": f"/api/v1/drafts/{draft_id}"},
                        status_code=201)
