"""``/api/v1/heatmap``: counts of residents, party members, volunteers or resident issues per
H3 hexagon (GeoJSON), within the caller's scope; small counts left out for roles that need it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic_core import to_json

from api.auth import UserDep
from api.deps import ConnDep, SettingsDep, WithinDep
from geo.access import narrowed, require, role_of
from geo.db.queries import heatmap as q
from geo.heatmap import HeatQuery, collection
from geo.issue_cells import IssueCellCache
from geo.privacy import suppression_floor

router = APIRouter(tags=["coverage"])


@router.get("/heatmap", summary="Counts per H3 hexagon (resolution 7–10) of residents, party "
            "members, volunteers or resident issues (GeoJSON)")
async def get_heatmap(
    request: Request, conn: ConnDep, settings: SettingsDep, user: UserDep, within: WithinDep,
    layer: Annotated[str, Query(description="residents, party_members, volunteers or issues")],
    res: Annotated[int, Query(description="H3 resolution, 7 (≈5 km²) to 10 (≈0.015 km²)")] = 9,
    category: Annotated[str | None, Query(max_length=400, description="issues: "
                                          "comma-separated categories")] = None,
    status: Annotated[str | None, Query(max_length=200, description="issues: "
                                        "comma-separated statuses")] = None,
    since: Annotated[str | None, Query(alias="from", max_length=40, description="issues: "
                                       "reported on or after (YYYY-MM-DD or date-time)")] = None,
    until: Annotated[str | None, Query(alias="to", max_length=40, description="issues: "
                                       "reported up to (a date: that whole day)")] = None,
) -> Response:
    require(user, "heatmap", "read")
    query = HeatQuery.parse(layer, res, category, status, since, until)
    where = narrowed(user, within)
    floor = suppression_floor(role_of(user), settings.k_anonymity)
    issues: IssueCellCache = request.app.state.issue_cells
    if query.layer == "issues":
        rows = (await issues.get()).counts(query.res, where, floor, query.categories,
                                           query.statuses, query.since, query.until)
    else:
        await issues.buildings_filled()
        rows = await q.cell_counts(conn, query.layer, query.res, where, floor)
    return Response(to_json(collection(rows, query, where, floor)),
                    media_type="application/geo+json")
