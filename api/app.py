"""The FastAPI application factory. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from psycopg_pool import AsyncConnectionPool

from api import errors, ratelimit, security
from api.routers import (
    areas,
    audit,
    auth,
    circle,
    circle_tiles,
    coverage,
    drafts,
    export,
    features,
    generations,
    health,
    heatmap,
    issues,
    lookup,
    merges,
    ogc,
    pages,
    reports,
    resources,
    search,
    tiles,
)
from geo.circle.cache import CircleCache
from geo.db.changes import Changes
from geo.db.connect import database_url
from geo.db.fresh import FreshCache
from geo.issue_cells import IssueCellCache
from geo.lookup import LookupCache, lookup_many
from geo.lookup.batch import Batcher
from geo.plan import parallel
from geo.settings import Settings, get_settings
from tiles.cache import TileCache


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(
            database_url(settings), min_size=settings.pool_min_size,
            max_size=settings.pool_max_size, kwargs={"autocommit": True}, open=False,
            # a connection is checked when handed out: after the database restarts, stale
            # ones are replaced instead of failing the next requests
            timeout=10.0, check=AsyncConnectionPool.check_connection,
        )
        await pool.open(wait=False)
        app.state.pool = pool
        changes = app.state.changes = Changes()
        changes.start(database_url(settings))
        cache = app.state.lookup_cache = LookupCache(pool, changes, near_m=settings.near_boundary_m)
        app.state.lookup_batcher = Batcher(partial(lookup_many, cache, settings))
        app.state.tile_cache = TileCache(changes, settings.tile_cache_mb)
        app.state.fresh = FreshCache(pool, changes)  # values kept until their data change
        app.state.issue_cells = IssueCellCache(app.state.fresh)
        app.state.circle = CircleCache(app.state.fresh, database_url(settings))
        # the planner's worker processes start in the background: the first district edit
        # does not wait for them
        asyncio.get_running_loop().run_in_executor(None, parallel.warm)
        # What startup made (modules, the app, its caches) lives as long as the server: kept
        # out of the collector's full passes, which otherwise walked all of it whenever a
        # request made many objects (a district's 10⁵ building points took 0.15–0.3 s to make
        # instead of 0.02 s)
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await changes.stop()
            await pool.close()
            await asyncio.to_thread(parallel.shutdown)

    app = FastAPI(
        title="gridgov",
        summary="Grid governance (网格化治理) for Chinese urban communities on PostGIS.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    errors.install(app)
    errors.document(app)
    app.include_router(health.router)
    app.include_router(lookup.router, prefix="/api/v1")
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(areas.router, prefix="/api/v1")
    app.include_router(features.router, prefix="/api/v1")
    app.include_router(auth.router, prefix="/api/v1")
    # before the CRUD routers: /issues/queue is not /issues/{id}
    app.include_router(issues.router, prefix="/api/v1")
    for router in resources.routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(audit.router, prefix="/api/v1")
    app.include_router(coverage.router, prefix="/api/v1")
    app.include_router(heatmap.router, prefix="/api/v1")
    app.include_router(reports.router, prefix="/api/v1")
    app.include_router(circle_tiles.router, prefix="/api/v1")
    app.include_router(circle.router, prefix="/api/v1")
    app.include_router(merges.router, prefix="/api/v1")
    app.include_router(drafts.router, prefix="/api/v1")
    app.include_router(generations.router, prefix="/api/v1")
    app.include_router(export.router, prefix="/api/v1")
    app.include_router(tiles.router)
    app.include_router(ogc.router)
    ratelimit.install(app, settings)
    security.install(app, settings)  # added last, so outermost: 429s carry the headers too
    pages.mount(app, settings)
    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory`` with several workers."""
    return create_app(get_settings())
