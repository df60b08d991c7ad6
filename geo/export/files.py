"""Formats that need a file: GeoPackage, GeoParquet and zipped Shapefile.

Each writer takes the chunks one at a time (an Arrow table per chunk), so memory holds one
chunk however large the layer. GeoPackage and Shapefile are written by GDAL through
``pyogrio.write_arrow`` (appending per chunk); GeoParquet by ``pyarrow.parquet.ParquetWriter``
(one row group per chunk) with the GeoParquet ``geo`` metadata added at the end, when the
bounding box and geometry types of the whole layer are known.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj
import shapely

from geo.export.layers import Layer
from geo.export.notes import crs_note, shapefile_readme
from geo.export.options import ExportRequest
from geo.export.query import Chunk, Survey

ARROW = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
OGR_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
             "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
             "MULTIPOLYGON": "MultiPolygon"}
EMPTY_TYPE = {"point": "Point", "line": "LineString", "polygon": "MultiPolygon",
              "point_or_polygon": "Polygon"}
FAMILY = {"POINT": "point", "MULTIPOINT": "point", "LINESTRING": "line",
          "MULTILINESTRING": "line", "POLYGON": "polygon", "MULTIPOLYGON": "polygon"}
SHP_TYPE = {"point": "Point", "line": "LineString", "polygon": "Polygon"}


def arrow_table(layer: Layer, chunk: Chunk, shapefile: bool = False) -> pa.Table:
    """One chunk as Arrow: typed columns (named for Shapefile when asked), WKB geometry."""
    arrays = [pa.array(chunk.values[c.name], type=ARROW[c.kind]) for c in layer.columns]
    names = [c.shp_name if shapefile else c.name for c in layer.columns]
    wkb = pa.array(shapely.to_wkb(chunk.geoms, output_dimension=2), type=pa.binary())
    return pa.Table.from_arrays([*arrays, wkb], names=[*names, "geometry"])


def layer_type(layer: Layer, survey: Survey) -> str:
    """OGR geometry type of the whole layer: the one type present, else ``Unknown``."""
    if not survey.types:
        return EMPTY_TYPE[layer.geometry]
    return OGR_TYPES.get(survey.types[0], "Unknown") if len(survey.types) == 1 else "Unknown"


class GpkgWriter:
    def __init__(self, path: Path, req: ExportRequest, survey: Survey) -> None:
        self.path, self.req, self.survey = path, req, survey
        self.started = False

    def _options(self) -> dict[str, Any]:
        if self.started:
            return {"append": True}
        note = crs_note(self.req)
        meta = {"GRIDGOV_LAYER": self.req.layer.name, "GRIDGOV_CRS": self.req.crs}
        if note:
            meta["GRIDGOV_CRS_NOTE"] = note
        # GeoPackage 1.2: read by older desktop GIS (GDAL < 3.7 warns about 1.4 files).
        return {"dataset_options": {"VERSION": "1.2"}, "layer_metadata": meta,
                "layer_options": {"IDENTIFIER": self.req.layer.title,
                                  "DESCRIPTION": note or self.req.layer.title}}

    def write(self, chunk: Chunk) -> None:
        pyogrio.write_arrow(arrow_table(self.req.layer, chunk), str(self.path),
                            layer=self.req.layer.table_name, driver="GPKG",
                            geometry_name="geometry",
                            geometry_type=layer_type(self.req.layer, self.survey),
                            crs=self.req.file_crs, **self._options())
        self.started = True

    def close(self) -> None:
        if not self.started:  # an empty layer still gets its table
            self.write(Chunk({c.name: [] for c in self.req.layer.columns}, np.array([])))


class ParquetWriter:
    """GeoParquet 1.1: WKB geometry, ``geo`` metadata (types, CRS) in the schema, known before
    the first row from the survey; one row group per chunk."""

    def __init__(self, path: Path, req: ExportRequest, survey: Survey) -> None:
        self.req = req
        fields = [pa.field(c.name, ARROW[c.kind]) for c in req.layer.columns]
        schema = pa.schema([*fields, pa.field("geometry", pa.binary())],
                           metadata=self.metadata(req, survey))
        self.writer = pq.ParquetWriter(str(path), schema)

    @staticmethod
    def metadata(req: ExportRequest, survey: Survey) -> dict[str, str]:
        column = {"encoding": "WKB",
                  "geometry_types": sorted(OGR_TYPES[t] for t in survey.types if t in OGR_TYPES),
                  "crs": pyproj.CRS.from_user_input(req.file_crs).to_json_dict()}
        geo = {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}
        ours = {"layer": req.layer.name, "crs": req.crs, "crs_note": crs_note(req)}
        return {"geo": json.dumps(geo), "gridgov": json.dumps(ours, ensure_ascii=False)}

    def write(self, chunk: Chunk) -> None:
        self.writer.write_table(arrow_table(self.req.layer, chunk).replace_schema_metadata(
            self.writer.schema.metadata))

    def close(self) -> None:
        self.writer.close()


class ShapefileWriter:
    """Shapefiles in a folder, zipped on close with a README.txt (field names, CRS).

    A Shapefile holds one geometry type: a layer with several (buildings with and without a
    footprint) becomes one Shapefile per kind, ``buildings_polygon`` and ``buildings_point``.
    """

    def __init__(self, path: Path, req: ExportRequest, survey: Survey) -> None:
        self.path, self.req = path, req
        # Removed on close, and by its finaliser if the export fails half-way.
        self.tmp = tempfile.TemporaryDirectory(prefix="gridgov-shp-")
        self.folder = Path(self.tmp.name)
        families = sorted({FAMILY[t] for t in survey.types if t in FAMILY}) or [
            FAMILY[EMPTY_TYPE[req.layer.geometry].upper()]]
        base = req.layer.table_name
        self.names = {f: base if len(families) == 1 else f"{base}_{f}" for f in families}
        self.started: set[str] = set()

    def _write(self, family: str, table: pa.Table) -> None:
        pyogrio.write_arrow(table, str(self.folder / f"{self.names[family]}.shp"),
                            driver="ESRI Shapefile", geometry_name="geometry",
                            geometry_type=SHP_TYPE[family], crs=self.req.file_crs,
                            encoding=self.req.encoding, append=family in self.started)
        self.started.add(family)

    def write(self, chunk: Chunk) -> None:
        table = arrow_table(self.req.layer, chunk, shapefile=True)
        kinds = _families(chunk.geoms)
        for family in self.names:
            rows = np.flatnonzero(kinds == family)
            if len(rows):
                self._write(family, table.take(pa.array(rows)))

    def close(self) -> None:
        empty = Chunk({c.name: [] for c in self.req.layer.columns}, np.array([]))
        for family in self.names:
            if family not in self.started:
                self._write(family, arrow_table(self.req.layer, empty, shapefile=True))
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(self.folder.iterdir()):
                z.write(f, f.name)
            z.writestr("README.txt", shapefile_readme(self.req, list(self.names.values())))
        self.tmp.cleanup()


def _families(geoms: np.ndarray) -> np.ndarray:
    ids = shapely.get_type_id(geoms)
    out = np.full(len(ids), "", dtype=object)
    out[np.isin(ids, (0, 4))] = "point"
    out[np.isin(ids, (1, 5))] = "line"
    out[np.isin(ids, (3, 6))] = "polygon"
    return out


class Writer(Protocol):
    def write(self, chunk: Chunk) -> None: ...
    def close(self) -> None: ...


WRITERS: dict[str, Callable[[Path, ExportRequest, Survey], Writer]] = {
    "gpkg": GpkgWriter, "parquet": ParquetWriter, "shp": ShapefileWriter}
