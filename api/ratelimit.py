"""Per-client rate limit on the public endpoints (lookup, search, export, 民情 reports): a token bucket per
``client.host``, refilled at ``rate_limit_per_minute``, holding at most ``rate_limit_burst``.

A plain ASGI middleware (no per-request task or body wrapping), installed only when the limit
is on (``rate_limit_per_minute > 0``). Requests to other paths pass straight through.
Authenticated callers are counted like everyone else unless ``exempt`` says otherwise (the
hook for the access model: it gets the ASGI scope and answers True to skip the limit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI
from pydantic_core import to_json

from geo.settings import Settings

PUBLIC_PATHS = ("/api/v1/lookup", "/api/v1/search", "/api/v1/export", "/api/v1/issues/report",
                "/api/v1/issues/receipt", "/api/v1/issues/board")
Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]


class TokenBucket:
    """Tokens per key: ``take`` returns 0 when a request may go, else the seconds to wait."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.max_keys = max_keys
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, last = self._state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._state[key] = (tokens - 1.0, now)
            if len(self._state) > self.max_keys:
                self._forget(now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        """Drop clients whose bucket has refilled (they are indistinguishable from new ones)."""
        full = (self.burst) / self.rate
        self._state = {k: v for k, v in self._state.items() if now - v[1] < full}


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int, burst: int,
                 paths: Iterable[str] = PUBLIC_PATHS,
                 exempt: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.bucket = TokenBucket(per_minute, burst)
        self.paths = frozenset(paths)
        self.exempt = exempt
        self.message = (f"rate limit: {per_minute} requests per minute per client "
                        f"(bursts of {max(burst, 1)}); slow down and retry")

    def _limited(self, path: str) -> bool:
        """The public paths and everything below them (``/api/v1/export/grids``)."""
        path = path.rstrip("/")
        return any(path == p or path.startswith(p + "/") for p in self.paths)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or not self._limited(scope["path"]) or (
                self.exempt is not None and self.exempt(scope)):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.bucket.take(client[0] if client else "unknown")
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        body = to_json({"detail": f"{self.message} in {retry} s", "retry_after": retry})
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"retry-after", str(retry).encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> None:
    """Add the limit to ``app`` when the settings turn it on."""
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(RateLimitMiddleware, per_minute=settings.rate_limit_per_minute,
                           burst=settings.rate_limit_burst)
