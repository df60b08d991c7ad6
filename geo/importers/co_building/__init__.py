"""Import a 共建共治 workbook (XLSX): co-building units, their 双报到, the posts and projects
communities offer and who claims them, part-time committee members with their "1+1+N" duty
records, regional party-building alliances and their members, and service sites' floor area,
opening hours (错时服务) and service windows. Each sheet is optional and found by its name
(共建单位, 双报到, 服务岗位, 帮扶项目, 认领, 兼职委员, 区域党建联盟, 联盟成员, 阵地); a CSV
file is one sheet whose kind is given. One transaction: every problem of every sheet is
listed, and a workbook with any error writes nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg

from geo.errors import ImportRejected, InvalidInput, Problem
from geo.importers.co_building.columns import SHEETS as LAYOUT
from geo.importers.co_building.sheets import SHEETS, Names
from geo.importers.columns import normalize_header
from geo.importers.common import load
from geo.importers.result import ImportResult
from geo.importers.store import audit_import, database_errors


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _kinds(path: Path, kind: str | None) -> list[tuple[str, str | None]]:
    """(kind, sheet) pairs to read, in the order of LAYOUT."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        if kind not in LAYOUT:
            raise InvalidInput(f"{path.name}: a CSV holds one sheet; say which with kind "
                               f"({', '.join(LAYOUT)})")
        return [(kind, None)]
    present = {normalize_header(s): s for s in _sheet_names(path)}
    found = [(k, present[normalize_header(n)]) for k, (names, _, _) in LAYOUT.items()
             for n in names if normalize_header(n) in present]
    seen: dict[str, str | None] = {}
    for k, sheet in found:
        seen.setdefault(k, sheet)
    if kind is not None:
        seen = {k: s for k, s in seen.items() if k == kind}
    if not seen:
        wanted = "、".join(names[0] for names, _, _ in LAYOUT.values())
        raise InvalidInput(f"{path.name}: no sheet named {wanted}; sheets found: "
                           f"{', '.join(present.values())}")
    return [(k, seen[k]) for k in LAYOUT if k in seen]


def import_co_building(conn: psycopg.Connection, path: str | Path, *, kind: str | None = None,
                       encoding: str | None = None, progress: bool = False,
                       actor: str = "system") -> ImportResult:
    p = Path(path)
    written: dict[str, int] = {}
    problems: list[Problem] = []
    with conn.transaction():
        for k, sheet in _kinds(p, kind):
            _, aliases, required = LAYOUT[k]
            loaded = load(p, aliases, required, crs=None, allowed=None, encoding=encoding,
                          sheet=sheet)
            label = f"{sheet or k} " if sheet or kind else ""
            if not any(e.where in ("header", "file") for e in loaded.problems.errors):
                with database_errors(f"{p.name} {label.strip()}"):
                    written[k] = SHEETS[k](conn, loaded, Names(conn))
            problems += [Problem(f"{label}{e.where}", e.what) for e in loaded.problems.errors]
        if problems:
            raise ImportRejected(p.name, problems)
        audit_import(conn, actor, "co_building", p, count=sum(written.values()), crs=None,
                     repaired=0, sheets=written)
    return ImportResult("rows", sum(written.values()), details=written)
