"""The exportable layers, described as data: public columns only, with their SQL.

Every column that can leave in an export is listed here, and nothing else: no people, no
names or phones of people, no party status, no home units (DESIGN §6). The columns are the
ones the public API already shows (``/api/v1/areas``, ``/grids``, ``/buildings``,
``/facilities``, ``/walk-network``). SQL fragments here are constants, never request text.

Each column also has its Shapefile field name: DBF field names hold at most 10 characters,
so longer names get a fixed, documented short name (``community_code`` → ``comm_code``)
rather than GDAL's automatic truncation.
"""

from __future__ import annotations

from dataclasses import dataclass

SHP_NAME_MAX = 10


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    kind: str  # "text" | "int" | "float" | "bool"
    shp: str = ""  # Shapefile field name when ``name`` is longer than 10 characters

    @property
    def shp_name(self) -> str:
        return self.shp or self.name


@dataclass(frozen=True)
class Layer:
    name: str  # URL segment and CLI argument
    title: str
    table: str  # FROM … (with joins); the exported row is ``t``
    columns: tuple[Column, ...]
    geom: str  # geometry expression, EPSG:4326
    geometry: str  # "point" | "line" | "polygon" | "point_or_polygon"
    # ``within=`` matches this column by area-code prefix; without one (and for thematic
    # grids, which need not follow community lines) rows meeting the area's polygon.
    within_code: str | None = None
    where: str = "TRUE"
    order: str = "t.id"
    grids: bool = False  # takes theme= and generation=

    @property
    def table_name(self) -> str:
        """Layer name inside files (GeoPackage table, Shapefile, GeoParquet): an SQL-friendly
        identifier, ``walk_edges`` for ``walk-edges``."""
        return self.name.replace("-", "_")


def _area_columns() -> tuple[Column, ...]:
    return (
        Column("code", "t.code", "text"),
        Column("name", "t.name", "text"),
        Column("parent_code", "t.parent_code", "text", shp="parent"),
        Column("households", "t.households", "int"),
        Column("residents", "t.residents", "int"),
        Column("area_km2", "round((ST_Area(t.geom::geography) / 1e6)::numeric, 3)", "float"),
    )


STREETS = Layer("streets", "街道", "areas t", _area_columns(), "t.geom", "polygon",
                within_code="t.code", where="t.level = 'street'", order="t.code")
COMMUNITIES = Layer("communities", "社区", "areas t", _area_columns(), "t.geom", "polygon",
                    within_code="t.code", where="t.level = 'community'", order="t.code")

GRIDS = Layer(
    "grids", "网格", "grids t JOIN grid_layers l ON l.id = t.layer_id", (
        Column("code", "t.code", "text"),
        Column("name", "t.name", "text"),
        Column("kind", "t.kind", "text"),
        Column("dedicated_type", "t.dedicated_type", "text", shp="ded_type"),
        Column("community_code", "t.community_code", "text", shp="comm_code"),
        Column("households", "t.households", "int"),
        Column("residents", "t.residents", "int"),
        Column("theme", "l.theme", "text"),
        Column("generation", "l.generation", "int"),
        Column("version", "t.version", "int"),
    ), "t.geom", "polygon", within_code="t.community_code", order="t.code", grids=True)

BUILDINGS = Layer(
    "buildings", "楼栋",
    "buildings t LEFT JOIN grids g ON g.id = t.grid_id "
    "LEFT JOIN compounds c ON c.id = t.compound_id", (
        Column("id", "t.id", "int"),
        Column("address", "t.address", "text"),
        Column("name", "t.name", "text"),
        Column("compound", "c.name", "text"),
        Column("households", "t.households", "int"),
        Column("residents", "t.residents", "int"),
        Column("floors", "t.floors", "int"),
        Column("community_code", "t.community_code", "text", shp="comm_code"),
        Column("grid_code", "g.code", "text"),
    ), "coalesce(t.footprint, t.geom)", "point_or_polygon", within_code="t.community_code")

FACILITIES = Layer(
    "facilities", "设施", "facilities t JOIN facility_categories fc ON fc.code = t.category", (
        Column("id", "t.id", "int"),
        Column("category", "t.category", "text"),
        Column("category_name", "fc.name_zh", "text", shp="cat_name"),
        Column("service_group", "fc.service_group", "text", shp="svc_group"),
        Column("name", "t.name", "text"),
        Column("address", "t.address", "text"),
        Column("phone", "t.phone", "text"),
        Column("opening_hours", "t.opening_hours", "text", shp="open_hours"),
        Column("off_hours_service", "t.off_hours_service", "bool", shp="off_hours"),
        Column("floor_area_m2", "t.floor_area_m2", "float", shp="floor_m2"),
        Column("community_code", "t.community_code", "text", shp="comm_code"),
    ), "t.geom", "point", within_code="t.community_code")

WALK_EDGES = Layer(
    "walk-edges", "步行路网", "walk_edges t", (
        Column("id", "t.id", "int"),
        Column("source", "t.source", "int"),
        Column("target", "t.target", "int"),
        Column("highway", "t.highway", "text"),
        Column("name", "t.name", "text"),
        Column("length_m", "round(t.length_m::numeric, 1)", "float"),
    ), "t.geom", "line")

LAYERS: dict[str, Layer] = {lyr.name: lyr for lyr in
                            (STREETS, COMMUNITIES, GRIDS, BUILDINGS, FACILITIES, WALK_EDGES)}


def shapefile_fields(layer: Layer) -> list[tuple[str, str]]:
    """(column, Shapefile field) pairs, in column order."""
    return [(c.name, c.shp_name) for c in layer.columns]
