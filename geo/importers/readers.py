"""Read any supported file into attribute cells plus geometries, before any checking.

Formats: GeoJSON, GeoPackage, Shapefile (also zipped) through GDAL (pyogrio); GeoParquet
through pyarrow; CSV and XLSX with longitude/latitude columns or a WKT column. Features are
named ``feature N`` (1-based, file order). Geometries are decoded from WKB one by one so an
unclosed ring that GDAL accepts is closed and reported instead of failing the whole file.

Shapefile text: GDAL honours a ``.cpg`` file and the ``.dbf`` language-driver byte. When both
are absent and the text is not UTF-8 we read it as GB18030 (covers GBK), and say so;
``encoding=`` overrides everything.
"""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geo.errors import InvalidInput, TooLarge
from geo.importers import tables
from geo.importers.result import Problems

VECTOR = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb"}
PARQUET = {".parquet", ".geoparquet"}
TABULAR = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
_PYOGRIO_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                   pyogrio.errors.FieldError, pyogrio.errors.FeatureError,
                   pyogrio.errors.GeometryError, pyogrio.errors.CRSError)


@dataclass
class Source:
    """A file's cells (original headers, object values) and its geometries as read."""

    name: str
    frame: pd.DataFrame
    geoms: np.ndarray | None  # shapely geometries or None per row; None: no geometry at all
    declared_crs: pyproj.CRS | None = None
    tabular: bool = False
    encoding: str | None = None


def read_source(path: str | Path, problems: Problems, *, encoding: str | None = None,
                sheet: str | int | None = None) -> Source:
    """Read ``path``; ``sheet`` picks an XLSX sheet or a GeoPackage layer."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"{p}: no such file")
    _check_size(p)
    suffix = p.suffix.lower()
    problems.source = p.name
    if suffix in TABULAR:
        return _read_tabular(p, problems, encoding, sheet)
    if suffix in PARQUET:
        return _read_parquet(p, problems)
    if suffix in VECTOR:
        return _read_vector(p, problems, encoding, sheet)
    raise InvalidInput(f"{p.name}: unsupported file type {suffix or '(none)'}; use GeoJSON, "
                       "GeoPackage, Shapefile, GeoParquet, CSV or XLSX (save .xls as .xlsx)")


def _read_tabular(p: Path, problems: Problems, encoding: str | None,
                  sheet: str | int | None) -> Source:
    if p.suffix.lower() in {".xlsx", ".xlsm"}:
        grid, name = tables.read_xlsx(p, sheet)
        problems.source = name
    else:
        grid, name = tables.read_csv(p, encoding), p.name
    problems.labels = grid.labels
    frame = tables.to_frame(grid, problems)
    geoms = tables.coordinate_geometries(frame, problems)
    return Source(name, frame, geoms, None, tabular=True, encoding=grid.encoding)


def shapefile_encoding(p: Path, problems: Problems) -> str | None:
    """GB18030 for a ``.shp`` whose ``.dbf`` declares nothing and is not UTF-8."""
    if p.suffix.lower() != ".shp":
        return None
    if any(p.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next((d for d in (p.with_suffix(".dbf"), p.with_suffix(".DBF")) if d.exists()), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    if len(raw) < 32 or raw[29] != 0:
        return None  # the language-driver byte names a code page; GDAL uses it
    header_len = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[i:i + 11] for i in range(32, header_len - 1, 32))
    content = names + raw[header_len:]
    if content.isascii():
        return None
    try:
        content.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        problems.warn("file", "no .cpg file and the .dbf text is not UTF-8: read as GBK "
                      "(GB18030); pass an encoding to override")
        return "GB18030"


def _read_vector(p: Path, problems: Problems, encoding: str | None,
                 layer: str | int | None) -> Source:
    enc = encoding or shapefile_encoding(p, problems)
    layer_arg = _layer(p, layer, problems)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's note on unclosed rings
        try:
            meta, _, wkb, fields = pyogrio.raw.read(p, layer=layer_arg, encoding=enc)
        except _PYOGRIO_ERRORS as exc:
            raise InvalidInput(f"{p.name}: cannot be read: {exc}") from None
    n = len(fields[0]) if len(fields) else (0 if wkb is None else len(wkb))
    problems.labels = [f"feature {i + 1}" for i in range(n)]
    frame = pd.DataFrame({str(n): np.asarray(col, dtype=object)
                          for n, col in zip(meta["fields"], fields, strict=True)})
    if frame.shape[1] == 0:
        frame = pd.DataFrame(index=range(n))
    geoms = None if wkb is None else decode_wkb(list(wkb), problems)
    crs = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    if p.suffix.lower() in (".geojson", ".json"):
        declared = _declared_crs(p)
        if declared is not None and not _known_crs(declared):  # GDAL falls back to WGS84
            raise InvalidInput(f"{p.name}: declares the CRS {declared!r}, which PROJ does not "
                               "know; give coordinates in a known CRS or pass crs=EPSG:n")
    return Source(p.name, frame, geoms, crs, encoding=enc or meta.get("encoding"))


# the old named-CRS member, {"type": "name", "properties": {"name": "…"}}: matched inside its
# own braces only (a feature's "name" further on is not a CRS)
_CRS_MEMBER = re.compile(r'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]+)"')


def _declared_crs(p: Path) -> str | None:
    """The CRS name a GeoJSON file declares (the old ``crs`` member), if any."""
    with p.open("rb") as f:
        head = f.read(65536).decode("utf-8", errors="replace")
    found = _CRS_MEMBER.search(head)
    return found[1] if found else None


def _known_crs(name: str) -> bool:
    try:
        pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError:
        return False
    return True


def _check_size(p: Path) -> None:
    """Files over ``GRIDGOV_IMPORT_MAX_MB`` (a shapefile with its .dbf) are refused before
    anything is read: an import holds its file in memory."""
    from geo.settings import get_settings

    limit = get_settings().import_max_mb
    size = p.stat().st_size + sum(p.with_suffix(s).stat().st_size for s in (".dbf", ".DBF")
                                  if p.suffix.lower() == ".shp" and p.with_suffix(s).exists())
    if p.suffix.lower() in (".zip", ".xlsx", ".xlsm") and zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as z:  # what it unpacks to: a small zip can hold a lot
            size = max(size, sum(i.file_size for i in z.infolist()))
    if size > limit * 1024 * 1024:
        raise TooLarge(f"{p.name}: {size / 1024 / 1024:.1f} MB is over the import limit of "
                       f"{limit} MB (GRIDGOV_IMPORT_MAX_MB)")


def _layer(p: Path, layer: str | int | None, problems: Problems) -> str | int | None:
    if layer not in (None, ""):
        return layer
    if p.suffix.lower() != ".gpkg":
        return None
    try:
        names = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
    except _PYOGRIO_ERRORS as exc:
        raise InvalidInput(f"{p.name}: cannot be read: {exc}") from None
    if len(names) > 1:
        problems.warn("file", f"layers {', '.join(names)}: read {names[0]!r} "
                      "(choose another with sheet/--sheet)")
    return names[0] if names else None


def decode_wkb(wkb: list[Any], problems: Problems) -> np.ndarray:
    """Shapely geometries; a ring left open is closed and reported, garbage is an error."""
    geoms = np.asarray(shapely.from_wkb(np.asarray(wkb, dtype=object), on_invalid="ignore"),
                       dtype=object)
    for at, (raw, geom) in enumerate(zip(wkb, geoms, strict=True)):
        if raw is None or geom is not None:
            continue
        fixed = shapely.from_wkb(raw, on_invalid="fix")
        if fixed is None:
            problems.error(at, "unreadable geometry")
        else:
            geoms[at] = fixed
            problems.repair(at, "unclosed ring closed")
    return geoms


def _read_parquet(p: Path, problems: Problems) -> Source:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError …
        raise InvalidInput(f"{p.name}: not a readable Parquet file: {exc}") from None
    geo = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    column = geo.get("primary_column")
    problems.labels = [f"feature {i + 1}" for i in range(table.num_rows)]
    if not column:  # plain Parquet: treat like a table with coordinate columns
        frame = table.to_pandas().astype(object)
        return Source(p.name, frame, tables.coordinate_geometries(frame, problems), tabular=True)
    info = geo.get("columns", {}).get(column, {})
    if str(info.get("encoding", "WKB")).upper() == "WKB":
        geoms = decode_wkb(table.column(column).to_pylist(), problems)
    else:
        import geopandas

        geoms = np.asarray(geopandas.read_parquet(p).geometry.values, dtype=object)
    frame = table.drop_columns([column]).to_pandas().astype(object)
    # GeoParquet: no "crs" key means OGC:CRS84; an explicit null means unknown.
    crs = pyproj.CRS.from_user_input(info["crs"]) if info.get("crs") else None
    return Source(p.name, frame, geoms, crs)
