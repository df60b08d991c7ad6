"""The lookup's in-memory indexes against PostGIS itself, their freshness (change
notifications), and the batching of concurrent requests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import psycopg
import pytest
import shapely
from psycopg_pool import AsyncConnectionPool

from geo.db.changes import CHANNEL
from geo.db.queries.lookup import HEAD_ROLE
from geo.errors import NotFound
from geo.lookup import LookupCache, lookup_many
from geo.lookup.batch import Batcher
from geo.lookup.cards import Cards
from geo.lookup.index import Buildings, People
from geo.settings import Settings

ACTIVE = ("SELECT g.id, g.code, g.geom FROM grids g JOIN grid_layers l ON l.id = g.layer_id "
          "WHERE l.theme = 'unified' AND l.status = 'active'")


def sample_points(conn: psycopg.Connection) -> list[tuple[float, float]]:
    """Random points over the demo city's grids and beyond them, every building's centre,
    and vertices that lie exactly on grid edges."""
    rows = conn.execute(
        "WITH box AS (SELECT ST_Expand(ST_Extent(geom)::geometry, 0.01) AS b FROM "
        "active_grid_parts) SELECT ST_X(p.geom), ST_Y(p.geom) FROM box, "
        "ST_Dump(ST_GeneratePoints(b, 400, 7)) p "
        "UNION ALL SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(footprint) c "
        "FROM buildings WHERE footprint IS NOT NULL ORDER BY id LIMIT 150) b "
        f"UNION ALL SELECT ST_X(v), ST_Y(v) FROM (SELECT (ST_DumpPoints(geom)).geom v "
        f"FROM ({ACTIVE}) a ORDER BY md5(code) LIMIT 6) g").fetchall()
    return [(float(x), float(y)) for x, y in rows]


def postgis_answer(conn: psycopg.Connection, lon: float, lat: float) -> tuple[Any, ...]:
    """The same questions asked of PostGIS: grid (ST_Covers, smallest code), building
    (smallest id), community, and the grids within 30 m other than the hit."""
    p = "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)"
    row = conn.execute(
        f"SELECT (SELECT code FROM ({ACTIVE}) a WHERE ST_Covers(a.geom, {p}) ORDER BY code "
        f"LIMIT 1), (SELECT address FROM buildings WHERE ST_Covers(footprint, {p}) ORDER BY id "
        f"LIMIT 1), (SELECT code FROM areas WHERE level = 'community' AND ST_Covers(geom, {p}) "
        f"ORDER BY code LIMIT 1)", {"x": lon, "y": lat}).fetchone()
    assert row is not None
    near = {r[0] for r in conn.execute(
        f"SELECT code FROM ({ACTIVE}) a WHERE ST_DWithin(a.geom::geography, {p}::geography, 30) "
        "AND code IS DISTINCT FROM %(hit)s", {"x": lon, "y": lat, "hit": row[0]}).fetchall()}
    return row[0], row[1], row[2], near


@pytest.fixture
def cache_run(test_settings: Settings) -> Any:
    """Run a coroutine against a fresh cache on its own pool (listener not started)."""
    def run(body: Any) -> Any:
        async def main() -> Any:
            async with AsyncConnectionPool(test_settings.database_url, open=False,
                                           kwargs={"autocommit": True}) as pool:
                return await body(LookupCache(pool))
        return asyncio.run(main())
    return run


def test_memory_answers_equal_postgis(cache_run: Any, conn: psycopg.Connection,
                                      test_settings: Settings) -> None:
    points = sample_points(conn)

    async def body(cache: LookupCache) -> list[Any]:
        # one batch of everything as soon as the parts are loaded (the cell indexes are
        # still being built: the trees answer), then the same points one at a time once
        # the cells are ready: the same answers
        together = _parsed(await lookup_many(cache, test_settings, points))
        city = await cache.city()
        for code in city.boxes:
            await (await cache.district(city, code)).cells.ready()
        alone = _parsed([(await lookup_many(cache, test_settings, [p]))[0]
                         for p in points[::3]])
        assert [_key(a) for a in alone] == [_key(a) for a in together[::3]]
        return together

    answers = cache_run(body)
    grids = outside = near_seen = 0
    for (lon, lat), answer in zip(points, answers, strict=True):
        grid, building, community, near = postgis_answer(conn, lon, lat)
        if community is None and grid is None:
            assert isinstance(answer, NotFound)
            outside += 1
            continue
        assert not isinstance(answer, NotFound), (lon, lat)
        assert (answer["grid"] or {}).get("code") == grid, (lon, lat)
        assert (answer["building"] or {}).get("address") == building, (lon, lat)
        got = {n["grid"]["code"] for n in answer["neighbours"]}
        # PostGIS measures on the spheroid, we in the Gauss-Krüger zone: a grid exactly at
        # the 30 m limit may fall either way, nothing more.
        assert got == near or all(abs(_distance(conn, c, lon, lat) - 30) < 0.1
                                  for c in got ^ near), (lon, lat, got, near)
        grids += grid is not None
        near_seen += bool(near)
    assert grids > 300 and outside > 20 and near_seen > 50


def _parsed(answers: list[Any]) -> list[Any]:
    """The answers' JSON text parsed (a NotFound stays as it is)."""
    return [a if isinstance(a, NotFound) else json.loads(a) for a in answers]


def _key(answer: Any) -> Any:
    if isinstance(answer, NotFound):
        return str(answer)
    return answer["grid"], answer["building"], answer["neighbours"], answer["service_centre"]


def _distance(conn: psycopg.Connection, code: str, lon: float, lat: float) -> float:
    row = conn.execute(f"SELECT ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), "
                       f"4326)::geography) FROM ({ACTIVE}) a WHERE code = %s",
                       (lon, lat, code)).fetchone()
    assert row is not None
    return float(row[0])


def test_a_change_reloads_only_the_parts_that_depend_on_it(cache_run: Any,
                                                          test_settings: Settings) -> None:
    async def body(cache: LookupCache) -> None:
        cache.changes.listening = True  # as if the listener were connected
        city = await cache.city()
        await cache.district(city, "520602")
        loads = cache.loads
        await cache.district(city, "520602")
        assert cache.loads == loads  # all current: nothing read again
        cache.changes.changed("people")
        await cache.district(city, "520602")
        assert cache.loads == loads + 1  # contacts only
        cache.changes.changed("grids")
        await cache.district(city, "520602")
        assert cache.loads == loads + 3  # the grids and the contacts that hang on them
        cache.changes.changed("mystery")  # an unknown topic: everything is stale
        await cache.city()
        await cache.district(city, "520602")
        assert cache.loads == loads + 3 + 5

    cache_run(body)


def test_without_the_listener_parts_are_trusted_briefly(cache_run: Any) -> None:
    async def body(cache: LookupCache) -> None:
        cache.unheard_seconds = 0.2
        await cache.city()
        loads = cache.loads
        await cache.city()
        assert cache.loads == loads
        await asyncio.sleep(0.25)
        await cache.city()
        assert cache.loads == loads + 1

    cache_run(body)


def test_committed_writes_notify_their_topic_and_rollbacks_do_not(demo_url: str) -> None:
    with psycopg.connect(demo_url, autocommit=True) as listener, \
            psycopg.connect(demo_url) as writer:
        listener.execute(f"LISTEN {CHANNEL}")
        writer.execute("UPDATE people SET name = name WHERE id = (SELECT min(id) FROM people)")
        writer.rollback()
        writer.execute("UPDATE walk_edges SET length_m = length_m WHERE id = "
                       "(SELECT min(id) FROM walk_edges)")
        writer.execute("UPDATE facilities SET name = name WHERE false")
        writer.commit()
        heard = [n.payload for n in listener.notifies(timeout=2.0, stop_after=1)]
        time.sleep(0.2)
        heard += [n.payload for n in listener.notifies(timeout=0.2)]
    assert heard == ["network"]  # one, folded, and nothing from the rolled-back write


def test_concurrent_requests_are_answered_together_in_order() -> None:
    sizes: list[int] = []

    async def run(points: Sequence[tuple[float, float]]) -> list[Any]:
        sizes.append(len(points))
        await asyncio.sleep(0)
        return [ValueError(f"bad {x}") if x < 0 else x * 10 for x, _ in points]

    async def main() -> list[Any]:
        batcher = Batcher(run, max_size=8)
        xs = [1, 2, -3, 4, 5, 6, 7, 8, 9, 10, 11]
        results = await asyncio.gather(*(batcher(x, 0.0) for x in xs), return_exceptions=True)
        alone = await batcher(12, 0.0)
        return [*results, alone]

    results = asyncio.run(main())
    assert [r if not isinstance(r, Exception) else str(r) for r in results] == \
        [10, 20, "bad -3", 40, 50, 60, 70, 80, 90, 100, 110, 120]
    assert sizes == [8, 3, 1]


def test_a_failed_batch_fails_each_of_its_requests() -> None:
    async def run(points: Sequence[tuple[float, float]]) -> list[Any]:
        raise psycopg.OperationalError("database is down")

    async def main() -> list[Any]:
        batcher = Batcher(run)
        return await asyncio.gather(*(batcher(x, 0.0) for x in range(3)),
                                    return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, psycopg.OperationalError) for r in results)
    assert np.unique([str(r) for r in results]).tolist() == ["database is down"]


def test_followers_are_answered_when_their_leader_is_cancelled() -> None:
    async def run(points: Sequence[tuple[float, float]]) -> list[Any]:
        await asyncio.sleep(0.01)
        return [x * 10 for x, _ in points]

    async def main() -> tuple[bool, list[Any]]:
        batcher = Batcher(run)
        leader = asyncio.ensure_future(batcher(1, 0.0))
        followers = [asyncio.ensure_future(batcher(x, 0.0)) for x in (2, 3)]
        await asyncio.sleep(0)  # all three joined one batch; the leader now runs it
        await asyncio.sleep(0)
        leader.cancel()
        answers = await asyncio.gather(*followers)
        return leader.cancelled(), answers

    cancelled, answers = asyncio.run(main())
    assert cancelled
    assert answers == [20, 30]


def test_cards_follow_the_day() -> None:
    """A card is encoded once per day: the next day a head whose post ended is gone."""
    square = shapely.to_wkb(shapely.box(109.0, 27.0, 109.001, 27.001))
    buildings = Buildings.build([(7, "锦江路1号", "锦江小区", 120, square)])
    head = (None, 7, HEAD_ROLE, "楼栋长甲", "13800001111", None, date(2026, 1, 1),
            date(2026, 6, 30))
    people = People.build([head], [])
    cards = Cards(None, None, people, buildings)  # type: ignore[arg-type]
    before = json.loads(cards.building(0, date(2026, 6, 30)))
    assert before["head"]["name"] == "楼栋长甲" and before["head"]["phone"] == "138****1111"
    assert json.loads(cards.building(0, date(2026, 7, 1)))["head"] is None
