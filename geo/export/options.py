"""What an export asks for, checked: layer, format, CRS, area, box, grid theme, encoding.

Every refusal is an ``InvalidInput`` whose message starts with the parameter's name, so the
API (422) and the CLI say the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyproj

from geo.crs import normalize_crs
from geo.errors import InvalidInput
from geo.export.layers import LAYERS, Layer

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    media_type: str
    streams: bool  # written as it is read (no temporary file)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("gpkg", ".gpkg", "application/geopackage+sqlite3", False),
    Format("parquet", ".parquet", "application/vnd.apache.parquet", False),
    Format("geojson", ".geojson", "application/geo+json", True),
    Format("shp", ".shp.zip", "application/zip", False),
    Format("csv", ".csv", "text/csv; charset=utf-8", True),
)}
ENCODINGS = {"utf-8": "UTF-8", "utf8": "UTF-8", "gbk": "GBK", "cp936": "GBK", "gb2312": "GBK",
             "936": "GBK"}
OBFUSCATED = ("gcj02", "bd09")  # lon/lat, shifted: written with EPSG:4326 metadata plus a note


@dataclass(frozen=True)
class ExportRequest:
    layer: Layer
    format: Format
    crs: str = "wgs84"  # normalised: wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:n
    within: str | None = None
    bbox: BBox | None = None
    theme: str = "unified"
    generation: int | None = None
    encoding: str = "UTF-8"  # Shapefile .dbf only

    @property
    def geographic(self) -> bool:
        """Coordinates in degrees (lon, lat) rather than metres."""
        return self.crs in ("wgs84", "cgcs2000", *OBFUSCATED) or bool(
            pyproj.CRS.from_user_input(self.crs).is_geographic)

    @property
    def file_crs(self) -> str:
        """The CRS written into the file's metadata (GCJ-02 / BD-09 are not EPSG codes)."""
        if self.crs in ("wgs84", *OBFUSCATED):
            return "EPSG:4326"
        return "EPSG:4490" if self.crs == "cgcs2000" else self.crs


def _choice(name: str, value: str, allowed: dict[str, object]) -> str:
    key = (value or "").strip().lower()
    if key not in allowed:
        raise InvalidInput(f"{name}: unknown {name} {value!r}; use one of {', '.join(allowed)}")
    return key


def _crs(text: str | None, fmt: Format) -> str:
    try:
        crs = normalize_crs(text)
    except InvalidInput as exc:
        raise InvalidInput(f"crs: {exc}") from None
    if crs.startswith("EPSG:"):
        found = pyproj.CRS.from_user_input(crs)
        if not (found.is_geographic or found.is_projected) or found.is_vertical:
            raise InvalidInput(f"crs: {crs} is not a horizontal (geographic or projected) CRS")
    if fmt.name == "geojson" and crs not in ("wgs84", "cgcs2000"):
        raise InvalidInput(
            f"crs: GeoJSON is always WGS84 longitude/latitude (RFC 7946), so crs={crs} cannot "
            "be written as GeoJSON; use format=gpkg, parquet, shp or csv for other CRSs")
    return crs


def _encoding(text: str | None, fmt: Format) -> str:
    if text is None or not text.strip():
        return "UTF-8"
    key = text.strip().lower()
    if key not in ENCODINGS:
        raise InvalidInput(f"encoding: unknown encoding {text!r}; use utf-8 or gbk")
    if fmt.name != "shp" and ENCODINGS[key] != "UTF-8":
        raise InvalidInput(f"encoding: only format=shp takes an encoding ({fmt.name} is "
                           "always UTF-8" + (" with a BOM)" if fmt.name == "csv" else ")"))
    return ENCODINGS[key]


def _grid_options(layer: Layer, theme: str | None, generation: int | None) -> str:
    if not layer.grids and theme:
        raise InvalidInput(f"theme: only the grids layer has themes (not {layer.name})")
    if not layer.grids and generation is not None:
        raise InvalidInput(f"generation: only the grids layer has generations (not {layer.name})")
    if generation is not None and generation < 1:
        raise InvalidInput(f"generation: must be 1 or more, got {generation}")
    theme = (theme or "unified").strip()
    if not 1 <= len(theme) <= 40:
        raise InvalidInput("theme: 1 to 40 characters")
    return theme


def make_request(layer: str, fmt: str = "gpkg", crs: str | None = None,
                 within: str | None = None, bbox: BBox | None = None,
                 theme: str | None = None, generation: int | None = None,
                 encoding: str | None = None) -> ExportRequest:
    """Check every parameter; ``within`` and ``bbox`` arrive already parsed (api.deps)."""
    lyr = LAYERS[_choice("layer", layer, dict(LAYERS))]
    form = FORMATS[_choice("format", fmt, dict(FORMATS))]
    return ExportRequest(lyr, form, _crs(crs, form), within or None, bbox,
                         _grid_options(lyr, theme, generation), generation,
                         _encoding(encoding, form))


def filename(req: ExportRequest, today: dt.date | None = None) -> str:
    """``grids-520602-20261122.gpkg``; theme, generation, CRS and box when not the default."""
    parts = [req.layer.name, req.within or "all"]
    if req.layer.grids and req.theme != "unified":
        parts.append(req.theme)
    if req.generation is not None:
        parts.append(f"g{req.generation}")
    if req.bbox is not None:
        parts.append("bbox")
    if req.crs != "wgs84":
        parts.append(req.crs.replace(":", "").lower())
    parts.append((today or dt.date.today()).strftime("%Y%m%d"))
    return "-".join(parts) + req.format.suffix
