"""The vector tile layers: a registry from URL names to fixed SQL templates.

A request names a layer; the name picks one ``TileLayer`` here and nothing from the request
ever becomes SQL text (tile coordinates, theme and generation are bound parameters). Every
layer reads the Web Mercator copies of the geometries (``*_3857``, migration 0005), so a
tile cuts and encodes but never reprojects. Columns are public attributes only: no names or
phones of people, no party status, no home units; resident issues are counted per cell, and
cells with fewer than k issues are left out for roles that need suppression (DESIGN §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TILE_EXTENT = 4096
BUFFER = 64  # pixels of the tile's neighbours kept so lines and fills join across tiles
MAX_ZOOM = 22
WORLD_M = 40075016.68557849  # the Web Mercator world's width in metres


@dataclass(frozen=True)
class TileLayer:
    name: str  # URL segment and MVT layer name
    title: str
    topics: tuple[str, ...]  # change topics (geo.db.changes) that alter its tiles
    source: str  # FROM clause (fixed text)
    geom: str  # the Web Mercator geometry column
    columns: str  # public attributes (fixed text)
    where: str = "TRUE"
    fields: dict[str, str] = field(default_factory=dict)  # TileJSON: name → type
    minzoom: int = 0
    maxzoom: int = MAX_ZOOM
    simplify_below: int = 0  # zooms below this simplify by half a pixel
    low_zoom_where: str = "TRUE"  # extra filter below ``detail_zoom``
    detail_zoom: int = 0
    aggregate: bool = False  # counts per cell instead of features (resident issues)


def _area(level: str, columns: str, fields: dict[str, str], title: str, name: str
          ) -> TileLayer:
    return TileLayer(name, title, ("areas",), "areas a", "a.geom_3857", columns,
                     where=f"a.level = '{level}'", fields=fields, simplify_below=14)


AREA_FIELDS = {"code": "String", "name": "String"}
LAYERS: dict[str, TileLayer] = {layer.name: layer for layer in [
    _area("district", "a.code, a.name", AREA_FIELDS, "区县", "districts"),
    _area("street", "a.code, a.name, a.parent_code", {**AREA_FIELDS, "parent_code": "String"},
          "街道", "streets"),
    _area("community", "a.code, a.name, a.parent_code, a.households, a.residents",
          {**AREA_FIELDS, "parent_code": "String", "households": "Number",
           "residents": "Number"}, "社区", "communities"),
    TileLayer(
        "grids", "网格", ("grids",),
        "grids g JOIN grid_layers l ON l.id = g.layer_id", "g.geom_3857",
        "g.code, g.name, g.kind, g.dedicated_type, g.community_code, g.households, "
        "g.residents, l.theme, l.generation",
        where="l.theme = %(theme)s AND (CASE WHEN %(generation)s::int IS NULL "
              "THEN l.status = 'active' ELSE l.generation = %(generation)s::int END)",
        fields={"code": "String", "name": "String", "kind": "String",
                "dedicated_type": "String", "community_code": "String",
                "households": "Number", "residents": "Number", "theme": "String",
                "generation": "Number"},
        simplify_below=14),
    TileLayer(
        "buildings", "楼栋", ("buildings", "grids", "people"),
        "buildings b LEFT JOIN compounds c ON c.id = b.compound_id "
        "LEFT JOIN grids g ON g.id = b.grid_id", "b.footprint_3857",
        "b.id, b.address, b.name, c.name AS compound, b.households, b.residents, b.floors, "
        "b.community_code, g.code AS grid_code, EXISTS (SELECT 1 FROM role_assignments r "
        "WHERE r.building_id = b.id AND r.role = 'building_head' AND r.published "
        "AND r.valid_from <= current_date AND (r.valid_to IS NULL OR r.valid_to >= current_date)"
        ") AS has_head",
        fields={"id": "Number", "address": "String", "name": "String", "compound": "String",
                "households": "Number", "residents": "Number", "floors": "Number",
                "community_code": "String", "grid_code": "String", "has_head": "Boolean"},
        minzoom=14),
    TileLayer(
        "facilities", "服务设施", ("network",),
        "facilities f JOIN facility_categories fc ON fc.code = f.category", "f.geom_3857",
        "f.id, f.category, fc.name_zh AS category_name, fc.service_group, f.name, f.address, "
        "f.opening_hours, f.phone, f.off_hours_service",
        fields={"id": "Number", "category": "String", "category_name": "String",
                "service_group": "String", "name": "String", "address": "String",
                "opening_hours": "String", "phone": "String", "off_hours_service": "Boolean"},
        minzoom=10),
    TileLayer(
        "walk", "步行网络", ("network",), "walk_edges e", "e.geom_3857",
        "e.id, e.highway, e.name, round(e.length_m::numeric, 1) AS length_m",
        fields={"id": "Number", "highway": "String", "name": "String", "length_m": "Number"},
        minzoom=11, detail_zoom=14,
        low_zoom_where="e.highway IN ('motorway', 'trunk', 'primary', 'secondary', 'tertiary')"),
    TileLayer(
        "issues", "民情（按格计数）", ("issues",), "resident_issues i", "i.geom_3857", "",
        fields={"issues": "Number", "open": "Number"}, minzoom=8, aggregate=True),
]}
