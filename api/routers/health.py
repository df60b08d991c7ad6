"""``/healthz``: the service is up and the database answers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ConnDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
async def healthz(conn: ConnDep) -> JSONResponse:
    cur = await conn.execute("SELECT postgis_lib_version(), (SELECT count(*) FROM areas)")
    row = await cur.fetchone()
    assert row is not None
    return JSONResponse({"status": "ok", "database": "ok", "postgis": row[0], "areas": row[1]})


@router.get("/api/v1/ping", summary="No-op: the framework's floor (bench/lookup.py compares)")
async def ping() -> JSONResponse:
    return JSONResponse({"ok": True})
