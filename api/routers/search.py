"""``/api/v1/search``: find buildings, compounds (小区) and facilities by address text (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic_core import to_json

from api.deps import ConnDep
from geo.db.queries import search as q

router = APIRouter(tags=["lookup"])


@router.get(
    "/search",
    summary="Buildings, compounds and facilities matching an address text, ranked",
    description="Tolerant of partial and misordered input (\"锦江 3栋\", \"3栋 锦江新村\"): "
    "the score is the share of the query's units (number tokens such as 3栋, Chinese "
    "bigrams) found in a result. Each result has coordinates to pass to /api/v1/lookup.",
)
async def search(
    conn: ConnDep,
    q_: Annotated[str, Query(alias="q", description="Address, 小区 or facility name",
                             examples=["锦江 3栋"])],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    units = q.parse_query(q_)
    results = await q.search(conn, units, limit)
    return Response(to_json({"query": q_, "units": units.shown, "results": results}),
                    media_type="application/json")
