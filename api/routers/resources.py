"""One CRUD router per resource of geo/resources.py: list (GeoJSON where there is geometry,
``limit`` + ``next`` paging, ``bbox``, ``within`` and attribute filters), get, create,
update, delete. Handlers are thin: each calls one geo.crud function."""


from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, create_model
from pydantic import Field as PField

from api.auth import UserDep, client_of
from api.deps import BBoxDep, ConnDep, SettingsDep, WithinDep
from geo import crud
from geo.db.changes import Changes
from geo.resources import RESOURCES, Field, Resource

GEOJSON = "application/geo+json"
TYPES: dict[Any, Any] = {str: str, int: int, float: float, bool: bool, "date": date,
                         "datetime": datetime, "json": dict[str, Any]}


def _type(f: Field) -> Any:
    if f.choices:
        return Literal[f.choices]
    t = TYPES[f.type]
    if t is str and f.max_length:
        return Annotated[str, PField(max_length=f.max_length)]
    return t


def _models(res: Resource) -> tuple[type[BaseModel], type[BaseModel]]:
    geo: dict[str, Any] = {}
    if res.geometry:
        geo = {"geometry": (dict[str, Any] | None, PField(None, description="GeoJSON")),
               "crs": (str | None, PField(None, description="wgs84 | cgcs2000 | gcj02 | bd09"))}
    cfg = ConfigDict(extra="forbid")
    writable = [f for f in res.fields if f.writable]
    title = res.name.title().replace("_", "")
    required: dict[str, Any] = {
        f.name: ((_type(f), ...) if f.required and f.name not in res.defaults
                 else (_type(f) | None, None)) for f in writable} | geo
    optional: dict[str, Any] = {f.name: (_type(f) | None, None) for f in writable} | geo
    return (create_model(f"{title}Create", __config__=cfg, **required),
            create_model(f"{title}Update", __config__=cfg, **optional))


def _shape(res: Resource, row: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if k not in ("_scope", "_geometry")}
    if not res.geometry:
        return props
    oid = props.pop("id")
    return {"type": "Feature", "id": oid, "geometry": row.get("_geometry"), "properties": props}


def _json(body: Any, status: int = 200, geo: bool = False) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status,
                        media_type=GEOJSON if geo else None)


def _wrote(request: Request, res: Resource) -> None:
    """Our own write is committed: this process's caches (lookup, tiles) forget what it
    changed now, before the answer goes out; other processes hear the database's NOTIFY."""
    changes: Changes = request.app.state.changes
    changes.wrote(res.table)


def make_router(res: Resource) -> APIRouter:
    path = "/" + res.name.replace("_", "-")
    router = APIRouter(prefix=path, tags=[res.name])
    create_model_, update_model = _models(res)
    filter_names = [f.name for f in res.filters]

    @router.get("", summary=f"List {res.name} ({res.label})")
    async def list_(request: Request, conn: ConnDep, settings: SettingsDep, user: UserDep,
                    within: WithinDep, bbox: BBoxDep,
                    limit: Annotated[int | None, Query(ge=1)] = None,
                    after: Annotated[int | None, Query(ge=0, description="paging cursor")] = None,
                    ) -> JSONResponse:
        filters = {k: _coerce(res, k, v) for k, v in request.query_params.items()
                   if k in filter_names}
        cap = min(limit or settings.max_features, settings.max_features)
        page = await crud.list_objects(conn, user, res, within=within, bbox=bbox,
                                       filters=filters, after=after, limit=cap,
                                       client=client_of(request))
        links = []
        if page.next_after is not None:
            nxt = request.url.include_query_params(after=page.next_after, limit=cap)
            links.append({"rel": "next", "href": str(nxt), "type": "application/json"})
        items = [_shape(res, r) for r in page.items]
        meta = {"numberMatched": page.matched, "numberReturned": len(items), "links": links}
        if res.geometry:
            return _json({"type": "FeatureCollection", **meta, "features": items}, geo=True)
        return _json({**meta, "items": items})

    @router.get("/{oid}", summary=f"One of {res.name}")
    async def get(request: Request, conn: ConnDep, user: UserDep,
                  oid: Annotated[int, Path(ge=1)]) -> JSONResponse:
        row = await crud.get_object(conn, user, res, oid, client_of(request))
        return _json(_shape(res, row), geo=bool(res.geometry))

    async def create(request: Request, conn: ConnDep, user: UserDep,
                     body: create_model_) -> JSONResponse:  # type: ignore[valid-type]
        values = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        geometry, crs = values.pop("geometry", None), values.pop("crs", None)
        row = await crud.create_object(conn, user, res, values, geometry, crs, client_of(request))
        _wrote(request, res)
        return _json(_shape(res, row), 201, geo=bool(res.geometry))

    if res.creatable:
        router.add_api_route("", create, methods=["POST"], status_code=201,
                             summary=f"Create one of {res.name}")

    @router.patch("/{oid}", summary=f"Change one of {res.name}")
    async def update(request: Request, conn: ConnDep, user: UserDep,
                     oid: Annotated[int, Path(ge=1)],
                     body: update_model) -> JSONResponse:  # type: ignore[valid-type]
        values = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        geometry, crs = values.pop("geometry", None), values.pop("crs", None)
        row = await crud.update_object(conn, user, res, oid, values, geometry, crs,
                                       client_of(request))
        _wrote(request, res)
        return _json(_shape(res, row), geo=bool(res.geometry))

    @router.delete("/{oid}", status_code=204, summary=f"Delete one of {res.name}")
    async def delete(request: Request, conn: ConnDep, user: UserDep,
                     oid: Annotated[int, Path(ge=1)]) -> Response:
        await crud.delete_object(conn, user, res, oid, client_of(request))
        _wrote(request, res)
        return Response(status_code=204)

    return router


def _coerce(res: Resource, name: str, value: str) -> Any:
    from geo.errors import InvalidInput

    f = res.field(name)
    assert f is not None
    if f.parse is not None:
        return crud.parsed(f, value, name)
    try:
        if f.type is int:
            return int(value)
        if f.type is bool:
            return {"true": True, "false": False, "1": True, "0": False}[value.lower()]
    except (ValueError, KeyError):
        raise InvalidInput(f"{name}: {value!r} is not a {getattr(f.type, '__name__', f.type)}"
                           ) from None
    if f.choices and value not in f.choices:
        raise InvalidInput(f"{name}: {value!r} is not one of {', '.join(f.choices)}")
    return value


routers = [make_router(r) for r in RESOURCES.values()]
