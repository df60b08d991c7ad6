"""Fixture files for the importer tests, written with geopandas / pandas / openpyxl, and the
checks they share.

Area codes are those of 东城区 (110101) and its children so that they never meet the demo city
(520602). Every bad file is checked to change nothing: a checksum of the affected tables, the
audit log included, before and after.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import psycopg
import pytest
from shapely.geometry import Polygon, box

from geo.errors import ImportRejected
from geo.importers.areas import import_areas
from geo.importers.buildings import import_buildings
from geo.importers.grids import import_grids
from geo.importers.people import import_people

ROOT = Path(__file__).resolve().parent.parent
TABLES = {"areas": "code", "grid_layers": "id", "grids": "id", "buildings": "id",
          "facilities": "id", "facility_categories": "code", "people": "id",
          "role_assignments": "id", "audit_log": "id"}
DISTRICT, STREET_W, STREET_E = "110101", "110101001", "110101002"
C_SW, C_NW, C_E = "110101001001", "110101001002", "110101002001"
BOWTIE = Polygon([(116.381, 39.881), (116.389, 39.889), (116.389, 39.881), (116.381, 39.889)])
# Inside community C_SW (116.38–116.41, 39.88–39.91), in WGS84.
HOME = (116.3952, 39.8951)


def scalar(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def snapshot(conn: psycopg.Connection) -> dict[str, Any]:
    out = {}
    for table, key in TABLES.items():
        out[table] = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.{key}), '')) "
            f"FROM {table} t").fetchone()
    return out


def rejected(conn: psycopg.Connection, fn: Callable[..., Any], *args: Any, **kw: Any) -> str:
    """Run an import that must fail; prove nothing changed (no audit row either); return the
    message."""
    before = snapshot(conn)
    with pytest.raises(ImportRejected) as info:
        fn(conn, *args, **kw)
    assert snapshot(conn) == before
    return str(info.value)


def audit_rows(conn: psycopg.Connection, action: str) -> list[tuple[Any, ...]]:
    # Only this test's rows: the log is append-only and other tests commit imports, but
    # now() is the start of the test's own transaction.
    return conn.execute("SELECT actor, object_type, object_id, detail FROM audit_log "
                        "WHERE action = %s AND at = now() ORDER BY id", (action,)).fetchall()


def frame(rows: Sequence[Mapping[str, Any]], geoms: Sequence[Any],
          crs: int = 4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)


def area_frame() -> gpd.GeoDataFrame:
    rows = [("110101", "东城区", box(116.38, 39.88, 116.44, 39.94)),
            (STREET_W, "东华门街道", box(116.38, 39.88, 116.41, 39.94)),
            (STREET_E, "景山街道", box(116.41, 39.88, 116.44, 39.94)),
            (C_SW, "多福巷社区", box(116.38, 39.88, 116.41, 39.91)),
            (C_NW, "银闸社区", box(116.38, 39.91, 116.41, 39.94)),
            (C_E, "景山东街社区", box(116.41, 39.88, 116.44, 39.94))]
    return frame([{"编码": c, "名称": n} for c, n, _ in rows], [g for *_, g in rows])


def load_district(conn: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    """东城区 with its streets and communities imported; returns ``conn``."""
    path = tmp_path / "areas.gpkg"
    area_frame().to_file(path, driver="GPKG")
    import_areas(conn, path)
    return conn


def unified_grids(conn: psycopg.Connection, tmp_path: Path, layer: str = "unified",
                  activate: bool = True) -> dict[str, Any]:
    """Three grids of 多福巷 and 银闸 communities over the district; the import's details."""
    rows = [{"网格编码": C_SW + "001", "网格名称": "多福巷第一网格"},
            {"网格编码": C_SW + "002", "网格名称": "多福巷第二网格", "类型": "专属网格",
             "专属类型": "学校"},
            {"网格编码": "DH-03", "网格名称": "银闸网格", "社区编码": C_NW}]
    geoms = [box(116.38, 39.88, 116.395, 39.91), box(116.395, 39.88, 116.41, 39.91),
             box(116.38, 39.91, 116.41, 39.94)]
    path = tmp_path / f"grids_{layer}.gpkg"
    frame(rows, geoms).to_file(path, driver="GPKG")
    return import_grids(conn, path, layer=layer, scope=DISTRICT, activate=activate).details


def load_people(conn: psycopg.Connection, tmp_path: Path) -> None:
    """A home building and four people (one without a phone), from an XLSX roster."""
    path = tmp_path / "homes.csv"
    path.write_text(f"地址,户数,经度,纬度\n多福巷1号楼,100,{HOME[0]},{HOME[1]}\n", encoding="utf-8")
    import_buildings(conn, path)
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机", "性别", "出生年份", "党员身份", "住址", "单元房号", "民族"])
    book.active.append(["张伟", "138 0013 8000", "男", 1968, "在册", "多福巷1号楼", "2-301", "汉"])
    book.active.append(["李娜", "13900139000", "女", "1990-05-01", "在职党员", None, None, None])
    book.active.append(["王芳", None, "女", None, "流动党员", None, None, None])
    book.active.append(["赵强", "13700137000", None, None, "群众", None, None, None])
    book.save(tmp_path / "people.xlsx")
    import_people(conn, tmp_path / "people.xlsx")


# ---------------------------------------------------------------- command line


def gridgov(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": db_url}
    return subprocess.run([str(ROOT / ".venv/bin/gridgov"), "import", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


TOUCHED = (*TABLES, "walk_nodes", "walk_edges")


def row_counts(db_url: str) -> dict[str, int]:
    """Committed row counts, seen from a connection of its own as the CLI's commit would be."""
    with psycopg.connect(db_url) as conn:
        return {t: scalar(conn, f"SELECT count(*) FROM {t}") for t in TOUCHED}


def failed_cleanly(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def database_checksum(url: str) -> dict[str, tuple[int, str]]:
    """Per table of the database: its rows and an md5 of all of them, in a fixed order."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'spatial_ref_sys' ORDER BY 1")]
        return {t: conn.execute(f"SELECT count(*), md5(coalesce(string_agg(x::text, '|' "
                                f"ORDER BY x::text), '')) FROM {t} x").fetchone()  # type: ignore[misc]
                for t in tables}
