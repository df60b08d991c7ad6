"""A draft's building assignment keeps the guarantees of foreign keys, checked a statement at
a time (migrations 0010, 0011): what it names must exist, its grid must be of its layer, and
deleting a building, grid or layer updates it."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from geo.db.queries import drafts as q

SQUARE = "ST_Multi(ST_GeomFromText('POLYGON((106.7 26.5,106.71 26.5,106.71 26.51,106.7 26.5))', 4326))"


def _layer(conn: psycopg.Connection, name: str) -> tuple[int, int]:
    """A draft layer with one grid: (layer id, grid id)."""
    (layer,) = conn.execute(
        "INSERT INTO grid_layers (theme, name, scope_code, status, draft_scope) "
        "VALUES ('unified', %s, '520602', 'draft', '520602') RETURNING id", (name,)).fetchone()
    (grid,) = conn.execute(
        f"INSERT INTO grids (layer_id, code, name, geom) VALUES (%s, '520602001001099', 'g', "
        f"{SQUARE}) RETURNING id", (layer,)).fetchone()
    return layer, grid


def _buildings(conn: psycopg.Connection, n: int) -> list[int]:
    """``n`` new buildings (nothing else refers to them)."""
    return [conn.execute("INSERT INTO buildings (address, geom) VALUES ('测试', "
                         "ST_SetSRID(ST_MakePoint(106.705, 26.502), 4326)) RETURNING id"
                         ).fetchone()[0] for _ in range(n)]


def _rows(conn: psycopg.Connection, layer: int) -> dict[int, int | None]:
    return dict(conn.execute("SELECT building_id, grid_id FROM draft_buildings WHERE layer_id = %s",
                             (layer,)).fetchall())


def _refused(conn: psycopg.Connection, sql: str, args: tuple) -> str:
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as e, conn.transaction():
        conn.execute(sql, args)
    return str(e.value)


INSERT = "INSERT INTO draft_buildings (layer_id, building_id, grid_id) VALUES (%s, %s, %s)"


def test_rows_must_name_what_exists(conn: psycopg.Connection) -> None:
    a, grid_a = _layer(conn, "a")
    _, grid_b = _layer(conn, "b")
    one, two = _buildings(conn, 2)
    conn.execute(INSERT, (a, one, grid_a))
    # a grid of another layer: the foreign key took it, the check does not
    assert f"building {two} to grid {grid_b} of layer {a}" in _refused(conn, INSERT, (a, two, grid_b))
    assert "no such building" in _refused(conn, INSERT, (a, -1, grid_a))
    _refused(conn, INSERT, (-5, two, None))
    _refused(conn, "UPDATE draft_buildings SET grid_id = %s WHERE layer_id = %s", (grid_b, a))
    conn.execute(INSERT, (a, two, None))  # unassigned is allowed
    assert _rows(conn, a) == {one: grid_a, two: None}


def test_deletes_reach_the_assignment(conn: psycopg.Connection) -> None:
    a, grid_a = _layer(conn, "a")
    b, grid_b = _layer(conn, "b")
    one, two, three = _buildings(conn, 3)
    conn.execute("INSERT INTO draft_buildings (layer_id, building_id, grid_id) VALUES "
                 "(%s, %s, %s), (%s, %s, %s), (%s, %s, %s)",
                 (a, one, grid_a, a, two, grid_a, b, three, grid_b))
    conn.execute("DELETE FROM grids WHERE id = %s", (grid_a,))
    assert _rows(conn, a) == {one: None, two: None}  # SET NULL
    conn.execute("DELETE FROM buildings WHERE id = %s", (one,))
    assert _rows(conn, a) == {two: None}  # CASCADE
    conn.execute("DELETE FROM grid_layers WHERE id = %s", (b,))  # its grid goes with it
    assert _rows(conn, b) == {}
    assert _rows(conn, a) == {two: None}


def test_grids_of_several_layers_deleted_at_once(conn: psycopg.Connection) -> None:
    """One statement deleting grids of two layers leaves exactly their buildings unassigned
    (migration 0011 finds them through the layers, with no index on the grid)."""
    a, grid_a = _layer(conn, "a")
    b, grid_b = _layer(conn, "b")
    c, grid_c = _layer(conn, "c")
    one, two, three = _buildings(conn, 3)
    conn.execute("INSERT INTO draft_buildings (layer_id, building_id, grid_id) VALUES "
                 "(%s, %s, %s), (%s, %s, %s), (%s, %s, %s), (%s, %s, %s)",
                 (a, one, grid_a, a, two, grid_a, b, three, grid_b, c, one, grid_c))
    conn.execute("DELETE FROM grids WHERE id IN (%s, %s)", (grid_a, grid_b))
    assert _rows(conn, a) == {one: None, two: None}
    assert _rows(conn, b) == {three: None}
    assert _rows(conn, c) == {one: grid_c}



def test_a_copy_into_an_empty_draft_is_checked_too(demo_url: str) -> None:
    """``queries.drafts.assign`` fills a draft without rows (a merge's) by COPY: the same
    statement triggers check it, and a bad row leaves nothing behind."""

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(demo_url) as aconn, \
                aconn.transaction(force_rollback=True):
            layer, grid = await _async_layer(aconn, "a")
            _, grid_b = await _async_layer(aconn, "b")
            one, two = [(await (await aconn.execute(
                "INSERT INTO buildings (address, geom) VALUES ('测试', "
                "ST_SetSRID(ST_MakePoint(106.705, 26.502), 4326)) RETURNING id")).fetchone())[0]
                for _ in range(2)]

            async def rows() -> dict[int, int | None]:
                cur = await aconn.execute("SELECT building_id, grid_id FROM draft_buildings "
                                          "WHERE layer_id = %s", (layer,))
                return dict(await cur.fetchall())

            with pytest.raises(psycopg.errors.ForeignKeyViolation,
                               match=f"grid {grid_b} of layer {layer}"):
                async with aconn.transaction():
                    await q.assign(aconn, layer, [one, two], [grid, grid_b])
            assert await rows() == {}
            await q.assign(aconn, layer, [one, two], [grid, None])
            assert await rows() == {one: grid, two: None}
            await q.assign(aconn, layer, [two], [grid])  # rows there now: an upsert
            assert await rows() == {one: grid, two: grid}

    asyncio.run(run())


async def _async_layer(aconn: psycopg.AsyncConnection, name: str) -> tuple[int, int]:
    cur = await aconn.execute(
        "INSERT INTO grid_layers (theme, name, scope_code, status, draft_scope) "
        "VALUES ('unified', %s, '520602', 'draft', '520602') RETURNING id", (name,))
    (layer,) = await cur.fetchone()
    cur = await aconn.execute(
        f"INSERT INTO grids (layer_id, code, name, geom) VALUES (%s, '520602001001099', 'g', "
        f"{SQUARE}) RETURNING id", (layer,))
    (grid,) = await cur.fetchone()
    return layer, grid


def test_a_scope_read_packed_equals_a_plain_read(demo_url: str) -> None:
    """``queries.drafts.scope_buildings`` packs a street's buildings on the server and reads
    them with NumPy: the same columns as a plain read row by row, with an assigned building,
    a current 楼栋长, a building with no point (empty) and one of another street left out."""

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(demo_url) as aconn, \
                aconn.transaction(force_rollback=True):
            layer, grid = await _async_layer(aconn, "a")
            cur = await aconn.execute(
                "INSERT INTO buildings (address, households, community_code, geom) VALUES "
                "('空点', 7, '520602001001', ST_GeomFromText('POINT EMPTY', 4326)), "
                "('别处', 3, '520602002001', ST_SetSRID(ST_MakePoint(106.7, 26.5), 4326)) "
                "RETURNING id")
            empty, elsewhere = [r[0] for r in await cur.fetchall()]
            cur = await aconn.execute("SELECT min(id) FROM buildings WHERE community_code "
                                      "LIKE '520602001%'")
            (first,) = await cur.fetchone()
            await q.assign(aconn, layer, [first], [grid])
            cur = await aconn.execute("""
                SELECT b.id, ST_X(b.geom), ST_Y(b.geom), b.households, b.community_code,
                       coalesce(d.grid_id, 0),
                       EXISTS (SELECT 1 FROM role_assignments r WHERE r.building_id = b.id
                               AND r.role = 'building_head' AND r.valid_from <= current_date
                               AND (r.valid_to IS NULL OR r.valid_to >= current_date))
                FROM buildings b LEFT JOIN draft_buildings d
                     ON d.layer_id = %s AND d.building_id = b.id
                WHERE b.community_code LIKE '520602001%%' ORDER BY b.id""", (layer,))
            plain = await cur.fetchall()
            packed = await q.scope_buildings(aconn, layer, "520602001")
        columns = ("id", "x", "y", "households", "community_code", "grid_id", "has_head")
        got = list(zip(*(packed[c].tolist() for c in columns), strict=True))
        assert len(got) == len(plain) > 100
        for a, b in zip(got, plain, strict=True):
            assert a[:1] + a[3:] == b[:1] + b[3:]
            assert (a[1], a[2]) == (b[1], b[2]) or (b[1] is None and a[1] != a[1])
        by_id = {row[0]: row for row in got}
        assert elsewhere not in by_id and by_id[first][5] == grid
        assert by_id[empty][1] != by_id[empty][1]  # NaN: no point
        assert any(row[6] for row in got)

    asyncio.run(run())
