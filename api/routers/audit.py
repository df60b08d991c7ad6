"""``/api/v1/audit``: the append-only audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.auth import UserDep
from api.deps import ConnDep
from geo import access
from geo.db.queries.audit import entries

router = APIRouter(tags=["audit"])


@router.get("/audit", summary="Audit log entries (admins only), oldest first")
async def audit(request: Request, conn: ConnDep, user: UserDep,
                actor: str | None = None, action: str | None = None,
                object_type: str | None = None, since: datetime | None = None,
                until: datetime | None = None,
                after: Annotated[int | None, Query(ge=0)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    access.require(user, "audit", "read")
    rows = await entries(conn, actor=actor, action=action, object_type=object_type,
                         since=since, until=until, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    links = []
    if more:
        links.append({"rel": "next",
                      "href": str(request.url.include_query_params(after=rows[-1]["id"]))})
    for r in rows:
        r["at"] = r["at"].isoformat()
    return {"items": rows, "numberReturned": len(rows), "links": links}
