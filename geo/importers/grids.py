"""Import grids (网格) into a layer: a theme (``unified`` = 综合网格, 党建, 综治, 城管 …) over a
scope area.

Generations: every import creates the next generation of the theme over the scope as a
``draft``; validation gates activation (DESIGN §4), and that is the planner's step, not the
importer's. Only ``activate=True`` on an empty slot makes the new generation ``active`` at
once: when no active layer of the theme has a nested scope (the new scope a prefix of its
scope, or the other way round), so there is nothing yet to validate against. Otherwise the
import is refused and writes nothing.

Each grid lies in one community: from a 社区编码 column, else the first 12 digits of a
15-digit grid code. The community must exist and lie within the scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from geo.db.bulk import copy_rows, ewkb_hex
from geo.db.refresh import refresh_active_grids
from geo.errors import InvalidInput
from geo.importers import columns as cols
from geo.importers.common import Loaded, duplicates, load
from geo.importers.geometry import POLYGONAL, as_multipolygon
from geo.importers.result import ImportResult, Problems
from geo.importers.store import (
    Communities,
    area_levels,
    audit_import,
    database_errors,
    fetch_pairs,
)
from geo.importers.values import Row, choice, count

KINDS = {"base": "base", "基础": "base", "基础网格": "base", "一般网格": "base",
         "dedicated": "dedicated", "专属": "dedicated", "专属网格": "dedicated"}
DEDICATED_TYPES = {
    "school": "school", "学校": "school", "hospital": "hospital", "医院": "hospital",
    "market": "market", "市场": "market", "农贸市场": "market", "enterprise": "enterprise",
    "企业": "enterprise", "business_district": "business_district", "商圈": "business_district",
    "商务楼宇": "business_district", "industrial_park": "industrial_park",
    "园区": "industrial_park", "产业园区": "industrial_park", "other": "other", "其他": "other",
}
THEME_ALIASES = {"综合": "unified", "综合网格": "unified", "多网合一": "unified"}
GRID_CODE = re.compile(r"[0-9A-Za-z\-_]{1,20}")


@dataclass
class GridRow:
    at: int
    code: str
    name: str
    kind: str
    dedicated_type: str | None
    community: str
    households: int | None
    residents: int | None


def _community(row: Row, code: str, communities: Communities, scope: str) -> str | None:
    given = row.get("community")
    if given is None and len(code) == 15 and code.isdigit():
        given = code[:12]
    if given is None:
        row.problems.error(row.at, "no community: add a 社区编码 column or use 15-digit codes")
        return None
    community, why = communities.resolve(given)
    if community is None:
        row.problems.error(row.at, str(why))
    elif not community.startswith(scope):
        row.problems.error(row.at, f"community {community} is outside the scope {scope}")
    elif len(code) == 15 and code.isdigit() and code[:12] != community:
        row.problems.warn(row.at, f"grid code {code} does not start with its community "
                          f"code {community}")
    return community


def _check_row(row: Row, communities: Communities, scope: str) -> GridRow | None:
    code, name = row.required("code"), row.required("name")
    kind = row.get("kind", choice, KINDS)
    dedicated = row.get("dedicated_type", choice, DEDICATED_TYPES)
    households, residents = row.get("households", count), row.get("residents", count)
    if code is not None and not GRID_CODE.fullmatch(code):
        row.problems.error(row.at, f"grid code {code!r} is not 1–20 letters/digits")
        return None
    community = _community(row, code, communities, scope) if code else None
    if code is None or name is None or community is None:
        return None
    kind = kind or ("dedicated" if dedicated else "base")
    if kind == "dedicated" and dedicated is None:
        row.problems.warn(row.at, "dedicated grid without a type: recorded as 'other'")
        dedicated = "other"
    if kind == "base" and dedicated is not None:
        row.problems.error(row.at, "a base grid has a dedicated type; set kind to 专属网格")
    return GridRow(row.at, code, name, kind, dedicated if kind == "dedicated" else None,
                   community, households, residents)


def _check(loaded: Loaded, conn: psycopg.Connection, scope: str,
           progress: bool) -> list[GridRow]:
    communities = Communities(conn)
    seen: dict[object, int] = {}
    checked: list[GridRow] = []
    for row in loaded.rows(progress):
        grid = _check_row(row, communities, scope)
        if grid is not None:
            duplicates(loaded.problems, row.at, grid.code, seen, f"grid code {grid.code}")
            checked.append(grid)
    return checked


_NESTED_ACTIVE = """
SELECT theme, scope_code, generation FROM grid_layers
WHERE theme = %s AND status = 'active'
  AND (left(%s, length(scope_code)) = scope_code OR left(scope_code, length(%s)) = %s)
ORDER BY length(scope_code), scope_code LIMIT 1
"""


def _lock_theme(conn: psycopg.Connection, theme: str) -> None:
    """Serialise layer creation per theme until commit, so the check for an active nested
    layer and the insert cannot interleave with another import's."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"grid_layers {theme}",))


def refuse_nested_active(conn: psycopg.Connection, theme: str, scope: str) -> None:
    """Raise InvalidInput when an active ``theme`` layer's scope nests with ``scope``."""
    found = fetch_pairs(conn, _NESTED_ACTIVE, (theme, scope, scope, scope))
    if found:
        (t, s, g), = found
        raise InvalidInput(
            f"cannot activate the new {t} layer over {scope}: the {t} layer over {s} "
            f"(generation {g}) is active and its scope overlaps. Import it as a draft (without "
            "activate); activation of a new generation comes with the planner's validation.")


def create_layer(conn: psycopg.Connection, theme: str, scope: str, name: str | None,
                 status: str) -> tuple[int, int]:
    """The next generation of ``theme`` over ``scope`` with ``status``: (id, generation)."""
    ((latest,),) = fetch_pairs(conn, "SELECT max(generation) FROM grid_layers "
                               "WHERE theme = %s AND scope_code = %s", (theme, scope))
    generation = (latest or 0) + 1
    ((layer_id,),) = fetch_pairs(
        conn, "INSERT INTO grid_layers (theme, name, scope_code, generation, status, valid_from)"
        " VALUES (%s, %s, %s, %s, %s, CASE WHEN %s = 'active' THEN now() END) RETURNING id",
        (theme, name or f"{theme} {scope}", scope, generation, status, status))
    return layer_id, generation


def _write(conn: psycopg.Connection, loaded: Loaded, grids: list[GridRow], layer_id: int) -> int:
    assert loaded.geoms is not None
    geoms = ewkb_hex([as_multipolygon(loaded.geoms[g.at]) for g in grids])
    columns = ("layer_id", "code", "name", "kind", "dedicated_type", "community_code", "geom",
               "households", "residents")
    rows = ((layer_id, g.code, g.name, g.kind, g.dedicated_type, g.community, geom,
             g.households, g.residents) for g, geom in zip(grids, geoms, strict=True))
    return copy_rows(conn, "grids", columns, rows)


_OUTSIDE = """
SELECT g.code, round((100 * ST_Area(ST_Difference(g.geom, a.geom)::geography)
                      / nullif(ST_Area(g.geom::geography), 0))::numeric, 1)
FROM grids g JOIN areas a ON a.code = g.community_code
WHERE g.layer_id = %s AND NOT ST_Covers(a.geom, g.geom)
  AND ST_Area(ST_Difference(g.geom, a.geom)::geography)
      > greatest(1.0, 0.001 * ST_Area(g.geom::geography))
"""


def _warn_outside(conn: psycopg.Connection, loaded: Loaded, grids: list[GridRow],
                  layer_id: int) -> None:
    """A grid should lie in its community; slivers (≤ 1 m² or 0.1 %) from digitising pass."""
    at = {g.code: g.at for g in grids}
    for code, share in fetch_pairs(conn, _OUTSIDE, (layer_id,)):
        loaded.problems.warn(at[code], f"grid {code} reaches {share}% of its area outside "
                             "its community")


def _check_scope(conn: psycopg.Connection, theme: str, scope: str, problems: Problems) -> bool:
    """Whether theme and scope are usable; errors are recorded."""
    ok = True
    if not theme or len(theme) > 40:
        problems.error("layer", f"layer theme {theme!r} must be 1–40 characters")
        ok = False
    if scope not in area_levels(conn):
        problems.error("scope", f"scope area {scope!r} is not in the database")
        ok = False
    return ok


def import_grids(conn: psycopg.Connection, path: str | Path, *, layer: str, scope: str,
                 crs: str = "wgs84", layer_name: str | None = None, activate: bool = False,
                 encoding: str | None = None, sheet: str | int | None = None,
                 progress: bool = False, actor: str = "system") -> ImportResult:
    """Import grid polygons as a new generation of the layer ``layer`` (its theme) over
    ``scope`` (an area code): a draft, or active with ``activate`` when no active layer of
    the theme nests with the scope (else InvalidInput, nothing written). Details give
    ``layer_id``, ``generation`` and ``status``. Audited as ``import.grids`` of the layer."""
    theme = THEME_ALIASES.get(layer.strip(), layer.strip())
    loaded = load(path, cols.GRID, ("code", "name"), crs=crs, allowed=POLYGONAL,
                  encoding=encoding, sheet=sheet)
    status = "active" if activate else "draft"
    with conn.transaction():
        usable = _check_scope(conn, theme, scope, loaded.problems)
        _lock_theme(conn, theme)
        if activate and usable:
            refuse_nested_active(conn, theme, scope)
        grids = _check(loaded, conn, scope, progress)
        loaded.problems.check()
        with database_errors(loaded.problems.source):
            layer_id, generation = create_layer(conn, theme, scope, layer_name, status)
            n = _write(conn, loaded, grids, layer_id)
            _warn_outside(conn, loaded, grids, layer_id)
            if status == "active" and theme == "unified":
                refresh_active_grids(conn)
            audit_import(conn, actor, "grids", path, count=n, crs=loaded.crs,
                         repaired=loaded.problems.repaired_count, codes=[g.code for g in grids],
                         object_id=str(layer_id), layer_id=layer_id, theme=theme, scope=scope,
                         generation=generation, status=status)
    return loaded.problems.result("grids", n, layer_id=layer_id, theme=theme,
                                  generation=generation, status=status)
