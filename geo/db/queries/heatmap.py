"""Heat-map counts of people per H3 cell: a GROUP BY over the cells stored with buildings
(migration 0007). People count at the building they live in; residents are the buildings'
own totals. Cells below the caller's floor (``geo.privacy.suppression_floor``) are left out
here, in SQL, so nothing below it leaves the database. (Issues, up to millions, are counted
in memory: ``geo.issue_cells``.)
"""

from __future__ import annotations

from datetime import date

from psycopg import AsyncConnection

from geo.h3cells import RESOLUTIONS

_CURRENT = "r.valid_from <= %(day)s AND (r.valid_to IS NULL OR r.valid_to >= %(day)s)"
_IN = "b.community_code LIKE %(prefix)s"

_LAYERS = {
    "residents": "SELECT b.h3_{r} AS cell, sum(b.residents)::bigint AS n FROM buildings b "
                 f"WHERE {_IN} GROUP BY 1",
    "party_members": "SELECT b.h3_{r} AS cell, count(*) AS n FROM people p "
                     "JOIN buildings b ON b.id = p.home_building_id "
                     f"WHERE p.party_status IS NOT NULL AND {_IN} GROUP BY 1",
    "volunteers": "SELECT b.h3_{r} AS cell, count(DISTINCT p.id) AS n "
                  "FROM role_assignments r JOIN people p ON p.id = r.person_id "
                  "JOIN buildings b ON b.id = coalesce(p.home_building_id, r.building_id) "
                  f"WHERE r.role = 'volunteer' AND {_CURRENT} AND {_IN} GROUP BY 1",
}
LAYERS = tuple(_LAYERS)


async def cell_counts(conn: AsyncConnection, layer: str, res: int, within: str, floor: int,
                      day: date | None = None) -> list[tuple[int, int]]:
    """(cell, count) of ``layer`` at resolution ``res`` in the area ``within`` (a code
    prefix, "" for everywhere), counts of at least ``floor``, by cell."""
    if layer not in _LAYERS or res not in RESOLUTIONS:
        raise ValueError(f"no heat-map layer {layer!r} at resolution {res}")
    sql = (f"SELECT cell, n FROM ({_LAYERS[layer].format(r=res)}) c "
           "WHERE cell IS NOT NULL AND n >= %(floor)s ORDER BY cell")
    params = {"prefix": within + "%", "floor": max(floor, 1), "day": day or date.today()}
    cur = await conn.execute(sql, params)
    return [(int(c), int(n)) for c, n in await cur.fetchall()]
