"""Names from the standards: conformance classes, media types, CRS and link relations."""

from __future__ import annotations

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
HTML = "text/html"

REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_DATA = "http://www.opengis.net/def/rel/ogc/1.0/data"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"

# QGIS (3.28+) switches on CQL2 filtering when it finds basic-cql2, filter, features-filter and
# cql2-text; it looks for spatial functions under the final name (basic-spatial-functions) and
# the draft name (basic-spatial-operators), so both are listed. GDAL 3.6 does not read these: it
# looks for a ``filter-lang`` parameter offering ``cql-text`` in the OpenAPI document (served at
# /ogc/api) and for the draft ``queryables`` array in the queryables document.
CONFORMANCE = (
    _F1 + "core",
    _F1 + "geojson",
    _F1 + "oas30",
    _F3 + "filter",
    _F3 + "features-filter",
    _F3 + "queryables",
    _F3 + "queryables-query-parameters",
    _CQL2 + "cql2-text",
    _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators",
    _CQL2 + "case-insensitive-comparison",
    _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus",
    _CQL2 + "spatial-functions",
    _CQL2 + "basic-spatial-operators",
    _CQL2 + "spatial-operators",
)

# filter-lang values we accept: CQL2 text, and the draft name GDAL up to 3.6 sends.
FILTER_LANGS = ("cql2-text", "cql-text")
