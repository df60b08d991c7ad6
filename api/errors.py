"""Domain errors → HTTP status, in one place. Every error body says what is wrong and where."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from geo.errors import (
    Conflict,
    Forbidden,
    ImportRejected,
    InvalidInput,
    NotFound,
    SetupError,
    Unauthorized,
)

log = logging.getLogger("gridgov.api")


def _body(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _body(404, str(exc))

    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        resp = _body(401, str(exc))
        resp.headers["WWW-Authenticate"] = "Bearer"
        return resp

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return _body(403, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _body(409, str(exc))

    @app.exception_handler(ImportRejected)
    async def rejected(_: Request, exc: ImportRejected) -> JSONResponse:
        return _body(422, f"{exc.source}: nothing imported",
                     problems=[{"where": p.where, "what": p.what} for p in exc.problems])

    @app.exception_handler(InvalidInput)
    async def invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return _body(422, str(exc))

    @app.exception_handler(SetupError)
    async def setup(_: Request, exc: SetupError) -> JSONResponse:
        return _body(503, str(exc))

    @app.exception_handler(psycopg.OperationalError)
    async def db_down(_: Request, exc: psycopg.OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return _body(503, "the database is unavailable; try again shortly")

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e["loc"]), "what": e["msg"]}
                    for e in exc.errors()]
        first = problems[0] if problems else {"where": "request", "what": "invalid"}
        return _body(422, f"{first['where']}: {first['what']}", problems=problems)
