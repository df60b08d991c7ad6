"""Security headers on every answer, and CORS for the origins the settings allow.

- Every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``X-Frame-Options: DENY`` (no page of ours is meant to be framed), and
  ``Cross-Origin-Opener-Policy: same-origin``.
- Our HTML pages: a Content-Security-Policy that allows only what we serve ourselves:
  scripts from us (MapLibre's workers are blob: URLs it makes), styles from us plus inline
  ones (MapLibre and our pages set element styles), images from us and data:/blob:; no
  frames, no other origin. Downloaded reports carry their own inline scripts and are not pages
  of this origin, so they get none.
- CORS: none by default (the pages are same-origin); ``GRIDGOV_CORS_ORIGINS`` lists origins
  (e.g. a city portal) allowed to call the API from a browser, GET/POST with the
  Authorization header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from geo.settings import Settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]

HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin")]
CSP = (b"default-src 'self'; script-src 'self'; worker-src 'self' blob:; "
       b"child-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       b"connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       b"base-uri 'none'; form-action 'self'")


# the API, and the interactive docs FastAPI serves (Swagger UI and ReDoc load their scripts
# and an inline one): no page of ours
NO_CSP = ("/api/", "/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                kind = dict(headers).get(b"content-type", b"")
                if kind.startswith(b"text/html") and not scope["path"].startswith(NO_CSP):
                    headers.append((b"content-security-policy", CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type",
                                          "If-Match"], expose_headers=["ETag"], max_age=600)
