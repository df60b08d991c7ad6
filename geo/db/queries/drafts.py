"""SQL of the planner's drafts: open, read a draft's scope, write an edit, and the queries
activation and diffs are made of. Geometries travel as WKB; every write happens inside the
caller's transaction (``geo.plan.drafts`` holds it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from shapely.geometry.base import BaseGeometry

from geo.db.queries.lookup import HEAD_ROLE
from geo.errors import NotFound

LAYER_COLUMNS = ("id, theme, name, scope_code, generation, status, draft_scope, base_layer_id, "
                 "created_by, version, created_at, valid_from, valid_to, note")


async def fetch(conn: AsyncConnection, query: str, params: Any = None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def layer(conn: AsyncConnection, layer_id: int, lock: bool = False) -> dict[str, Any]:
    found = await fetch(conn, f"SELECT {LAYER_COLUMNS} FROM grid_layers WHERE id = %s"
                        + (" FOR UPDATE" if lock else ""), (layer_id,))
    if not found:
        raise NotFound(f"grid layer {layer_id} does not exist")
    return found[0]


async def active_layer(conn: AsyncConnection, theme: str, covering: str,
                       lock: bool = False) -> dict[str, Any] | None:
    """The active generation of ``theme`` whose scope holds the area ``covering``."""
    found = await fetch(
        conn, f"SELECT {LAYER_COLUMNS} FROM grid_layers WHERE theme = %s AND status = 'active' "
        "AND starts_with(%s, scope_code) ORDER BY length(scope_code) DESC LIMIT 1"
        + (" FOR UPDATE" if lock else ""), (theme, covering))
    return found[0] if found else None


async def layer_by_generation(conn: AsyncConnection, theme: str, generation: int,
                              covering: str) -> dict[str, Any]:
    found = await fetch(
        conn, f"SELECT {LAYER_COLUMNS} FROM grid_layers WHERE theme = %s AND generation = %s "
        "AND starts_with(%s, scope_code) ORDER BY length(scope_code) DESC LIMIT 1",
        (theme, generation, covering))
    if not found:
        raise NotFound(f"there is no generation {generation} of the {theme} grids over "
                       f"{covering}")
    return found[0]


async def create_draft(conn: AsyncConnection, base: dict[str, Any], scope: str, actor: str,
                       note: str | None) -> int:
    (row,) = await fetch(
        conn, "INSERT INTO grid_layers (theme, name, scope_code, status, draft_scope, "
        "base_layer_id, created_by, note) VALUES (%s, %s, %s, 'draft', %s, %s, %s, %s) "
        "RETURNING id", (base["theme"], f"{base['name']} · draft {scope}", base["scope_code"],
                         scope, base["id"], actor, note))
    return int(row["id"])


async def create_first_layer(conn: AsyncConnection, theme: str, scope: str, name: str,
                             actor: str, note: str) -> int:
    """An empty active generation 1 of ``theme`` over ``scope`` (a layer with no grids yet)."""
    (row,) = await fetch(
        conn, "INSERT INTO grid_layers (theme, name, scope_code, generation, status, valid_from, "
        "created_by, note) VALUES (%s, %s, %s, 1, 'active', now(), %s, %s) RETURNING id",
        (theme, name, scope, actor, note))
    return int(row["id"])


async def copy_grids(conn: AsyncConnection, source: int, target: int,
                     scope: str | None, inside: bool) -> dict[int, int]:
    """Copy the grids of layer ``source`` inside (or outside) ``scope`` into ``target``,
    each with lineage = the grid it copies; old id → new id."""
    found = await fetch(conn, """
        INSERT INTO grids (layer_id, code, name, kind, dedicated_type, community_code, geom,
                           lineage, households, residents, locked)
        SELECT %(target)s, code, name, kind, dedicated_type, community_code, geom,
               ARRAY[id], households, residents, locked
        FROM grids
        WHERE layer_id = %(source)s
          AND (%(scope)s::text IS NULL
               OR starts_with(coalesce(community_code, ''), %(scope)s) = %(inside)s)
        RETURNING id, lineage[1] AS copied""",
        {"source": source, "target": target, "scope": scope, "inside": inside})
    return {int(r["copied"]): int(r["id"]) for r in found}


# -- a draft's scope, read in bulk ---------------------------------------------------------

async def communities(conn: AsyncConnection, scope: str) -> list[dict[str, Any]]:
    return await fetch(conn, "SELECT code, name, ST_AsBinary(geom) AS wkb FROM areas "
                       "WHERE level = 'community' AND starts_with(code, %s) ORDER BY code",
                       (scope,))


async def draft_grids(conn: AsyncConnection, layer_id: int) -> list[dict[str, Any]]:
    return await fetch(conn, "SELECT id, code, name, kind, dedicated_type, community_code, "
                       "ST_AsBinary(geom) AS wkb, lineage, version, locked, households "
                       "FROM grids WHERE layer_id = %s ORDER BY code", (layer_id,))


# A scope's buildings packed by the server into a bytea per community, a fixed-width row per
# building in PostgreSQL's binary send formats (big-endian), read by NumPy in one call: 10⁵
# rows as Python tuples took 0.25 s to receive and 0.15 s more to turn into columns.
_PACKED = np.dtype([("id", ">i8"), ("x", ">f8"), ("y", ">f8"), ("households", ">i4"),
                    ("residents", ">i4"), ("grid_id", ">i8"), ("has_head", "?")])


def _prefix(scope: str) -> str:
    """A LIKE pattern for the codes under ``scope`` (digits): unlike starts_with, which it
    estimates at 0.5 % of the rows, the planner reads a prefix's share from the statistics
    (a district's 10⁵ buildings were sorted on disk for want of the hash table it now uses)."""
    if not scope.isdigit():
        raise ValueError(f"scope {scope!r} is not a code")
    return scope + "%"


async def scope_buildings(conn: AsyncConnection, layer_id: int, scope: str
                          ) -> dict[str, npt.NDArray[Any]]:
    """The buildings of the scope with their draft grid (0: not assigned yet), as columns
    (id, x, y (lon/lat; NaN for an empty point), households, residents, community_code,
    grid_id, has_head), ordered by id."""
    async with conn.cursor(binary=True) as cur:
        await cur.execute("""
            WITH heads AS (SELECT DISTINCT building_id FROM role_assignments
                           WHERE role = %(head)s AND valid_from <= current_date
                             AND (valid_to IS NULL OR valid_to >= current_date))
            SELECT b.community_code, string_agg(
                int8send(b.id) || float8send(coalesce(ST_X(b.geom), 'NaN'))
                || float8send(coalesce(ST_Y(b.geom), 'NaN')) || int4send(b.households)
                || int4send(b.residents) || int8send(coalesce(d.grid_id, 0))
                || boolsend(h.building_id IS NOT NULL), '')
            FROM buildings b
            LEFT JOIN draft_buildings d ON d.layer_id = %(layer)s AND d.building_id = b.id
            LEFT JOIN heads h ON h.building_id = b.id
            WHERE b.community_code LIKE %(prefix)s
            GROUP BY b.community_code""", {"layer": layer_id, "prefix": _prefix(scope),
                                           "head": HEAD_ROLE})
        found = await cur.fetchall()
    parts = [np.frombuffer(packed, dtype=_PACKED) for _, packed in found]
    rows = np.concatenate(parts) if parts else np.zeros(0, dtype=_PACKED)
    codes = np.repeat(np.array([code for code, _ in found], dtype=object),
                      [len(p) for p in parts]).astype(object)
    order = np.argsort(rows["id"], kind="stable")
    rows = rows[order]
    return {"id": rows["id"].astype(np.int64), "x": rows["x"].astype(np.float64),
            "y": rows["y"].astype(np.float64),
            "households": rows["households"].astype(np.int64),
            "residents": rows["residents"].astype(np.int64),
            "grid_id": rows["grid_id"].astype(np.int64), "has_head": rows["has_head"].copy(),
            "community_code": codes[order]}


# A building has a current 楼栋长 (building alias b; parameter %(head)s).
_HAS_HEAD = """EXISTS (SELECT 1 FROM role_assignments r
    WHERE r.building_id = b.id AND r.role = %(head)s AND r.valid_from <= current_date
      AND (r.valid_to IS NULL OR r.valid_to >= current_date))"""
# The buildings of scope %(scope)s with their grid in draft %(layer)s (d.grid_id).
_IN_SCOPE = """FROM buildings b
    LEFT JOIN draft_buildings d ON d.layer_id = %(layer)s AND d.building_id = b.id
    WHERE starts_with(coalesce(b.community_code, ''), %(scope)s) ORDER BY b.id"""


async def building_features(conn: AsyncConnection, layer_id: int, scope: str
                            ) -> list[dict[str, Any]]:
    """The scope's buildings as GeoJSON features (point, households, draft grid): what the
    editor shows and lassoes. No personal data: a head is a yes/no."""
    rows = await fetch(conn, f"""
        SELECT json_build_object('type', 'Feature', 'id', b.id,
                 'geometry', ST_AsGeoJSON(b.geom, 7)::json,
                 'properties', json_build_object('id', b.id, 'address', b.address,
                    'households', b.households, 'grid', d.grid_id,
                    'community_code', b.community_code,
                    'has_head', {_HAS_HEAD})) AS f
        {_IN_SCOPE}""", {"layer": layer_id, "scope": scope, "head": HEAD_ROLE})
    return [r["f"] for r in rows]


async def scope_facilities(conn: AsyncConnection, scope: str) -> list[dict[str, Any]]:
    return await fetch(conn, """
        SELECT f.id, f.category, ST_AsBinary(f.geom) AS wkb FROM facilities f
        JOIN areas a ON a.level = 'community' AND starts_with(a.code, %s)
                    AND ST_Covers(a.geom, f.geom)
        ORDER BY f.id""", (scope,))


async def _scope_geometry(conn: AsyncConnection, table: str, aggregate: str, scope: str
                          ) -> bytes | None:
    # driven from the few communities (each tested against the rows its index finds), not
    # from every row of the table against the communities: 7× faster on the demo network
    found = await fetch(conn, f"""
        SELECT ST_AsBinary({aggregate}(t.geom)) AS wkb FROM {table} t
        WHERE t.id IN (SELECT m.id FROM areas a JOIN {table} m ON ST_Intersects(a.geom, m.geom)
                       WHERE a.level = 'community' AND starts_with(a.code, %s))""",
        (scope,))
    return found[0]["wkb"] if found else None


async def allowed_gaps(conn: AsyncConnection, scope: str) -> bytes | None:
    """Water, parks … meeting the scope's communities, as one geometry."""
    return await _scope_geometry(conn, "allowed_gaps", "ST_Union", scope)


async def scope_network(conn: AsyncConnection, scope: str) -> bytes | None:
    """The walk edges of the scope's communities, one MultiLineString (for the proposal's
    boundaries on streets)."""
    return await _scope_geometry(conn, "walk_edges", "ST_Collect", scope)


# -- writing an edit -----------------------------------------------------------------------

def multipolygon_wkb(geom: BaseGeometry) -> bytes:
    return shapely.to_wkb(geom, output_dimension=2)


_GEOM = "ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB(%s, 4326)), 3))"


async def grid_ids(conn: AsyncConnection, n: int) -> list[int]:
    """``n`` new grid ids, taken from the grids' sequence before the grids are written (so
    that what an edit made can be checked while it is being written)."""
    if n <= 0:
        return []
    rows = await fetch(conn, "SELECT nextval(pg_get_serial_sequence('grids', 'id')) AS id "
                             "FROM generate_series(1, %s)", (n,))
    return [int(r["id"]) for r in rows]


async def insert_grids(conn: AsyncConnection, layer_id: int, grids: list[Any], ids: list[int]
                       ) -> None:
    """Insert ``grids`` with the ids ``grid_ids`` gave them, in one statement."""
    if not grids:
        return
    await conn.execute(f"""
        INSERT INTO grids (id, layer_id, code, name, kind, dedicated_type, community_code, geom,
                           lineage, locked)
        SELECT n.id, %s, n.code, n.name, n.kind, n.dedicated_type, n.community_code,
               {_GEOM.replace("%s", "n.wkb")},
               ARRAY(SELECT e::int FROM jsonb_array_elements_text(n.lineage) WITH ORDINALITY
                     AS l(e, k) ORDER BY k), n.locked
        FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                    %s::bytea[], %s::jsonb[], %s::bool[])
             AS n(id, code, name, kind, dedicated_type, community_code, wkb, lineage, locked)""",
        (layer_id, ids, [g.code for g in grids], [g.name for g in grids], [g.kind for g in grids],
         [g.dedicated_type for g in grids], [g.community_code for g in grids],
         [multipolygon_wkb(g.geom) for g in grids], [Jsonb(list(g.lineage)) for g in grids],
         [g.locked for g in grids]))


async def update_grid(conn: AsyncConnection, layer_id: int, g: Any) -> None:
    await conn.execute(
        f"UPDATE grids SET code = %s, name = %s, kind = %s, dedicated_type = %s, geom = {_GEOM},"
        " lineage = %s, locked = %s, version = version + 1 WHERE id = %s AND layer_id = %s",
        (g.code, g.name, g.kind, g.dedicated_type, multipolygon_wkb(g.geom), list(g.lineage),
         g.locked, g.key, layer_id))


async def park_codes(conn: AsyncConnection, layer_id: int, keys: list[int]) -> None:
    """Give grids about to be renamed a temporary code first, so codes can swap without
    tripping the (layer, code) uniqueness midway."""
    await conn.execute("UPDATE grids SET code = '~' || id WHERE layer_id = %s AND id = ANY(%s)",
                       (layer_id, keys))


async def delete_grids(conn: AsyncConnection, layer_id: int, keys: list[int]) -> None:
    await conn.execute("DELETE FROM grids WHERE layer_id = %s AND id = ANY(%s)",
                       (layer_id, keys))


async def assign(conn: AsyncConnection, layer_id: int, buildings: Any, grids: Any) -> None:
    """Buildings (ids) assigned to grids (ids; 0 or None: to no grid) in a draft. A draft
    with no assignment yet (a merge's) is filled by a binary COPY: 10⁵ rows in 0.25 s, where
    the upsert takes 0.95 s."""
    ids = np.asarray(buildings, dtype=np.int64)
    to = np.array([0 if g is None else g for g in grids] if not isinstance(grids, np.ndarray)
                  else grids, dtype=np.int64)
    if not len(ids):
        return
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM draft_buildings WHERE layer_id = %s)",
                             (layer_id,))
    if not (await cur.fetchone() or (False,))[0]:
        async with conn.cursor() as copying, copying.copy(
                "COPY draft_buildings (layer_id, building_id, grid_id) FROM STDIN "
                "(FORMAT binary)") as copy:
            await copy.write(_copy_rows(layer_id, ids, to))
        return
    await conn.execute(
        "INSERT INTO draft_buildings (layer_id, building_id, grid_id) "
        "SELECT %s, b, nullif(g, 0) FROM unnest(%s::bigint[], %s::bigint[]) AS n(b, g) "
        "ON CONFLICT (layer_id, building_id) DO UPDATE SET grid_id = EXCLUDED.grid_id",
        (layer_id, ids.tolist(), to.tolist()))


# PostgreSQL's binary COPY: a signature, flags and header extension (both 0), then per row
# the field count and each field as its length (−1: NULL, no data) and its bytes, big-endian;
# −1 as a field count ends it. Rows of (layer, building, grid) and of (layer, building, NULL)
# each have a fixed width, so NumPy writes them: 10⁵ rows as text took 0.06 s of Python.
_COPY_HEAD = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_WITH_GRID = np.dtype([("n", ">i2"), ("l1", ">i4"), ("layer", ">i4"), ("l2", ">i4"),
                       ("building", ">i4"), ("l3", ">i4"), ("grid", ">i4")])
_NO_GRID = np.dtype([("n", ">i2"), ("l1", ">i4"), ("layer", ">i4"), ("l2", ">i4"),
                     ("building", ">i4"), ("l3", ">i4")])


def _copy_rows(layer_id: int, ids: npt.NDArray[np.int64], grids: npt.NDArray[np.int64]) -> bytes:
    """The binary COPY of ``ids`` assigned to ``grids`` (0: NULL) in draft ``layer_id``."""
    parts = [_COPY_HEAD]
    for dtype, rows in ((_WITH_GRID, grids != 0), (_NO_GRID, grids == 0)):
        out = np.zeros(int(rows.sum()), dtype=dtype)
        out["n"], out["l1"], out["layer"], out["l2"], out["l3"] = 3, 4, layer_id, 4, -1
        out["building"] = ids[rows]
        if dtype is _WITH_GRID:
            out["l3"], out["grid"] = 4, grids[rows]
        parts.append(out.tobytes())
    parts.append(b"\xff\xff")
    return b"".join(parts)


async def set_counts(conn: AsyncConnection, layer_id: int, counts: list[tuple[int, int, int]]
                     ) -> None:
    """Households and residents of grids of a draft: (grid id, households, residents)."""
    if counts:
        await conn.execute(
            "UPDATE grids g SET households = n.h, residents = n.r FROM unnest(%s::int[], "
            "%s::int[], %s::int[]) AS n(id, h, r) WHERE g.id = n.id AND g.layer_id = %s",
            ([c[0] for c in counts], [c[1] for c in counts], [c[2] for c in counts], layer_id))


async def recount(conn: AsyncConnection, layer_id: int) -> None:
    """Households and residents of a draft's grids, from its building assignment."""
    # the sums are made once (MATERIALIZED): rows just written have no statistics yet, and
    # the planner would otherwise redo the aggregate for every grid (6 s on a district)
    await conn.execute("""
        WITH s AS MATERIALIZED (
            SELECT d.grid_id, sum(b.households)::int AS households,
                   sum(b.residents)::int AS residents
            FROM draft_buildings d JOIN buildings b ON b.id = d.building_id
            WHERE d.layer_id = %(layer)s GROUP BY d.grid_id)
        UPDATE grids g SET households = coalesce(s.households, 0),
                           residents = coalesce(s.residents, 0)
        FROM grids g2 LEFT JOIN s ON s.grid_id = g2.id
        WHERE g.id = g2.id AND g.layer_id = %(layer)s""", {"layer": layer_id})


async def bump(conn: AsyncConnection, layer_id: int) -> int:
    (row,) = await fetch(conn, "UPDATE grid_layers SET version = version + 1 WHERE id = %s "
                         "RETURNING version", (layer_id,))
    return int(row["version"])


async def grid_versions(conn: AsyncConnection, layer_id: int) -> dict[int, tuple[str, int]]:
    found = await fetch(conn, "SELECT id, code, version FROM grids WHERE layer_id = %s",
                        (layer_id,))
    return {int(r["id"]): (r["code"], int(r["version"])) for r in found}
