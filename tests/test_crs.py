"""geo.crs: GCJ-02 / BD-09 conversions, CRS names, metric zones (no database needed).

Tolerances are stated in metres: degree differences are turned into ground distances on the
WGS84 ellipsoid (pyproj.Geod) before they are compared.
"""

from __future__ import annotations

import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo import crs
from geo.errors import InvalidInput

GEOD = pyproj.Geod(ellps="WGS84")
N_RANDOM = 3000


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between matching (lon, lat) points."""
    lon1, lat1, lon2, lat2 = (np.broadcast_to(np.asarray(v, dtype=float), np.shape(lon1))
                              for v in (lon1, lat1, lon2, lat2))
    _, _, dist = GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())
    return np.asarray(dist).reshape(np.shape(lon1))


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """Random (lon, lat) over China's extent, fixed seed."""
    rng = np.random.default_rng(20241122)
    w, s, e, n = crs.CHINA_EXTENT
    return rng.uniform(w, e, N_RANDOM), rng.uniform(s, n, N_RANDOM)


def prc(fn, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply a prcoords function, which takes and returns (lat, lon), point by point."""
    out = np.array([fn((float(b), float(a))) for a, b in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


# --- published reference values ------------------------------------------------------------

def test_wgs84_to_gcj02_reference_value() -> None:
    x, y = crs.wgs84_to_gcj02(116.404, 39.915)
    assert float(x) == pytest.approx(116.41024449916938, abs=1e-9)
    assert float(y) == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_to_bd09_reference_value() -> None:
    x, y = crs.gcj02_to_bd09(116.404, 39.915)
    assert float(x) == pytest.approx(116.41036949371029, abs=1e-9)
    assert float(y) == pytest.approx(39.92133699351021, abs=1e-9)


# --- against prcoords, an independent implementation ---------------------------------------

def test_wgs84_to_gcj02_matches_prcoords(china_points) -> None:
    lon, lat = china_points
    ox, oy = crs.wgs84_to_gcj02(lon, lat)
    tx, ty = prc(prcoords.wgs_gcj, lon, lat)
    assert metres(ox, oy, tx, ty).max() < 0.001  # same published formula: float noise only
    # and the offset itself is the known size: tens to hundreds of metres, never kilometres
    shift = metres(lon, lat, ox, oy)
    assert shift.min() > 10 and shift.max() < 1000


def test_gcj02_to_wgs84_matches_prcoords_and_round_trips(china_points) -> None:
    glon, glat = china_points
    wx, wy = crs.gcj02_to_wgs84(glon, glat)
    tx, ty = prc(prcoords.gcj_wgs_bored, glon, glat)
    assert metres(wx, wy, tx, ty).max() < 0.5
    fx, fy = crs.wgs84_to_gcj02(wx, wy)
    assert metres(fx, fy, glon, glat).max() < 0.01


def test_gcj02_to_bd09_matches_prcoords(china_points) -> None:
    lon, lat = china_points
    ox, oy = crs.gcj02_to_bd09(lon, lat)
    tx, ty = prc(prcoords.gcj_bd, lon, lat)
    assert metres(ox, oy, tx, ty).max() < 0.001


def test_bd09_to_gcj02_matches_prcoords_and_round_trips(china_points) -> None:
    blon, blat = china_points
    gx, gy = crs.bd09_to_gcj02(blon, blat)
    bored_x, bored_y = prc(prcoords.bd_gcj_bored, blon, blat)
    assert metres(gx, gy, bored_x, bored_y).max() < 0.5
    # prcoords' closed form is documented as decimetre-level; ours refines it
    closed_x, closed_y = prc(prcoords.bd_gcj, blon, blat)
    assert metres(gx, gy, closed_x, closed_y).max() < 0.5
    fx, fy = crs.gcj02_to_bd09(gx, gy)
    assert metres(fx, fy, blon, blat).max() < 0.01


def test_wgs84_bd09_both_ways_match_prcoords(china_points) -> None:
    lon, lat = china_points
    bx, by = crs.wgs84_to_bd09(lon, lat)
    tx, ty = prc(prcoords.wgs_bd, lon, lat)
    assert metres(bx, by, tx, ty).max() < 0.001
    wx, wy = crs.bd09_to_wgs84(lon, lat)
    tx, ty = prc(prcoords.bd_wgs_bored, lon, lat)
    assert metres(wx, wy, tx, ty).max() < 0.5
    fx, fy = crs.wgs84_to_bd09(wx, wy)
    assert metres(fx, fy, lon, lat).max() < 0.01


# --- shapes and scalars ----------------------------------------------------------------------

@pytest.mark.parametrize("fn", [crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.gcj02_to_bd09,
                                crs.bd09_to_gcj02, crs.wgs84_to_bd09, crs.bd09_to_wgs84])
def test_vectorised_same_shape_and_scalar(fn) -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(100, 120, (3, 4))
    lat = rng.uniform(22, 40, (3, 4))
    x, y = fn(lon, lat)
    assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
    assert x.shape == y.shape == (3, 4)
    # each element equals the scalar call on that element
    for i, j in [(0, 0), (1, 2), (2, 3)]:
        sx, sy = fn(lon[i, j], lat[i, j])
        assert np.ndim(sx) == 0 and np.ndim(sy) == 0
        assert float(sx) == pytest.approx(x[i, j], abs=1e-9)
        assert float(sy) == pytest.approx(y[i, j], abs=1e-9)
    lx, ly = fn(list(lon[0]), list(lat[0]))  # plain lists are accepted too
    assert lx.shape == (4,)
    assert np.allclose(lx, x[0], atol=1e-9) and np.allclose(ly, y[0], atol=1e-9)


# --- outside China ---------------------------------------------------------------------------

OUTSIDE = [(2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688), (139.6917, 35.6895),
           (37.6173, 55.7558), (100.0, 60.0)]


def test_gcj02_leaves_points_outside_china_unchanged() -> None:
    lon = np.array([p[0] for p in OUTSIDE])
    lat = np.array([p[1] for p in OUTSIDE])
    assert crs.outside_china(lon, lat).all()
    x, y = crs.wgs84_to_gcj02(lon, lat)
    assert np.array_equal(x, lon) and np.array_equal(y, lat)
    x, y = crs.gcj02_to_wgs84(lon, lat)
    assert np.array_equal(x, lon) and np.array_equal(y, lat)


def test_outside_points_unchanged_when_mixed_with_chinese_ones() -> None:
    lon = np.array([2.3522, 116.404, -74.006])
    lat = np.array([48.8566, 39.915, 40.7128])
    x, y = crs.wgs84_to_gcj02(lon, lat)
    assert x[0] == lon[0] and y[0] == lat[0] and x[2] == lon[2] and y[2] == lat[2]
    assert metres(x[1], y[1], lon[1], lat[1]) > 100


# --- CRS names -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("wgs84", "wgs84"), ("WGS84", "wgs84"), ("cgcs2000", "cgcs2000"), ("EPSG:4490", "cgcs2000"),
    ("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("EPSG:4545", "EPSG:4545"),
    (None, "wgs84"), ("EPSG:4326", "wgs84"),
])
def test_normalize_crs_accepts(text, expected) -> None:
    assert crs.normalize_crs(text) == expected


@pytest.mark.parametrize("bad", ["foo", "EPSG:99999"])
def test_normalize_crs_rejects_and_names_the_value(bad) -> None:
    with pytest.raises(InvalidInput) as exc:
        crs.normalize_crs(bad)
    assert bad in str(exc.value)


def test_to_wgs84_rejects_unknown_crs() -> None:
    with pytest.raises(InvalidInput):
        crs.to_wgs84(116.4, 39.9, "foo")


# --- metric zones ----------------------------------------------------------------------------

@pytest.mark.parametrize(("lon", "epsg", "cm"), [
    (109.19, 4545, "CM 108E"), (116.4, 4548, "CM 117E"), (75, 4534, "CM 75E"),
    (135, 4554, "CM 135E"), (73.45, 4534, "CM 75E"),  # Pamir tip, west of zone 75E's band
])
def test_metric_epsg(lon, epsg, cm) -> None:
    assert crs.metric_epsg(lon) == epsg
    name = pyproj.CRS.from_epsg(epsg).name
    assert "CGCS2000 / 3-degree Gauss-Kruger" in name and cm in name


@pytest.mark.parametrize("lon", [60, 0, -120, 150])
def test_metric_epsg_refuses_longitudes_outside_china(lon) -> None:
    with pytest.raises(InvalidInput):
        crs.metric_epsg(lon)


POLYGON = Polygon([(109.18, 27.71), (109.21, 27.71), (109.215, 27.735), (109.19, 27.74),
                   (109.18, 27.71)], holes=[[(109.19, 27.72), (109.2, 27.72), (109.195, 27.728),
                                             (109.19, 27.72)]])


def test_to_metric_from_metric_round_trip_under_a_millimetre() -> None:
    epsg = crs.metric_epsg(POLYGON.centroid.x)
    m = crs.to_metric(POLYGON, epsg)
    assert m.bounds[0] > 1e5  # eastings in metres (about 500 km), not degrees
    back = crs.from_metric(m, epsg)
    a, b = shapely.get_coordinates(POLYGON), shapely.get_coordinates(back)
    assert a.shape == b.shape
    assert metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 0.001


@pytest.mark.parametrize(("lon", "lat"), [(116.4, 39.9), (117.0, 31.0), (118.4, 45.0)])
def test_square_km_built_in_metric_coordinates_is_a_square_km(lon, lat) -> None:
    epsg = crs.metric_epsg(lon)
    centre = crs.to_metric(shapely.Point(lon, lat), epsg)
    x0, y0 = centre.x, centre.y
    square = shapely.box(x0, y0, x0 + 1000.0, y0 + 1000.0)
    assert square.area == pytest.approx(1e6)
    # measured on the ellipsoid, independently of the projection (includes the scale factor
    # of Gauss-Krüger, which is at most ~1.0003 in area at the zone's edge)
    wgs = shapely.segmentize(crs.from_metric(square, epsg), 0.001)
    area, _ = GEOD.geometry_area_perimeter(wgs)
    assert abs(area) == pytest.approx(1e6, rel=1e-3)


# --- geometries through GCJ-02 and BD-09 -----------------------------------------------------

@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_geometries_round_trip(system) -> None:
    geom = MultiPolygon([POLYGON, shapely.box(116.30, 39.90, 116.32, 39.92)])
    there = crs.geometries_from_wgs84(geom, system)
    assert there.geom_type == "MultiPolygon"
    a, t = shapely.get_coordinates(geom), shapely.get_coordinates(there)
    shift = metres(a[:, 0], a[:, 1], t[:, 0], t[:, 1])
    assert shift.min() > 100  # it really moved
    back = crs.geometries_to_wgs84(there, system)
    b = shapely.get_coordinates(back)
    assert a.shape == b.shape
    assert metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 0.05
    assert back.is_valid


def test_geometries_array_and_identity() -> None:
    arr = np.array([POLYGON, shapely.Point(116.404, 39.915)], dtype=object)
    out = crs.geometries_from_wgs84(arr, "GCJ-02")
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    p = out[1]
    assert (p.x, p.y) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    assert crs.geometries_to_wgs84(POLYGON, "cgcs2000") is POLYGON
    assert crs.geometries_to_wgs84(POLYGON, "wgs84") is POLYGON


def test_geometries_to_wgs84_from_projected_epsg() -> None:
    m = crs.to_metric(POLYGON, 4545)
    back = crs.geometries_to_wgs84(m, "EPSG:4545")
    a, b = shapely.get_coordinates(POLYGON), shapely.get_coordinates(back)
    assert metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 0.001


def test_a_transformer_made_in_another_thread_converts_the_same() -> None:
    """The operation PROJ chooses is looked up once per process and rebuilt in other threads
    from its pipeline: the same metres there as from_crs gives."""
    import threading

    import pyproj

    from geo.crs import metric_transformer

    lon, lat = [73.6, 104.8, 120.1, 134.7], [39.4, 26.6, 30.2, 48.3]
    for zone in (4534, 4545, 4550, 4554):
        metric_transformer(zone)  # chosen here
        want = pyproj.Transformer.from_crs(4326, zone, always_xy=True).transform(lon, lat)
        got: list[object] = []
        worker = threading.Thread(target=lambda z=zone, out=got: out.append(
            metric_transformer(z).transform(lon, lat)))
        worker.start()
        worker.join()
        assert got and got[0] == want
