"""Domain errors → HTTP status, in one place. Every error body says what is wrong and where."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from geo.errors import (
    Conflict,
    DraftInvalid,
    Forbidden,
    ImportRejected,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    SetupError,
    TooLarge,
    Unauthorized,
)

log = logging.getLogger("gridgov.api")


def _body(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status)


# Domain errors → HTTP status; the message of the exception is the body's ``detail``.
# (More specific classes first: PreconditionFailed is a Conflict.)
STATUS: dict[type[Exception], int] = {NotFound: 404, Unauthorized: 401, Forbidden: 403,
                                      PreconditionFailed: 412, PreconditionRequired: 428,
                                      Conflict: 409, TooLarge: 413,
                                      InvalidInput: 422, SetupError: 503}


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    resp = _body(status, str(exc))
    if status == 401:
        resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


def install(app: FastAPI) -> None:
    for cls in STATUS:
        app.add_exception_handler(cls, _domain)

    @app.exception_handler(ImportRejected)
    async def rejected(_: Request, exc: ImportRejected) -> JSONResponse:
        return _body(422, f"{exc.source}: nothing imported",
                     problems=[{"where": p.where, "what": p.what} for p in exc.problems])

    @app.exception_handler(DraftInvalid)
    async def invalid_draft(_: Request, exc: DraftInvalid) -> JSONResponse:
        return _body(409, str(exc), problems={"type": "FeatureCollection",
                                              "features": exc.problems})

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


# What every error answers, as the OpenAPI document says it (FastAPI's default describes its
# own validation list, which our handler replaces by one message and the problems).
PROBLEM_SCHEMA = {
    "title": "Problem", "type": "object", "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "what is wrong, and where"},
        "problems": {"type": "array", "items": {
            "type": "object", "properties": {"where": {"type": "string"},
                                             "what": {"type": "string"}}}},
    },
}


def document(app: FastAPI) -> None:
    """Make the OpenAPI document describe our error bodies."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        doc = original()
        schemas = doc.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = PROBLEM_SCHEMA
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
