"""The server's log holds no personal data: ``gridgov serve`` (with its access log on) is asked
for a lookup (a resident's whereabouts), a report with the reporter's name and phone, and
people's records; its log then names the paths and statuses, never the coordinates, the
names or the phones."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import psycopg

from tests.conftest import ACCOUNT_PASSWORD
from tests.importer_files import ROOT


def test_no_personal_data_in_the_servers_log(demo_url: str,
                                             accounts: dict[str, dict[str, str]]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRIDGOV_DATABASE_URL": demo_url, "GRIDGOV_RATE_LIMIT_PER_MINUTE": "0"}
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gridgov"), "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    with psycopg.connect(demo_url) as conn:
        name, phone = conn.execute("SELECT name, phone FROM people WHERE phone IS NOT NULL "
                                   "ORDER BY id LIMIT 1").fetchone()  # type: ignore[misc]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.3)
        assert httpx.get(f"{base}/api/v1/lookup", params={"lon": 109.1876543,
                                                          "lat": 27.7345678}).status_code == 200
        r = httpx.post(f"{base}/api/v1/issues/report", data={
            "category": "物业", "description": "测试日志", "lon": 109.1876543,
            "lat": 27.7345678, "reporter_name": "日志测试人", "reporter_phone": "13912345678"})
        assert r.status_code in (201, 422)
        token = httpx.post(f"{base}/api/v1/auth/token", data={
            "username": accounts["admin"]["username"], "password": ACCOUNT_PASSWORD}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        assert httpx.get(f"{base}/api/v1/people", params={"limit": 50},
                         headers=auth).status_code == 200
        assert httpx.get(f"{base}/api/v1/people", params={"phone": phone},
                         headers=auth).status_code in (200, 422)
    finally:
        proc.terminate()
        log = proc.communicate(timeout=30)[0]
    assert "GET /api/v1/lookup" in log and "POST /api/v1/issues/report" in log  # it did log
    for secret in ("109.1876543", "27.7345678", "日志测试人", "13912345678", name, phone):
        assert secret not in log, secret
