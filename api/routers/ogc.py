"""OGC API – Features at /ogc/: Part 1 Core with GeoJSON and Part 3 filtering (CQL2 text).

For GIS clients (QGIS, GDAL/OGR, OWSLib): public layers only, no sign-in. Handlers are thin;
the documents and SQL live in geo/ogc/. Bad parameters answer 400 and unknown collections or
features 404 with an OGC exception body (``code``, ``description``) that also carries our
usual ``detail``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from api.deps import ConnDep, SettingsDep
from geo.errors import InvalidInput, NotFound
from geo.ogc import collections as registry
from geo.ogc import documents, items
from geo.ogc.params import NotAcceptable, check_format, items_request
from geo.ogc.spec import FILTER_LANGS, GEOJSON, JSON, OPENAPI_JSON, SCHEMA_JSON


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "description": message, "detail": message},
                        status_code=status)


class OGCRoute(APIRoute):
    """Maps our domain errors the OGC way (400 for bad parameters), for these routes only."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except NotAcceptable as exc:
                return _problem(406, "NotAcceptable", str(exc))
            except InvalidInput as exc:
                return _problem(400, "InvalidParameterValue", str(exc))
            except NotFound as exc:
                return _problem(404, "NotFound", str(exc))

        return guarded


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A bad parameter; the message names it"},
    404: {"description": "Unknown collection or feature"},
    406: {"description": "Only JSON / GeoJSON can be returned"}}
router = APIRouter(route_class=OGCRoute, tags=["OGC API Features"], responses=_ERRORS)
CollectionId = Annotated[str, Path(alias="collectionId", description="Collection id")]


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
            "schema": schema, "description": description}


F_PARAM = _q("f", {"type": "string", "enum": ["json"]}, "Format (JSON is the default)")
ITEMS_PARAMETERS = [
    _q("limit", {"type": "integer", "minimum": 1, "default": 10},
       "Features per page; above the server's maximum the maximum applies"),
    _q("offset", {"type": "integer", "minimum": 0, "default": 0},
       "Features to skip (the next link carries it)"),
    _q("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
       "minlon,minlat,maxlon,maxlat (CRS84): features whose geometry intersects the box"),
    _q("bbox-crs", {"type": "string", "format": "uri"}, "Only CRS84"),
    _q("filter", {"type": "string"},
       "CQL2 text over the collection's queryables, e.g. households > 400 AND "
       "S_INTERSECTS(geometry, BBOX(109.17,27.72,109.20,27.74))"),
    _q("filter-lang", {"type": "string", "enum": list(FILTER_LANGS), "default": FILTER_LANGS[0]},
       "cql2-text (cql-text, the draft name, is accepted too)"),
    _q("filter-crs", {"type": "string", "format": "uri"}, "Only CRS84"),
    F_PARAM,
]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _check(request: Request) -> None:
    check_format(request.query_params.get("f"), request.headers.get("accept"))


def _json(body: Any, media_type: str = JSON) -> JSONResponse:
    return JSONResponse(body, media_type=media_type)


@router.get("/ogc", include_in_schema=False)
@router.get("/ogc/", summary="Landing page", openapi_extra={"parameters": [F_PARAM]})
async def landing(request: Request) -> JSONResponse:
    _check(request)
    return _json(documents.landing(_base(request)))


@router.get("/ogc/api", include_in_schema=False)
async def api_document(request: Request, settings: SettingsDep) -> JSONResponse:
    """The OpenAPI of these routes alone, paths relative to /ogc (what GDAL and QGIS expect)."""
    routes = [r for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
    doc = get_openapi(title="gridgov OGC API – Features", version=request.app.version,
                      openapi_version="3.0.3", routes=routes,
                      description="Public layers as GeoJSON with CQL2 text filters.")
    scoped = documents.scoped_openapi(doc, _base(request) + documents.PREFIX,
                                      settings.max_features)
    return _json(scoped, OPENAPI_JSON)


@router.get("/ogc/conformance", summary="Conformance classes",
            openapi_extra={"parameters": [F_PARAM]})
async def conformance(request: Request) -> JSONResponse:
    _check(request)
    return _json(documents.conformance())


@router.get("/ogc/collections", summary="Collections", openapi_extra={"parameters": [F_PARAM]})
async def collections(request: Request, conn: ConnDep) -> JSONResponse:
    _check(request)
    base = _base(request)
    docs = [documents.collection(base, c, await registry.extent(conn, c))
            for c in (await registry.all_collections(conn)).values()]
    return _json(documents.collections(base, docs))


@router.get("/ogc/collections/{collectionId}", summary="One collection",
            openapi_extra={"parameters": [F_PARAM]})
async def collection(request: Request, conn: ConnDep, collection_id: CollectionId) -> JSONResponse:
    _check(request)
    c = await registry.get_collection(conn, collection_id)
    return _json(documents.collection(_base(request), c, await registry.extent(conn, c)))


@router.get("/ogc/collections/{collectionId}/queryables", summary="Queryables (JSON Schema)",
            openapi_extra={"parameters": [F_PARAM]})
async def queryables(request: Request, conn: ConnDep, collection_id: CollectionId
                     ) -> JSONResponse:
    _check(request)
    c = await registry.get_collection(conn, collection_id)
    # application/schema+json when asked for (QGIS); plain JSON otherwise (GDAL 3.6 checks).
    media = SCHEMA_JSON if SCHEMA_JSON in request.headers.get("accept", "") else JSON
    return _json(documents.queryables(_base(request), c), media)


@router.get("/ogc/collections/{collectionId}/items", summary="Features (GeoJSON), paged",
            openapi_extra={"parameters": ITEMS_PARAMETERS})
async def features(request: Request, conn: ConnDep, settings: SettingsDep,
                   collection_id: CollectionId) -> Response:
    _check(request)
    c = await registry.get_collection(conn, collection_id)
    req = items_request(request.query_params.multi_items(), c, settings.max_features)
    page = await items.page(conn, c, req)
    return Response(documents.feature_collection(_base(request), c, req, page),
                    media_type=GEOJSON)


@router.get("/ogc/collections/{collectionId}/items/{featureId}", summary="One feature",
            openapi_extra={"parameters": [F_PARAM]})
async def feature(request: Request, conn: ConnDep, collection_id: CollectionId,
                  feature_id: Annotated[str, Path(alias="featureId")]) -> Response:
    _check(request)
    c = await registry.get_collection(conn, collection_id)
    body = await items.feature(conn, c, feature_id)
    return Response(documents.feature(_base(request), c, feature_id, body), media_type=GEOJSON)
