"""Whether the nearest 党群服务中心 is open now, and the nearest one that is: the lookup's
``open_now`` and ``nearest_open`` against opening-hours-py evaluated on their own on the
centres' stored hours (read with psycopg) and distances measured by PostGIS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
import pytest
from opening_hours import OpeningHours, State

from geo.lookup import service_centre
from geo.lookup.centres import Network
from geo.lookup.index import Frame
from geo.network import Edges
from geo.settings import Settings
from tests.conftest import serve

Expected = tuple[bool | None, str | None]  # open_now, the name of nearest_open
FIXED = {"name", "address", "opening_hours", "lon", "lat", "straight_m"}
NO_EDGES = Edges(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                 np.zeros(0), [])


def stored_centres(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT id, name, opening_hours, ST_X(geom), ST_Y(geom) FROM facilities "
                        "WHERE category = 'party_service_center' ORDER BY id").fetchall()


def state(hours: str | None, local: datetime) -> bool | None:
    if hours is None:
        return None
    found = OpeningHours(hours).state(local)[0]
    return {State.OPEN: True, State.CLOSED: False}.get(found)


def expected(conn: psycopg.Connection, centres: list[tuple[Any, ...]], name: str, lon: float,
             lat: float, local: datetime) -> tuple[Expected, float | None]:
    """What the lookup should say at ``local`` when its nearest centre is ``name``, and the
    PostGIS distance to the nearest open centre."""
    is_open = state(next(h for _, n, h, _, _ in centres if n == name), local)
    if is_open is not False:
        return (is_open, None), None
    ids = [fid for fid, _, h, _, _ in centres if state(h, local)]
    row = conn.execute(
        "SELECT name, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
        "::geography) FROM facilities WHERE id = ANY(%s) ORDER BY 2, id LIMIT 1",
        (lon, lat, ids)).fetchone()
    return (False, row[0] if row else None), row[1] if row else None


def seen(centre: dict[str, Any]) -> Expected:
    other = centre["nearest_open"]
    if other is not None:
        assert set(other) == FIXED
    return centre["open_now"], other and other["name"]


def busy_zone(now: datetime) -> str | None:
    """A UTC offset at which it is now a weekday evening or a Saturday morning, when only some
    centres are open, so that ``nearest_open`` has something to say whatever the hour of the
    test run; None when no offset from -12 to +14 gets there (most of a Sunday)."""
    for hours in range(-12, 15):
        local = now + timedelta(hours=hours)
        if ((local.weekday() < 5 and 18 <= local.hour < 21)
                or (local.weekday() == 5 and 9 <= local.hour < 12)):
            return "Etc/GMT" + (f"{-hours:+d}" if hours else "")  # Etc/GMT-8 is UTC+8
    return None


@pytest.fixture(scope="module", params=["Asia/Shanghai", "busy"])
def zone_and_api(request: pytest.FixtureRequest, test_settings: Settings
                 ) -> Iterator[tuple[ZoneInfo, httpx.Client]]:
    zone = request.param if request.param != "busy" else busy_zone(datetime.now(UTC))
    settings = test_settings.model_copy(update={"rate_limit_per_minute": 0,
                                                "timezone": zone or "Asia/Shanghai"})
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield ZoneInfo(settings.timezone), client


def test_lookup_says_what_the_library_says_at_the_request_time(
        zone_and_api: tuple[ZoneInfo, httpx.Client], conn: psycopg.Connection) -> None:
    zone, api = zone_and_api
    centres = stored_centres(conn)
    points = [(lon, lat) for _, _, _, lon, lat in centres]  # each centre's own door
    points += conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM areas WHERE "
        "level = 'community' ORDER BY md5(code) LIMIT 12) x").fetchall()
    for lon, lat in points:
        before = datetime.now(zone).replace(tzinfo=None)
        r = api.get("/api/v1/lookup", params={"lon": repr(lon), "lat": repr(lat)})
        after = datetime.now(zone).replace(tzinfo=None)
        assert r.status_code == 200, r.text
        centre = r.json()["service_centre"]
        # the answer was made between the two instants: if a centre opened or closed in
        # between, either side's expectation is right
        (first, metres), (last, _) = (expected(conn, centres, centre["name"], lon, lat, t)
                                      for t in (before, after))
        assert seen(centre) in (first, last), (lon, lat, before, centre["name"])
        if seen(centre) == first and metres is not None:
            assert centre["nearest_open"]["straight_m"] == pytest.approx(metres, abs=0.2)


def test_open_now_and_nearest_open_at_chosen_instants(conn: psycopg.Connection) -> None:
    """The same comparison at instants chosen to meet every case, in an order that goes back
    in time too (the district's open centres are kept until one of them changes)."""
    centres = stored_centres(conn)
    coords = np.array([(lon, lat) for *_, lon, lat in centres])
    frame = Frame.of((*coords.min(axis=0).tolist(), *coords.max(axis=0).tolist()))
    network = Network.build(NO_EDGES, [(fid, n, None, h, lon, lat)
                                       for fid, n, h, lon, lat in centres], frame)
    monday = datetime(2025, 3, 3)
    instants = [monday + timedelta(hours=h) for h in (19, 10, 19.5, 17.75, 21, 8.5, 20.99)]
    instants += [monday + timedelta(days=5, hours=10), monday + timedelta(days=6, hours=15),
                 monday + timedelta(days=4, hours=18), monday + timedelta(days=5, hours=12)]
    cases = set()
    for local in instants:
        for _, _, _, lon, lat in centres:
            lon += 0.0004  # beside the door, so the nearest is this centre
            centre = json.loads(service_centre(network, None, lon, lat, 4.0, local))
            (want, metres) = expected(conn, centres, centre["name"], lon, lat, local)
            assert seen(centre) == want, (local, centre["name"])
            if metres is not None:
                assert centre["nearest_open"]["straight_m"] == pytest.approx(metres, abs=0.2)
            cases.add((want[0], want[1] is not None))
    # open; closed with an open one elsewhere; closed with none open anywhere
    assert cases == {(True, False), (False, True), (False, False)}


def test_hours_missing_or_unreadable_are_null_and_chinese_is_read() -> None:
    frame = Frame.of((109.1, 27.6, 109.4, 27.9))
    monday_evening = datetime(2025, 3, 3, 19)
    rows = [(1, "无时间", None, None, 109.21, 27.73), (2, "看不懂", None, "随时欢迎", 109.22, 27.73),
            (3, "中文错时", None, "周一至周五 8:30-17:30；工作日 18:00-21:00", 109.25, 27.73),
            (4, "只上白班", None, "Mo-Fr 08:30-17:30", 109.201, 27.73)]
    network = Network.build(NO_EDGES, rows, frame)

    def at(lon: float) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(service_centre(network, None, lon, 27.73, 4.0,
                                                          monday_evening))
        return found

    for lon, name in ((109.21, "无时间"), (109.22, "看不懂")):
        assert at(lon)["name"] == name
        assert at(lon)["open_now"] is None and at(lon)["nearest_open"] is None
    assert at(109.25)["open_now"] is True and at(109.25)["nearest_open"] is None
    closed = at(109.2)
    assert closed["name"] == "只上白班" and closed["open_now"] is False
    assert closed["nearest_open"]["name"] == "中文错时"
    assert closed["nearest_open"]["straight_m"] == pytest.approx(4928, abs=5)  # 0.05° at 27.73°N
