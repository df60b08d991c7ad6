"""Formats written as they are read: GeoJSON and CSV, as an iterator of byte blocks.

- GeoJSON follows RFC 7946: WGS84 longitude/latitude only (options.py refuses other CRSs),
  no ``crs`` member, 7 decimals (about 1 cm), polygons wound counter-clockwise outside.
- CSV is UTF-8 with a byte-order mark, so Excel opens Chinese text correctly. Point layers
  get ``lon``/``lat`` columns (``x``/``y`` in a projected CRS); other layers a ``wkt`` column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import shapely

from geo.export.options import ExportRequest
from geo.export.query import Chunk

DEGREE_DECIMALS = 7  # ~1 cm
METRE_DECIMALS = 3


def _rounded(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def geojson_bytes(req: ExportRequest, chunks: Iterable[Chunk]) -> Iterator[bytes]:
    head = {"type": "FeatureCollection", "name": req.layer.table_name}
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n').encode()
    names = [c.name for c in req.layer.columns]
    first = True
    for chunk in chunks:
        geoms = shapely.orient_polygons(_rounded(chunk.geoms, DEGREE_DECIMALS))
        parts = []
        for i, text in enumerate(shapely.to_geojson(geoms)):
            props = {n: chunk.values[n][i] for n in names}
            parts.append('{"type": "Feature", "id": ' + json.dumps(props[names[0]])
                         + ', "geometry": ' + text + ', "properties": '
                         + json.dumps(props, ensure_ascii=False) + "}")
        if parts:
            yield (("" if first else ",\n") + ",\n".join(parts)).encode()
            first = False
    yield b"\n]}\n"


def _csv_geometry(req: ExportRequest) -> tuple[list[str], Any]:
    """Header names of the geometry columns and a function chunk → their values per row."""
    decimals = DEGREE_DECIMALS if req.geographic else METRE_DECIMALS
    if req.layer.geometry == "point":
        names = ["lon", "lat"] if req.geographic else ["x", "y"]

        def xy(geoms: np.ndarray) -> list[tuple[float, float]]:
            coords = np.round(shapely.get_coordinates(geoms), decimals)
            return [(float(x), float(y)) for x, y in coords]
        return names, xy

    def wkt(geoms: np.ndarray) -> list[tuple[str]]:
        return [(t,) for t in shapely.to_wkt(geoms, rounding_precision=decimals, trim=True)]
    return ["wkt"], wkt


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def csv_bytes(req: ExportRequest, chunks: Iterable[Chunk]) -> Iterator[bytes]:
    names = [c.name for c in req.layer.columns]
    geo_names, geo_values = _csv_geometry(req)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow([*names, *geo_names])
    yield "\ufeff".encode() + buf.getvalue().encode()
    for chunk in chunks:
        buf.seek(0)
        buf.truncate()
        for i, g in enumerate(geo_values(chunk.geoms)):
            out.writerow([*(_cell(chunk.values[n][i]) for n in names), *g])
        yield buf.getvalue().encode()


STREAMERS = {"geojson": geojson_bytes, "csv": csv_bytes}
