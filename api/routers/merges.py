"""``/api/v1/merges``: 多网合一. The overlay report of departmental grid layers (signed-in
staff, within their scope): the overlap matrix of every pair of layers, grids split across
another layer's, slivers, parts outside any community, gaps, and how far the layers agree."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic_core import to_json

from api.auth import UserDep
from api.deps import ConnDep, SettingsDep, WithinDep
from geo.access import narrowed, require
from geo.db.queries import merge as q
from geo.errors import InvalidInput
from geo.merge.inputs import inputs
from geo.merge.overlay import report

router = APIRouter(prefix="/merges", tags=["merges"])


@router.get("/overlay", summary="How the active grid layers of an area agree: overlaps, "
            "splits, slivers, parts outside communities, gaps")
async def overlay(conn: ConnDep, settings: SettingsDep, user: UserDep, within: WithinDep = None,
                  layers: Annotated[str | None, Query(max_length=400, description=(
                      "comma-separated themes (default: every active layer)"))] = None
                  ) -> Response:
    require(user, "plans", "read")
    where = narrowed(user, within)
    known = await q.themes(conn)
    chosen = [t.strip() for t in (layers or ",".join(known)).split(",") if t.strip()]
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise InvalidInput(f"layers: no active layer {', '.join(unknown)}; active: "
                           f"{', '.join(known)}")
    if len(set(chosen)) < 2:
        raise InvalidInput("layers: name at least two different layers to compare")
    chosen = list(dict.fromkeys(chosen))
    grids, communities, buildings = await q.read(conn, where, chosen)
    if not grids:
        raise InvalidInput(f"within: no grid of {', '.join(chosen)} meets {where or 'the city'}")

    def work() -> dict[str, object]:
        found = inputs(chosen, grids, communities, buildings)
        body = report(found.layers, found.communities, found.own, found.households,
                      settings.plan_sliver_m2)
        body.update(within=where or None, epsg=found.epsg, sliver_m2=settings.plan_sliver_m2)
        return body

    return Response(to_json(await asyncio.to_thread(work)), media_type="application/json")
