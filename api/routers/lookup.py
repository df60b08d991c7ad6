"""``/api/v1/lookup``: who is my grid worker, and where is the nearest 党群服务中心 (public)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from geo.lookup import parse_point
from geo.lookup.batch import Batcher


class BareRoute(APIRoute):
    """A route whose endpoint takes the request alone and returns a ``Response``: documented
    in the OpenAPI like any other (parameters given in ``openapi_extra``), but its handler is
    the endpoint itself (FastAPI's custom-route hook), without the per-request dependency
    solving and response serialisation, which have nothing to do here and cost a good part
    of a lookup's own work (bench/lookup.py)."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        wanted = self.dependant
        if (wanted.path_params or wanted.query_params or wanted.header_params
                or wanted.cookie_params or wanted.body_params or wanted.dependencies
                or wanted.request_param_name is None):
            raise TypeError(f"{path}: a bare route's endpoint takes only the request")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)


router = APIRouter(tags=["lookup"], route_class=BareRoute)
JSON = "application/json"


def _param(name: str, description: str, example: str | None, required: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if example:
        schema["examples"] = [example]
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


PARAMETERS = [
    _param("lon", "Longitude (or easting for a projected EPSG code)", "109.19", True),
    _param("lat", "Latitude (or northing)", "27.73", True),
    _param("crs", "wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:<code>", None, False),
]


@router.get(
    "/lookup",
    summary="Street, community, grid, contacts and nearest 党群服务中心 of a point",
    description="Public. Phones are work numbers or masked (138****5678). A point within "
    "`near_boundary_m` of a neighbouring grid is flagged and the neighbour's contacts are "
    "offered. 404 outside every community; 422 names the bad parameter.",
    openapi_extra={"parameters": PARAMETERS},
)
async def lookup_point(request: Request) -> Response:
    # The hot path reads its three parameters itself (parse_point validates them and names
    # the bad one) and takes no dependencies: FastAPI's parameter solving, a sync
    # dependency's thread-pool hop and a generator dependency's exit stack cost more per
    # request than the rest of the Python work together (measured by bench/lookup.py).
    query = request.query_params
    x, y = parse_point(query.get("lon"), query.get("lat"), query.get("crs"))
    batcher: Batcher = request.app.state.lookup_batcher
    return Response(await batcher(x, y), media_type=JSON)
