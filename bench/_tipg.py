"""tipg (developmentseed's OGC Features/Tiles server) in its own venv, configured for the
tile benchmark: never installed into the project's venv (its FastAPI/starlette pins are its
own). The venv lives in ``.gridgov/bench/tipg-venv`` (git-ignored) and is made on first use."""

from __future__ import annotations

import subprocess
from pathlib import Path

REQUIREMENTS = ["tipg~=1.6", "uvicorn[standard]"]  # 1.6: the tile URL shape used below
MARKER = ".installed"

# Columns tipg encodes (its ``properties=`` parameter), the nearest it has to ours: plain
# columns of the table only, so foreign keys stand where we join names in.
BUILDING_COLUMNS = ("id", "address", "name", "compound_id", "households", "residents",
                    "floors", "community_code", "grid_id")
GRID_COLUMNS = ("code", "name", "kind", "dedicated_type", "community_code", "households",
                "residents", "layer_id")


def ensure_venv(root: Path) -> Path:
    """The venv's python, installed on first use and reused afterwards."""
    venv = root / ".gridgov" / "bench" / "tipg-venv"
    python, marker = venv / "bin" / "python", venv / MARKER
    wanted = " ".join(REQUIREMENTS)
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == wanted:
        return python
    print(f"creating {venv.relative_to(root)} ({wanted})…", flush=True)
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", *REQUIREMENTS], check=True)
    marker.write_text(wanted + "\n", encoding="utf-8")
    return python


def version(python: Path) -> str:
    return subprocess.run([str(python), "-c", "import tipg; print(tipg.__version__)"],
                          check=True, capture_output=True, text=True).stdout.strip()


def geometry_columns(mercator: bool) -> dict[str, str]:
    """The columns tipg cuts tiles from: the stored WGS 84 ones (reprojected per tile) or the
    Web Mercator copies we read (migration 0005)."""
    if mercator:
        return {"buildings": "footprint_3857", "grids": "geom_3857"}
    return {"buildings": "footprint", "grids": "geom"}


def environment(database_url: str, mercator: bool) -> dict[str, str]:
    """tipg's settings: only our two tables (no functions), the polygon columns we serve,
    our tile buffer (64 px of 4096; tipg's default is 256) and layer names like ours."""
    geom = geometry_columns(mercator)
    return {
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.buildings", "public.grids"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_TABLE_CONFIG__public_buildings__geomcol": geom["buildings"],
        "TIPG_TABLE_CONFIG__public_grids__geomcol": geom["grids"],
        "TIPG_TILE_RESOLUTION": "4096",
        "TIPG_TILE_BUFFER": "64",
        "TIPG_SET_MVT_LAYERNAME": "true",
        "TIPG_CATALOG_TTL": "0",  # no catalogue refresh in the middle of a run
        "TIPG_DB_MAX_CONN_SIZE": "10",  # as GRIDGOV_POOL_MAX_SIZE
    }


def command(python: Path, host: str) -> list[str]:
    return [str(python), "-m", "uvicorn", "tipg.main:app", "--host", host,
            "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http",
            "httptools"]


def tile_path(table: str, z: int, x: int, y: int, geom_column: str, columns: tuple[str, ...],
              where: str = "") -> str:
    query = f"geom-column={geom_column}&properties={','.join(columns)}"
    return (f"/collections/public.{table}/tiles/WebMercatorQuad/{z}/{x}/{y}?{query}"
            + (f"&{where}" if where else ""))
