"""The collections we publish through OGC API – Features, described as data.

Each collection is one SQL query (``source``) giving a row per feature: ``id``, the public
properties and ``geom`` (EPSG:4326 = CRS84 axis order). Only public columns appear (DESIGN.md
§6): no people, no phones of people, no home units. Property names double as queryables, so a
filter reaches exactly the columns listed here.

Grid layers are themes in free text (unified, 综治, 城管 …). Each active theme becomes a
collection ``grids-<slug>`` with an ASCII slug; a request's collection id is looked up in the
table built from the database's active layers and the theme travels as a parameter.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection, sql

from geo.db.queries.geojson import rows
from geo.errors import NotFound
from geo.ogc.cql2 import Queryable

# Query parameters of /items that a property of the same name would shadow.
RESERVED = frozenset({"limit", "offset", "bbox", "bbox-crs", "filter", "filter-lang",
                      "filter-crs", "f", "crs", "datetime", "geometry"})


@dataclass(frozen=True)
class Property:
    name: str
    type: str  # JSON Schema type: integer | number | string | boolean
    title: str


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    source: sql.Composable  # id, the properties, geom
    properties: tuple[Property, ...]
    id_type: str = "string"  # "integer" when feature ids are numbers
    geometry_format: str = "geometry-any"  # JSON Schema format of the geometry queryable
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = {p.name for p in self.properties} & RESERVED
        if clash:
            raise ValueError(f"collection {self.id}: property names {sorted(clash)} are reserved")

    def queryables(self) -> dict[str, Queryable]:
        out = {p.name: Queryable(p.name, p.type, p.name, p.title) for p in self.properties}
        out["geometry"] = Queryable("geometry", "geometry", "geom", "几何 geometry")
        return out


def _area_source(level: str, parent: str) -> sql.Composed:
    return sql.SQL(
        "SELECT a.code AS id, a.code, a.name, a.parent_code AS {parent}, a.households, "
        "a.residents, round((ST_Area(a.geom::geography) / 1e6)::numeric, 3)::float AS area_km2, "
        "a.geom FROM areas a WHERE a.level = {level}"
    ).format(parent=sql.Identifier(parent), level=sql.Literal(level))


def _area_properties(parent: str, parent_title: str) -> tuple[Property, ...]:
    return (Property("code", "string", "区划代码 code"), Property("name", "string", "名称 name"),
            Property(parent, "string", parent_title),
            Property("households", "integer", "户数 households"),
            Property("residents", "integer", "人口 residents"),
            Property("area_km2", "number", "面积 km²"))


STREETS = Collection(
    "streets", "街道 streets", "Streets (街道) with their population and area.",
    _area_source("street", "district_code"),
    _area_properties("district_code", "所属区县 district code"),
    geometry_format="geometry-multipolygon")

COMMUNITIES = Collection(
    "communities", "社区 communities", "Communities (社区) with their population and area.",
    _area_source("community", "street_code"),
    _area_properties("street_code", "所属街道 street code"),
    geometry_format="geometry-multipolygon")

BUILDINGS = Collection(
    "buildings", "楼栋 buildings",
    "Buildings: address, compound, households, residents and floors (footprint, else point).",
    sql.SQL(
        "SELECT b.id, b.address, b.name, c.name AS compound, b.households, b.residents, "
        "b.floors::integer AS floors, b.community_code, g.code AS grid_code, "
        "coalesce(b.footprint, b.geom) AS geom FROM buildings b "
        "LEFT JOIN compounds c ON c.id = b.compound_id LEFT JOIN grids g ON g.id = b.grid_id"),
    (Property("address", "string", "地址 address"), Property("name", "string", "名称 name"),
     Property("compound", "string", "小区 compound"),
     Property("households", "integer", "户数 households"),
     Property("residents", "integer", "人口 residents"), Property("floors", "integer", "层数 floors"),
     Property("community_code", "string", "社区代码 community code"),
     Property("grid_code", "string", "网格编码 grid code")),
    id_type="integer")

FACILITIES = Collection(
    "facilities", "服务设施 facilities",
    "Service facilities (党群服务中心, clinics, schools, markets …) with their work phone.",
    sql.SQL(
        "SELECT f.id, f.category, c.name_zh AS category_name, f.name, f.address, "
        "f.opening_hours, f.phone, f.community_code, f.geom FROM facilities f "
        "LEFT JOIN facility_categories c ON c.code = f.category"),
    (Property("category", "string", "类别代码 category"),
     Property("category_name", "string", "类别 category name"),
     Property("name", "string", "名称 name"), Property("address", "string", "地址 address"),
     Property("opening_hours", "string", "开放时间 opening hours"),
     Property("phone", "string", "工作电话 work phone"),
     Property("community_code", "string", "社区代码 community code")),
    id_type="integer", geometry_format="geometry-point")

_GRIDS = sql.SQL(
    "SELECT g.code AS id, g.code, g.name, g.kind, g.dedicated_type, g.community_code, "
    "g.households, g.residents, l.theme, l.generation, g.geom "
    "FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
    "WHERE l.status = 'active' AND l.theme = %(theme)s")

_GRID_PROPERTIES = (
    Property("code", "string", "网格编码 code"), Property("name", "string", "名称 name"),
    Property("kind", "string", "类型 kind (base / dedicated)"),
    Property("dedicated_type", "string", "专属网格类型 dedicated type"),
    Property("community_code", "string", "社区代码 community code"),
    Property("households", "integer", "户数 households"),
    Property("residents", "integer", "人口 residents"),
    Property("theme", "string", "专题 theme"), Property("generation", "integer", "版本 generation"))

# Slugs for the usual themes; others keep an ASCII theme as it is, else a hash of the theme.
KNOWN_THEMES = {"unified": "unified", "综治": "zongzhi", "城管": "chengguan", "应急": "yingji",
                "党建": "dangjian", "消防": "xiaofang", "民政": "minzheng", "环保": "huanbao"}
_SAFE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def theme_ids(themes: Iterable[str]) -> dict[str, str]:
    """Collection id → theme, for the given themes (deterministic, ids unique and URL-safe)."""
    out: dict[str, str] = {}
    for theme in sorted(themes, key=lambda t: (t != "unified", t)):
        slug = KNOWN_THEMES.get(theme) or (theme if _SAFE.fullmatch(theme) else "")
        cid = f"grids-{slug}"
        if not slug or cid in out:
            cid = "grids-" + hashlib.sha1(theme.encode()).hexdigest()[:10]
        out[cid] = theme
    return out


def _grid_collection(cid: str, theme: str, name: str) -> Collection:
    return Collection(
        cid, name, f"Grids (网格) of the active generation of the layer {theme!r}.", _GRIDS,
        _GRID_PROPERTIES, geometry_format="geometry-multipolygon", params={"theme": theme})


async def all_collections(conn: AsyncConnection) -> dict[str, Collection]:
    """Every published collection, in display order, keyed by id."""
    layers = await rows(conn, sql.SQL(
        "SELECT theme, min(name) AS name FROM grid_layers WHERE status = 'active' "
        "GROUP BY theme"))
    names = {r["theme"]: r["name"] for r in layers}
    grids = [_grid_collection(cid, theme, names[theme])
             for cid, theme in theme_ids(names).items()]
    ordered = (STREETS, COMMUNITIES, *grids, BUILDINGS, FACILITIES)
    return {c.id: c for c in ordered}


async def get_collection(conn: AsyncConnection, cid: str) -> Collection:
    found = (await all_collections(conn)).get(cid)
    if found is None:
        raise NotFound(f"collection {cid!r} does not exist (see /ogc/collections)")
    return found


async def extent(conn: AsyncConnection, collection: Collection) -> list[float] | None:
    """[minlon, minlat, maxlon, maxlat] of the collection's data, None when it is empty."""
    q = sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(t.geom) AS e FROM ({src}) t) x"
    ).format(src=collection.source)
    cur = await conn.execute(q, dict(collection.params))
    row = await cur.fetchone()
    if row is None or row[0] is None:
        return None
    minx, miny, maxx, maxy = (float(v) for v in row)
    # Outwards to 7 decimals (1 cm), so the rounded box still holds every feature.
    return [math.floor(minx * 1e7) / 1e7, math.floor(miny * 1e7) / 1e7,
            math.ceil(maxx * 1e7) / 1e7, math.ceil(maxy * 1e7) / 1e7]
