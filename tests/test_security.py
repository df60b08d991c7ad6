"""Security headers on every answer, a Content-Security-Policy of our own origin on the pages,
and CORS only for the origins the settings allow."""

from __future__ import annotations

import httpx

from geo.settings import Settings
from tests.conftest import serve


def test_headers_on_answers_and_pages(live_server: str) -> None:
    for path in ("/api/v1/areas?level=district", "/report", "/api/v1/areas/999999", "/nope"):
        r = httpx.get(f"{live_server}{path}")
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == \
            "no-referrer", path
    page = httpx.get(f"{live_server}/dashboard").headers["content-security-policy"]
    assert "default-src 'self'" in page and "frame-ancestors 'none'" in page
    assert "http" not in page  # no other origin
    assert "content-security-policy" not in httpx.get(f"{live_server}/api/v1/ping").headers


def test_cors_only_for_configured_origins(live_server: str, test_settings: Settings) -> None:
    asked = {"Origin": "https://portal.example.cn", "Access-Control-Request-Method": "GET"}
    r = httpx.options(f"{live_server}/api/v1/areas", headers=asked)
    assert "access-control-allow-origin" not in r.headers  # none by default
    allowed = test_settings.model_copy(update={"cors_origins": ["https://portal.example.cn"]})
    with serve(allowed) as base:
        r = httpx.options(f"{base}/api/v1/areas", headers=asked)
        assert r.headers["access-control-allow-origin"] == "https://portal.example.cn"
        other = httpx.options(f"{base}/api/v1/areas", headers={**asked,
                                                                "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
