"""CSV and XLSX files: cells as text or native values, and points from coordinate columns.

Row labels: a CSV row is named by its data row number (the header not counted) and the
line it ends on, ``row 3 (line 4)``; a spreadsheet row by the row number the spreadsheet
shows, ``row 4``. CSV encodings are detected: a BOM (UTF-8, UTF-16), else UTF-8 when the
bytes decode, else GB18030 (a superset of GBK and GB2312, as Excel on Chinese Windows
writes); an explicit ``encoding`` wins.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInput
from geo.importers.columns import LAT, LON, WKT, find
from geo.importers.result import Problems
from geo.importers.values import BadValue, number, text

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass
class Grid:
    """A header and rows of cells with their labels (before any mapping)."""

    header: list[str]
    rows: list[list[Any]]
    labels: list[str]
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def decode_bytes(raw: bytes, encoding: str | None, name: str) -> tuple[str, str]:
    """The text of a file and the encoding it was read with."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidInput(f"{name}: cannot be read as {encoding}: {exc}") from None
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return raw.decode(enc), enc
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{name}: neither UTF-8 nor GBK; pass the encoding explicitly")


def _delimiter(content: str) -> str:
    first = content.split("\n", 1)[0]
    return max((",", "\t", ";", "|"), key=first.count)


def read_csv(path: Path, encoding: str | None) -> Grid:
    content, enc = decode_bytes(path.read_bytes(), encoding, path.name)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_delimiter(content))
    header: list[str] | None = None
    rows: list[list[Any]] = []
    labels: list[str] = []
    for record in reader:
        if header is None:
            header = [c.strip() for c in record]
            continue
        if any(c.strip() for c in record):  # blank lines are skipped and not counted
            rows.append(record)
            labels.append(f"row {len(labels) + 1} (line {reader.line_num})")
    if header is None:
        raise InvalidInput(f"{path.name}: the file is empty")
    return Grid(header, rows, labels, enc)


def read_xlsx(path: Path, sheet: str | int | None) -> tuple[Grid, str]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types on a damaged file
        raise InvalidInput(f"{path.name}: not a readable XLSX workbook: {exc}") from None
    try:
        ws = _pick_sheet(book, sheet, path.name)
        header: list[str] | None = None
        rows: list[list[Any]] = []
        labels: list[str] = []
        for number_, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if not any(text(v) is not None for v in values):
                continue
            if header is None:
                header = [text(v) or "" for v in values]
                continue
            rows.append(list(values))
            labels.append(f"row {number_}")
        title = ws.title
        several = len(book.sheetnames) > 1
    finally:
        book.close()
    if header is None:
        raise InvalidInput(f"{path.name}: sheet {title!r} is empty")
    return Grid(header, rows, labels), (f"{path.name} [sheet {title}]" if several else path.name)


def _pick_sheet(book: Any, sheet: str | int | None, name: str) -> Any:
    if sheet is None or sheet == "":
        return book.worksheets[0]
    if str(sheet) in book.sheetnames:
        return book[str(sheet)]
    if str(sheet).isdigit() and 1 <= int(sheet) <= len(book.worksheets):
        return book.worksheets[int(sheet) - 1]
    raise InvalidInput(f"{name}: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")


def to_frame(grid: Grid, problems: Problems) -> pd.DataFrame:
    """Cells under their headers; a blank header becomes ``column N``; a repeated header or a
    row longer than the header is an error."""
    header = [h or f"column {i + 1}" for i, h in enumerate(grid.header)]
    seen: set[str] = set()
    for h in header:
        if h in seen:
            problems.error("header", f"column {h!r} appears twice")
        seen.add(h)
    width = len(header)
    cells: list[list[Any]] = []
    for at, row in enumerate(grid.rows):
        extra = [c for c in row[width:] if text(c) is not None]
        if extra:
            problems.error(at, f"{len(row)} cells but the header has {width} columns")
        cells.append((list(row) + [None] * width)[:width])
    frame = pd.DataFrame(cells, columns=range(width), dtype=object)
    frame.columns = pd.Index(header, dtype=object)
    return frame.loc[:, ~frame.columns.duplicated()]


def coordinate_geometries(frame: pd.DataFrame, problems: Problems) -> np.ndarray | None:
    """Points from longitude/latitude columns, or shapes from a WKT column; None when the
    table has neither. The columns used are removed from ``frame``."""
    headers = [str(h) for h in frame.columns]
    lon = find(headers, LON)
    lat = find(headers, LAT, {lon} if lon else None)
    if lon and lat:
        geoms = _points(frame[lon].tolist(), frame[lat].tolist(), lon, lat, problems)
        del frame[lon], frame[lat]
        return geoms
    wkt = find(headers, WKT)
    if wkt:
        geoms = _from_wkt(frame[wkt].tolist(), wkt, problems)
        del frame[wkt]
        return geoms
    return None


def _points(xs: list[Any], ys: list[Any], lon: str, lat: str,
            problems: Problems) -> np.ndarray:
    out = np.empty(len(xs), dtype=object)
    for at, (x, y) in enumerate(zip(xs, ys, strict=True)):
        out[at] = None
        try:
            fx, fy = number(x, lon), number(y, lat)
        except BadValue as exc:
            problems.error(at, str(exc))
            continue
        if fx is None and fy is None:
            continue  # reported as an empty geometry by the geometry checks
        if fx is None or fy is None:
            problems.error(at, f"{lon if fx is None else lat} is empty")
            continue
        out[at] = shapely.Point(fx, fy)
    return out


def _from_wkt(values: list[Any], header: str, problems: Problems) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for at, value in enumerate(values):
        s = text(value)
        out[at] = None if s is None else shapely.from_wkt(s, on_invalid="ignore")
        if s is not None and out[at] is None:
            fixed = shapely.from_wkt(s, on_invalid="fix")
            if fixed is None:
                problems.error(at, f"{header} is not readable WKT: {s[:40]!r}")
            else:
                out[at] = fixed
                problems.repair(at, "unclosed ring closed")
    return out
