"""Where a merge starts: the draft of the unified layer over the merged area. A city whose
grids so far are only the departments' has no unified layer yet; its first one is made here,
empty (generation 1, no grids), so that the merge is a draft like any other and its
activation publishes generation 2. All in the caller's transaction: a merge that fails
leaves no layer behind."""

from __future__ import annotations

from psycopg import AsyncConnection

from geo.auth import User
from geo.db.audit import record_async
from geo.db.queries import drafts as q
from geo.plan import drafts
from geo.plan.drafts import actor_of

THEME = "unified"


async def open_merge(conn: AsyncConnection, user: User | None, client: str | None,
                     scope: str, note: str) -> int:
    """A new draft of the unified layer over ``scope`` (a district, street or community)."""
    if await q.active_layer(conn, THEME, scope) is None:
        district = scope[:6]
        layer = await q.create_first_layer(conn, THEME, district, f"综合网格 {district}",
                                           actor_of(user), "多网合一：尚无综合网格，合并前新建（空）")
        await record_async(conn, actor_of(user), "create_layer", "grid_layer", str(layer),
                           {"theme": THEME, "scope": district, "generation": 1,
                            "purpose": "merge"}, client)
    # the merge replaces every base grid and assigns every building itself
    return await drafts.open_draft(conn, user, client, THEME, scope, note, action="open_merge",
                                   assign=False)
