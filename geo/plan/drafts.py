"""The planner's drafts: open one for a community or street, read its scope, apply an edit,
and the optimistic concurrency that keeps two planners from overwriting each other.

Every edit runs in one transaction that locks the draft row (edits of one draft take turns;
they never interleave), checks the ``If-Match`` versions of the grids the planner edited
(412 when one moved on), applies a pure operation of ``geo.plan.edit`` to the scope read in
bulk, writes what changed, bumps the draft's version, validates, and writes the audit row.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from psycopg import AsyncConnection

from geo.access import in_scope, require
from geo.auth import User
from geo.crs import metric_epsg
from geo.db.audit import record_async
from geo.db.queries import drafts as q
from geo.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed, PreconditionRequired
from geo.plan.edit import EditResult
from geo.plan.metrics import measure
from geo.plan.model import Buildings, PlanFacility, PlanGrid, Rules, Scope
from geo.plan.parallel import both
from geo.plan.validate import validate

Operation = Callable[[Scope, Rules], EditResult]


def actor_of(user: User | None) -> str:
    return user.username if user else "anonymous"


def grid_etag(key: int, version: int) -> str:
    return f'"{key}.{version}"'


def draft_etag(layer: dict[str, Any]) -> str:
    return f'"draft-{layer["id"]}.{layer["version"]}"'


_ETAG = re.compile(r'(?:W/)?"([^"]*)"')


def parse_if_match(header: str | None) -> set[str] | None:
    """The entity tags of an If-Match header (None when absent; ``*`` matches anything)."""
    if header is None or not header.strip():
        return None
    if header.strip() == "*":
        return {"*"}
    return {f'"{tag}"' for tag in _ETAG.findall(header)}


def check_grids(if_match: set[str] | None, current: dict[int, tuple[str, int]],
                keys: list[int], draft_id: int) -> None:
    """Every grid the planner edits must be named in If-Match at its current version. A grid
    gone since the planner read it (split or merged by someone else) is stale, not unknown."""
    for key in keys:
        if key not in current:
            if if_match and any(t.startswith(f'"{key}.') for t in if_match):
                raise PreconditionFailed(f"grid {key} no longer exists in draft {draft_id} "
                                         "(split or merged since you read it): reload the draft")
            raise NotFound(f"grid {key} is not in draft {draft_id}")
    if if_match is None:
        raise PreconditionRequired(
            "If-Match: required for edits (the ETag of each grid you edit, as GET returned "
            "it), so that an edit made from a stale copy cannot overwrite a newer one")
    if "*" in if_match:
        return
    for key in keys:
        code, version = current[key]
        if grid_etag(key, version) not in if_match:
            raise PreconditionFailed(
                f"grid {code} changed since you read it (now version {version}, ETag "
                f"{grid_etag(key, version)}): reload it and edit again")


def check_draft(if_match: set[str] | None, layer: dict[str, Any]) -> None:
    if if_match is None:
        raise PreconditionRequired("If-Match: required (the draft's ETag), so that you "
                                   "activate exactly the draft you validated")
    if "*" not in if_match and draft_etag(layer) not in if_match:
        raise PreconditionFailed(f"draft {layer['id']} changed since you read it (now "
                                 f"{draft_etag(layer)}): reload and validate it again")


# -- reading ---------------------------------------------------------------------------------

async def draft_for(conn: AsyncConnection, user: User | None, draft_id: int, write: bool,
                    lock: bool = False) -> dict[str, Any]:
    require(user, "plans", "write" if write else "read")
    layer = await q.layer(conn, draft_id, lock=lock)
    if layer["status"] != "draft" or layer["draft_scope"] is None:
        raise NotFound(f"draft {draft_id} does not exist (layer {draft_id} is "
                       f"{layer['status']}, not a planner's draft)")
    if not in_scope(user, layer["draft_scope"]):
        raise NotFound(f"draft {draft_id} does not exist")
    return layer


def _geom(wkb: bytes | None) -> Any:
    return None if wkb is None else shapely.from_wkb(wkb)


async def load_scope(conn: AsyncConnection, layer: dict[str, Any]) -> Scope:
    scope_code, layer_id = layer["draft_scope"], layer["id"]
    communities = {r["code"]: _geom(r["wkb"]) for r in await q.communities(conn, scope_code)}
    grids = [PlanGrid(r["id"], r["code"], r["name"], r["kind"], r["dedicated_type"],
                      r["community_code"], _geom(r["wkb"]), tuple(r["lineage"] or ()),
                      r["version"], r["locked"])
             for r in await q.draft_grids(conn, layer_id)]
    rows = await q.scope_buildings(conn, layer_id, scope_code)
    points = shapely.points(rows["x"], rows["y"])
    points[np.isnan(rows["x"])] = shapely.Point()  # an empty point stays empty
    buildings = Buildings(rows["id"], points, rows["households"], rows["grid_id"],
                          rows["has_head"], rows["community_code"], rows["residents"])
    facilities = [PlanFacility(r["id"], r["category"], _geom(r["wkb"]))
                  for r in await q.scope_facilities(conn, scope_code)]
    gaps = _geom(await q.allowed_gaps(conn, scope_code))
    if communities:
        lon = shapely.union_all(list(communities.values())).centroid.x
    else:
        raise NotFound(f"area {scope_code} has no communities")
    return Scope(scope_code, metric_epsg(lon), communities, grids, buildings, facilities, gaps)


async def network_of(conn: AsyncConnection, user: User | None, draft_id: int) -> Any:
    """The walk network of a draft's scope (lon/lat MultiLineString), or None."""
    layer = await draft_for(conn, user, draft_id, write=False)
    return _geom(await q.scope_network(conn, layer["draft_scope"]))


@dataclass
class Checked:
    issues: list[dict[str, Any]]
    errors: int
    warnings: int
    grids: list[dict[str, Any]]
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"errors": self.errors, "warnings": self.warnings,
                "problems": {"type": "FeatureCollection", "features": self.issues},
                "metrics": {"draft": self.summary, "grids": self.grids}}


def check(scope: Scope, rules: Rules) -> Checked:
    """Validation problems and live metrics of a scope."""
    # both are mostly GEOS work (the triangulation of 10⁵ buildings, point-in-grid queries),
    # which runs outside the GIL: side by side
    issues, (per_grid, summary) = both(lambda: validate(scope, rules),
                                       lambda: measure(scope, rules))
    errors = sum(1 for i in issues if i.severity == "error")
    return Checked([i.feature() for i in issues], errors, len(issues) - errors,
                   [m.as_dict() for m in per_grid], summary.as_dict())


# -- opening ---------------------------------------------------------------------------------

async def open_draft(conn: AsyncConnection, user: User | None, client: str | None, theme: str,
                     scope_code: str, note: str | None, copy_from: int | None = None,
                     action: str = "open_draft", assign: bool = True) -> int:
    """A draft of ``theme``'s active generation for one community or street: a copy of its
    grids there (or of layer ``copy_from``'s, an earlier generation), and every building of
    the scope assigned to the grid covering it (unless ``assign`` is false: a merge replaces
    every base grid and assigns every building itself, at once)."""
    require(user, "plans", "write")
    if len(scope_code) not in (6, 9, 12):
        raise InvalidInput(f"scope: {scope_code!r} must be a street (9 digits) or a community "
                           "(12 digits) code")
    if not in_scope(user, scope_code):
        raise Forbidden(f"scope: {scope_code} is outside your area")
    base = await q.active_layer(conn, theme, scope_code)
    if base is None:
        raise NotFound(f"there is no active {theme} layer over {scope_code}")
    async with conn.transaction():
        draft_id = await q.create_draft(conn, base, scope_code, actor_of(user), note)
        source = copy_from or base["id"]
        copied = await q.copy_grids(conn, source, draft_id, scope_code, inside=True)
        if assign:
            await _assign_all(conn, draft_id, scope_code)
        await record_async(conn, actor_of(user), action, "grid_layer", str(draft_id),
                           {"theme": theme, "scope": scope_code, "base": base["id"],
                            "copied_from": source, "grids": len(copied)}, client)
    return draft_id


async def _assign_all(conn: AsyncConnection, draft_id: int, scope_code: str) -> None:
    """Every building of the scope to the draft's grid covering it (the smallest code on an
    edge), and the grids' counts from them."""
    # driven from the grids (each grid's outline prepared once for the buildings its
    # index finds), not from every building against the grids: 20× faster on a district
    await conn.execute("""
        INSERT INTO draft_buildings (layer_id, building_id, grid_id)
        SELECT %(layer)s, b.id, c.grid_id
        FROM buildings b LEFT JOIN (
            SELECT DISTINCT ON (m.id) m.id, g.id AS grid_id
            FROM grids g JOIN buildings m ON ST_Covers(g.geom, m.geom)
            WHERE g.layer_id = %(layer)s ORDER BY m.id, g.code) c ON c.id = b.id
        WHERE starts_with(coalesce(b.community_code, ''), %(scope)s)""",
        {"layer": draft_id, "scope": scope_code})
    await q.recount(conn, draft_id)


# -- editing ---------------------------------------------------------------------------------

async def _new_ids(conn: AsyncConnection, result: EditResult) -> dict[int, int]:
    """The ids the new grids of an edit will have (negative key → id)."""
    created = sorted(result.created, reverse=True)
    return dict(zip(created, await q.grid_ids(conn, len(created)), strict=True))


async def _write(conn: AsyncConnection, layer_id: int, scope: Scope, result: EditResult,
                 ids: dict[int, int], saved: Scope) -> None:
    """Write an edit, its new grids with the ids ``_new_ids`` gave them (``saved``: the scope
    after it, ``_as_saved``)."""
    before = {g.key: g for g in scope.grids}
    await q.delete_grids(conn, layer_id, sorted(result.removed))
    after = {g.key: g for g in result.grids}
    recoded = [k for k in result.changed if k in before and after[k].code != before[k].code]
    await q.park_codes(conn, layer_id, recoded)
    for key in sorted(result.changed):
        await q.update_grid(conn, layer_id, after[key])
    created = sorted(ids)
    await q.insert_grids(conn, layer_id, [after[k] for k in created], [ids[k] for k in created])
    # a building whose grid is new has a new id: it differs from every grid it had before
    grid = saved.buildings.grid
    changed = np.flatnonzero(grid != scope.buildings.grid)
    await q.assign(conn, layer_id, scope.buildings.ids[changed], grid[changed])  # NONE: none
    await q.set_counts(conn, layer_id, _counts(saved))


def _counts(saved: Scope) -> list[tuple[int, int, int]]:
    """(grid id, households, residents) of every grid of a draft after an edit: the sums of
    its buildings (what summing the stored assignment gives, without the database joining
    10⁵ rows to buildings to do it)."""
    keys, at = np.unique(saved.buildings.grid, return_inverse=True)
    households = np.bincount(at.ravel(), weights=saved.buildings.households, minlength=len(keys))
    residents = np.bincount(at.ravel(), weights=saved.buildings.residents, minlength=len(keys))
    sums = dict(zip(keys.tolist(), zip(np.rint(households).astype(int).tolist(),
                                       np.rint(residents).astype(int).tolist(), strict=True),
                    strict=True))
    return [(g.key, *sums.get(g.key, (0, 0))) for g in saved.grids]


def _as_saved(scope: Scope, result: EditResult, ids: dict[int, int]) -> Scope:
    """The scope after an edit, with the ids the new grids were given: what the draft now
    holds, validated without reading it back."""
    grids = [replace(g, key=ids.get(g.key, g.key)) for g in result.grids]
    keys = _saved(scope.buildings.assigned(result.assignment), ids)
    return replace(scope, grids=grids, buildings=scope.buildings.with_grids(keys))


def _saved(keys: Any, ids: dict[int, int]) -> Any:
    """Grid keys with the new grids' keys replaced by the ids they were saved with."""
    if not ids:
        return keys
    old = np.array(sorted(ids), dtype=np.int64)
    new = np.array([ids[k] for k in old.tolist()], dtype=np.int64)
    at = np.minimum(np.searchsorted(old, keys), len(old) - 1)
    return np.where(old[at] == keys, new[at], keys)


async def edit(conn: AsyncConnection, user: User | None, client: str | None, draft_id: int,
               if_match: set[str] | None, targets: list[int], action: str,
               detail: dict[str, Any], operation: Operation, rules: Rules) -> dict[str, Any]:
    """Apply one edit to a draft: the grids ``targets`` must match ``if_match``."""
    async with conn.transaction():
        layer = await draft_for(conn, user, draft_id, write=True, lock=True)
        current = await q.grid_versions(conn, draft_id)
        check_grids(if_match, current, targets, draft_id)
        scope = await load_scope(conn, layer)
        # the operation and the check are CPU work (an auto-proposal, a merge: seconds):
        # off the event loop, so that other requests are served meanwhile
        result = await asyncio.to_thread(operation, scope, rules)
        ids = await _new_ids(conn, result)
        # the check needs only what the edit made: it runs while the edit is written
        saved = _as_saved(scope, result, ids)
        checking = asyncio.ensure_future(asyncio.to_thread(check, saved, rules))
        try:
            await _write(conn, draft_id, scope, result, ids, saved)
            version = await q.bump(conn, draft_id)
            await record_async(conn, actor_of(user), action, "grid_layer", str(draft_id),
                               {**detail, "changed": sorted(result.changed),
                                "created": sorted(ids.values()),
                                "removed": sorted(result.removed)}, client)
        except BaseException:
            await asyncio.gather(checking, return_exceptions=True)
            raise
    versions = await q.grid_versions(conn, draft_id)
    checked = await checking
    touched = sorted({*result.changed, *ids.values()})
    return {"draft": draft_id, "version": version,
            "etag": draft_etag({**layer, "version": version}),
            "changed": [_grid_ref(k, versions) for k in touched if k in versions],
            "removed": sorted(result.removed), **checked.as_dict()}


def _grid_ref(key: int, versions: dict[int, tuple[str, int]]) -> dict[str, Any]:
    code, version = versions[key]
    return {"id": key, "code": code, "version": version, "etag": grid_etag(key, version)}
