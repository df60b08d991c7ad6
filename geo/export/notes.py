"""Words that travel with an export: the CRS note for GCJ-02 / BD-09 and the Shapefile README.

GCJ-02 (高德, 腾讯) and BD-09 (百度) are not EPSG codes: they are WGS84 longitudes and
latitudes moved by an obfuscation formula. An export in them declares EPSG:4326 (the only
honest geographic CRS a GIS can read for lon/lat degrees) and says plainly, in the file's
own metadata (GeoPackage layer description and metadata, GeoParquet ``gridgov`` key,
Shapefile README.txt) and in the file name, that the coordinates are shifted.
"""

from __future__ import annotations

from geo.export.layers import SHP_NAME_MAX
from geo.export.options import ExportRequest

_NAMES = {"gcj02": "GCJ-02 (高德/腾讯 Mars coordinates)", "bd09": "BD-09 (百度 coordinates)"}


def crs_note(req: ExportRequest) -> str | None:
    """A sentence for obfuscated coordinates, None for real CRSs."""
    name = _NAMES.get(req.crs)
    if name is None:
        return None
    return (f"Coordinates are {name}: longitude/latitude shifted from WGS84 by the {req.crs} "
            "formula. The file declares EPSG:4326 because the shift has no EPSG code; they line "
            "up with maps in the same system, not with WGS84 base maps. 坐标为"
            + ("GCJ-02（火星坐标）" if req.crs == "gcj02" else "BD-09（百度坐标）")
            + "，非WGS84。")


def _crs_line(req: ExportRequest) -> str:
    if req.crs == "wgs84":
        return "CRS: WGS84 longitude/latitude (EPSG:4326)."
    if req.crs == "cgcs2000":
        return ("CRS: CGCS2000 longitude/latitude (EPSG:4490); equal to WGS84 at this data's "
                "precision, no shift applied.")
    return f"CRS: {req.file_crs} (see the .prj)." if not crs_note(req) else f"CRS: {crs_note(req)}"


def shapefile_readme(req: ExportRequest, shapefiles: list[str]) -> str:
    """README.txt of a zipped Shapefile: files, CRS, encoding, and the field-name mapping."""
    fields = "\n".join(f"  {c.shp_name:<{SHP_NAME_MAX}}  {c.name}" for c in req.layer.columns)
    return (
        f"gridgov export: {req.layer.name} ({req.layer.title})\n\n"
        f"Shapefiles: {', '.join(s + '.shp' for s in shapefiles)}\n"
        f"{_crs_line(req)}\n"
        f"Attribute encoding: {req.encoding} (declared in the .cpg file).\n\n"
        "DBF field names hold at most 10 characters; these fields are named:\n"
        f"  {'field':<{SHP_NAME_MAX}}  column\n{fields}\n")
