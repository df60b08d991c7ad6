"""``/api/v1/reports/street/{code}``: the street report, as one offline HTML file (folium),
or its indicator table as CSV or XLSX (signed-in roles, within their scope)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.auth import UserDep
from api.deps import ConnDep, SettingsDep
from geo.access import require
from geo.issue_cells import IssueCellCache
from geo.report.build import MEDIA, gather, render

router = APIRouter(tags=["coverage"])


@router.get("/reports/street/{code}", summary="The street report: offline HTML (map, "
            "indicators, grids short of target) or the indicator table as CSV / XLSX")
async def street_report(
    request: Request, conn: ConnDep, settings: SettingsDep, user: UserDep,
    code: Annotated[str, Path(description="Street code (9 digits)")],
    fmt: Annotated[Literal["html", "csv", "xlsx"], Query(alias="format")] = "html",
) -> Response:
    require(user, "coverage", "read")
    issues: IssueCellCache = request.app.state.issue_cells
    data = await gather(conn, user, settings, code, await issues.get())
    name = f"street-report-{code}.{fmt}"
    return Response(render(data, fmt, settings), media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
