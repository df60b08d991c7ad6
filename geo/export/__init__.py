"""Bulk export of public layers for GIS analysts: GeoPackage, GeoParquet, GeoJSON, zipped
Shapefile and CSV, in any supported CRS, narrowed by area code and box.

The layer is read from PostGIS in chunks through a server-side cursor and written chunk by
chunk: to a file for GeoPackage, GeoParquet and Shapefile (``export_layer``), or straight out
as bytes for GeoJSON and CSV (``stream_layer``). Only public columns leave (layers.py).
No HTTP here: the API (api/routers/export.py) and the CLI (api/cli_commands/export.py) both
call these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import psycopg

from geo.export.files import WRITERS
from geo.export.layers import LAYERS, Layer
from geo.export.options import FORMATS, ExportRequest, filename, make_request
from geo.export.query import CHUNK_ROWS, Chunk, Survey, check, chunks, survey
from geo.export.text import STREAMERS

__all__ = ["FORMATS", "LAYERS", "ExportRequest", "Layer", "Survey", "export_layer", "filename",
           "make_request", "prepare", "stream_layer"]

Progress = Callable[[int], None]


def prepare(conn: psycopg.Connection, req: ExportRequest) -> Survey:
    """Check the request against the database (area, theme, generation) and count the rows."""
    check(conn, req)
    return survey(conn, req)


def _counted(items: Iterable[Chunk], progress: Progress | None) -> Iterator[Chunk]:
    for chunk in items:
        yield chunk
        if progress is not None:
            progress(len(chunk))


def stream_layer(conn: psycopg.Connection, req: ExportRequest, progress: Progress | None = None,
                 chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """GeoJSON or CSV bytes, block by block (call ``prepare`` first for its checks)."""
    return STREAMERS[req.format.name](req, _counted(chunks(conn, req, chunk_rows), progress))


def export_layer(conn: psycopg.Connection, req: ExportRequest, path: Path,
                 progress: Progress | None = None, found: Survey | None = None,
                 chunk_rows: int = CHUNK_ROWS) -> Survey:
    """Write the export to ``path`` (any format), ``chunk_rows`` rows in memory at a time;
    ``progress`` hears the rows of each chunk written. Returns what was exported."""
    found = found or prepare(conn, req)
    if req.format.streams:
        with open(path, "wb") as out:
            for block in stream_layer(conn, req, progress, chunk_rows):
                out.write(block)
        return found
    writer = WRITERS[req.format.name](path, req, found)
    for chunk in _counted(chunks(conn, req, chunk_rows), progress):
        writer.write(chunk)
    writer.close()
    return found
