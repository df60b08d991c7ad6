"""The JSON documents of OGC API – Features, built from a base URL (no HTTP here).

``base`` is the server's root (``http://host:port``); the OGC API lives under ``base/ogc``.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from geo.ogc.collections import Collection
from geo.ogc.items import Page
from geo.ogc.params import DEFAULT_LIMIT, ItemsRequest
from geo.ogc.spec import (
    CONFORMANCE,
    CRS84,
    GEOJSON,
    HTML,
    JSON,
    OPENAPI_JSON,
    REL_CONFORMANCE,
    REL_DATA,
    REL_QUERYABLES,
    SCHEMA_JSON,
)

PREFIX = "/ogc"
JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
GEOJSON_GEOMETRY = "https://geojson.org/schema/Geometry.json"


def _link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def landing(base: str) -> dict[str, Any]:
    root = base + PREFIX
    return {
        "title": "gridgov OGC API – Features",
        "description": "Public layers of the grid-governance service (streets, communities, "
                       "grids of each active layer, buildings, facilities) as GeoJSON, with "
                       "CQL2 text filters. No personal data.",
        "links": [
            _link(root + "/", "self", JSON, "This document"),
            # First: the OpenAPI of this API alone (paths relative to /ogc), which GDAL and
            # QGIS read for the items parameters; then the whole application's document.
            _link(root + "/api", "service-desc", OPENAPI_JSON, "OpenAPI of the OGC API"),
            _link(base + "/openapi.json", "service-desc", OPENAPI_JSON,
                  "OpenAPI of the whole gridgov API"),
            _link(base + "/docs", "service-doc", HTML, "Interactive API documentation"),
            _link(root + "/conformance", "conformance", JSON, "Conformance classes"),
            _link(root + "/conformance", REL_CONFORMANCE, JSON, "Conformance classes"),
            _link(root + "/collections", "data", JSON, "Collections"),
            _link(root + "/collections", REL_DATA, JSON, "Collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collection(base: str, c: Collection, bbox: list[float] | None) -> dict[str, Any]:
    url = f"{base}{PREFIX}/collections/{c.id}"
    doc: dict[str, Any] = {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "crs": [CRS84], "storageCrs": CRS84,
        "links": [
            _link(url, "self", JSON, "This collection"),
            _link(url + "/items", "items", GEOJSON, "Features as GeoJSON"),
            _link(url + "/queryables", REL_QUERYABLES, SCHEMA_JSON, "Queryables"),
            _link(url + "/queryables", "queryables", JSON, "Queryables"),  # GDAL ≤ 3.6
        ],
    }
    if bbox is not None:
        doc["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    return doc


def collections(base: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"collections": docs,
            "links": [_link(f"{base}{PREFIX}/collections", "self", JSON, "Collections")]}


def queryables(base: str, c: Collection) -> dict[str, Any]:
    props: dict[str, Any] = {
        "geometry": {"title": "几何 geometry", "format": c.geometry_format,
                     "$ref": GEOJSON_GEOMETRY}}
    for p in c.properties:
        props[p.name] = {"title": p.title, "type": p.type}
    return {
        "$schema": JSON_SCHEMA,
        "$id": f"{base}{PREFIX}/collections/{c.id}/queryables",
        "type": "object", "title": c.title, "properties": props,
        "additionalProperties": False,
        # The draft form GDAL up to 3.6 reads (it ignores ``properties``).
        "queryables": [{"id": p.name, "type": p.type} for p in c.properties],
    }


def _url(path: str, params: dict[str, str]) -> str:
    return path + ("?" + urlencode(params, quote_via=quote) if params else "")


def feature_collection(base: str, c: Collection, req: ItemsRequest, page: Page) -> str:
    """The items document: counts, time stamp and links around the features' JSON text."""
    items = f"{base}{PREFIX}/collections/{c.id}/items"
    links = [_link(_url(items, req.link_params(req.offset)), "self", GEOJSON, "This page"),
             _link(f"{base}{PREFIX}/collections/{c.id}", "collection", JSON, c.title)]
    if req.offset + page.returned < page.matched:
        after = req.offset + page.returned
        links.append(_link(_url(items, req.link_params(after)), "next", GEOJSON, "Next page"))
    if req.offset > 0:
        before = max(req.offset - req.limit, 0)
        links.append(_link(_url(items, req.link_params(before)), "prev", GEOJSON,
                           "Previous page"))
    head = {"type": "FeatureCollection", "numberMatched": page.matched,
            "numberReturned": page.returned,
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "links": links}
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ' + page.features + "}"


def feature(base: str, c: Collection, fid: str, text: str) -> str:
    """A single feature's JSON text with its links (self, collection) added."""
    url = f"{base}{PREFIX}/collections/{c.id}"
    links = [_link(f"{url}/items/{quote(fid, safe='')}", "self", GEOJSON, "This feature"),
             _link(url, "collection", JSON, c.title)]
    return text[:-1] + ', "links": ' + json.dumps(links, ensure_ascii=False) + "}"


def scoped_openapi(doc: dict[str, Any], server: str, max_features: int) -> dict[str, Any]:
    """The OpenAPI of the OGC routes with paths relative to ``server`` (…/ogc), as clients
    that look up ``/collections/{collectionId}/items`` expect, and the real ``limit`` range."""
    out = copy.deepcopy(doc)
    out["servers"] = [{"url": server}]
    out["paths"] = {path[len(PREFIX):] or "/": item for path, item in out["paths"].items()
                    if path.startswith(PREFIX)}
    limit = {"name": "limit", "in": "query", "required": False, "style": "form",
             "explode": False, "description": f"Features per page (at most {max_features})",
             "schema": {"type": "integer", "minimum": 1, "maximum": max_features,
                        "default": DEFAULT_LIMIT}}
    out.setdefault("components", {}).setdefault("parameters", {})["limit"] = limit
    for item in out["paths"].values():
        get = item.get("get", {})
        get["parameters"] = [{"$ref": "#/components/parameters/limit"}
                             if p.get("name") == "limit" else p
                             for p in get.get("parameters", [])]
        get.get("responses", {}).pop("422", None)  # FastAPI's; these routes answer 400
    schemas = out["components"].get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return out
