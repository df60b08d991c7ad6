"""``/api/v1/merges``: 多网合一. The overlay report of departmental grid layers (signed-in
staff, within their scope): the overlap matrix of every pair of layers, grids split across
another layer's, slivers, parts outside any community, gaps, and how far the layers agree;
and the crosswalk between any two layers, both ways."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from psycopg import AsyncConnection
from pydantic_core import to_json

from api.auth import UserDep
from api.deps import ConnDep, SettingsDep, WithinDep
from geo.access import narrowed, require
from geo.db.queries import merge as q
from geo.errors import InvalidInput
from geo.merge.crosswalk import as_csv, crosswalk
from geo.merge.inputs import Inputs, inputs
from geo.merge.overlay import report

router = APIRouter(prefix="/merges", tags=["merges"])




async def _inputs(conn: AsyncConnection, where: str, chosen: list[str], name: str) -> Inputs:
    """The layers ``chosen`` (validated: active, at least two different), the communities
    and the buildings of the area, in metres."""
    known = await q.themes(conn)
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise InvalidInput(f"{name}: no active layer {', '.join(unknown)}; active: "
                           f"{', '.join(known)}")
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
    found = await _inputs(conn, where, chosen, "layers")
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
    found = await _inputs(conn, where, [old, new], "from, to")
    a, b = found.layers
    rows = await asyncio.to_thread(crosswalk, a, b, found.households)
    if format == "csv":
        return Response(as_csv(rows, old, new), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename*=UTF-8''"
                                 f"{quote(f'crosswalk-{old}-{new}.csv')}"})
    return Response(to_json({"from": old, "to": new, "within": where or None, "rows": rows}),
                    media_type="application/json")
