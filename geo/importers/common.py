"""The first steps every importer shares: read, map the columns, check the geometries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.importers import columns as cols
from geo.importers.geometry import input_crs, prepare
from geo.importers.readers import Source, read_source
from geo.importers.result import Problems
from geo.importers.store import track
from geo.importers.values import Row


@dataclass
class Loaded:
    """A file read and mapped: its cells by field, and WGS84 geometries when spatial."""

    source: Source
    problems: Problems
    columns: dict[str, str]  # field → header in the file
    geoms: np.ndarray | None
    crs: str | None = None  # what the geometries were converted from (None: no geometry)

    def rows(self, progress: bool = False, label: str = "checking") -> Iterator[Row]:
        frame = self.source.frame
        fields = list(self.columns)
        data = frame[[self.columns[f] for f in fields]] if fields else frame.iloc[:, :0]
        records = data.itertuples(index=False, name=None)
        for at, record in enumerate(track(records, len(frame), label, progress)):
            yield Row(self.problems, at, dict(zip(fields, record, strict=True)), self.columns)

    def __len__(self) -> int:
        return len(self.source.frame)


def load(path: str | Path, table: cols.Aliases, required: Sequence[str], *, crs: str | None,
         allowed: tuple[str, ...] | None, encoding: str | None = None,
         sheet: str | int | None = None) -> Loaded:
    """Read ``path`` and map its headers with ``table``; when ``allowed`` names geometry
    types, check and convert the geometries to WGS84 (errors are collected, not raised)."""
    problems = Problems(Path(path).name)
    source = read_source(path, problems, encoding=encoding, sheet=sheet)
    headers = [str(h) for h in source.frame.columns]
    if len(source.frame) == 0:
        problems.error("file", "no rows to import")
    mapping = cols.map_columns(headers, table, required, problems)
    if allowed is None:
        return Loaded(source, problems, mapping, None)
    if source.geoms is None:
        problems.error("header", "no geometry: give longitude/latitude columns "
                       f"({' / '.join(cols.LON)} and {' / '.join(cols.LAT)}) or a WKT "
                       f"column ({' / '.join(cols.WKT)}); columns found: "
                       f"{', '.join(headers) or '(none)'}")
        problems.check()
        raise AssertionError("unreachable")
    c = input_crs(crs, source.declared_crs, problems)
    if c is None:
        geoms = np.asarray([None] * len(source.geoms), dtype=object)
    else:
        geoms = prepare(source.geoms, c, allowed, problems, skip=problems.failed_rows)
    return Loaded(source, problems, mapping, geoms, c)


def duplicates(problems: Problems, at: int, key: object, seen: dict[object, int],
               what: str) -> None:
    """Record ``key`` as seen at ``at``; a repeat is an error naming the first occurrence."""
    if key in seen:
        first = problems.labels[seen[key]] if seen[key] < len(problems.labels) else seen[key]
        problems.error(at, f"duplicate {what} (also at {first})")
    else:
        seen[key] = at
