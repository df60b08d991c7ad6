"""Address search over buildings, compounds (小区) and facilities, tolerant of partial and
misordered Chinese input ("锦江 3栋", "3栋 锦江花园", "锦江花园3栋").

The query is split into units: a number or Latin token with the one CJK character after it
("3栋", "118号", "A座") matched only at a digit boundary, so "3栋" never matches "13栋"; and
CJK runs broken into overlapping bigrams ("锦江花园" → 锦江, 江花, 花园). A row's score is the
share of units found in its text; rows are ranked by score, then shorter label, then id.

Why no index: the units are mostly two characters long, and a trigram index (pg_trgm) cannot
answer a two-character substring; pg_trgm is not installed either. (On this cluster, PostgreSQL
15 with lc_ctype C.UTF-8 on Debian 12, pg_trgm does extract trigrams from CJK text; checked in
a scratch database.) The plain scan below reads the demo's ~4,600 short strings in 4–11 ms
(one statement, measured on a 2-core machine): fine for a district, not for a province,
which would want a bigram index (e.g. GIN over an array of bigrams, through a migration).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.errors import InvalidInput

MAX_QUERY = 64
MIN_SCORE = 0.5  # a row must contain at least half of the query's units
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNIT = re.compile(rf"([0-9a-z]+)([{_CJK}])?|([{_CJK}]+)")


@dataclass(frozen=True)
class Units:
    """``plain``: matched as substrings; number ``tokens`` with their ``patterns`` (regular
    expressions that add the digit boundary)."""

    plain: list[str]
    tokens: list[str]
    patterns: list[str]
    shown: list[str]

    @property
    def count(self) -> int:
        return len(self.plain) + len(self.tokens)


def _token_pattern(alnum: str, suffix: str | None) -> str:
    # A number must not continue a longer one on the left ("3栋" in "13栋"), nor on the
    # right when it has no unit character after it ("3" in "35").
    left = "(^|[^0-9a-z])" if alnum[0].isalnum() else ""
    right = re.escape(suffix) if suffix else "([^0-9a-z]|$)"
    return left + re.escape(alnum) + right


def split_units(text: str) -> Units:
    """Units of a search text (normalised NFKC, lower case; punctuation and spaces separate)."""
    norm = unicodedata.normalize("NFKC", text).lower()
    plain: list[str] = []
    tokens: list[str] = []
    patterns: list[str] = []
    shown: list[str] = []
    number_end = -1
    for m in _UNIT.finditer(norm):
        alnum, suffix, run = m.groups()
        if alnum:
            token = alnum + (suffix or "")
            if token not in shown:
                shown.append(token)
                tokens.append(token)
                patterns.append(_token_pattern(alnum, suffix))
            number_end = m.end() if suffix else -1
            continue
        if len(run) == 1 and m.start() == number_end:
            continue  # the 元 of "3单元": it only repeats the unit
        grams = [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
        for g in grams:
            if g not in shown:
                shown.append(g)
                plain.append(g)
    return Units(plain, tokens, patterns, shown)


def parse_query(q: str | None) -> Units:
    text = (q or "").strip()
    if not text:
        raise InvalidInput("q: empty; type part of an address, a 小区 or a facility name")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"q: {len(text)} characters; at most {MAX_QUERY}")
    units = split_units(text)
    if not units.count:
        raise InvalidInput(f"q: {text!r} has no letters, digits or Chinese characters")
    return units


def _score(units: Units, params: dict[str, Any]) -> sql.Composable:
    """One boolean term per unit, summed: plain expressions, no per-row subquery. A number
    token is first looked for as a plain substring so the regex only runs on the few rows
    that contain it."""
    terms: list[sql.Composable] = []
    for i, unit in enumerate(units.plain):
        params[f"u{i}"] = unit
        terms.append(sql.SQL("(strpos(hay, {}) > 0)::int").format(sql.Placeholder(f"u{i}")))
    for i, (token, pattern) in enumerate(zip(units.tokens, units.patterns, strict=True)):
        params[f"t{i}"], params[f"r{i}"] = token, pattern
        if token.isascii() and not token.isdigit() and any(ch.isalpha() for ch in token):
            # Latin letters: case-insensitive (lower() on every row would cost more).
            terms.append(sql.SQL("(hay ~* {})::int").format(sql.Placeholder(f"r{i}")))
        else:
            terms.append(sql.SQL("(strpos(hay, {}) > 0 AND hay ~ {})::int").format(
                sql.Placeholder(f"t{i}"), sql.Placeholder(f"r{i}")))
    return sql.SQL(" + ").join(terms)


SEARCH = """
WITH cand AS MATERIALIZED (
    SELECT 'building' AS type, b.id, b.address AS label,
           b.address || coalesce(' ' || c.name, '') || coalesce(' ' || b.name, '') AS hay,
           b.community_code
    FROM buildings b LEFT JOIN compounds c ON c.id = b.compound_id
    UNION ALL
    SELECT 'compound', c.id, c.name, c.name, c.community_code FROM compounds c
    UNION ALL
    SELECT 'facility', f.id, f.name, f.name || coalesce(' ' || f.address, ''), f.community_code
    FROM facilities f
), scored AS (
    SELECT type, id, label, community_code, ({score})::float8 / %(n)s AS score FROM cand
), top AS (
    SELECT * FROM scored WHERE score >= %(min_score)s
    ORDER BY score DESC, length(label), id, type LIMIT %(limit)s
)
SELECT t.type, t.id, t.label, t.community_code, a.name AS community_name,
       round(t.score::numeric, 3)::float8 AS score,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM top t
LEFT JOIN areas a ON a.code = t.community_code
LEFT JOIN LATERAL (
    SELECT CASE t.type
        WHEN 'building' THEN (SELECT geom FROM buildings WHERE id = t.id)
        WHEN 'facility' THEN (SELECT geom FROM facilities WHERE id = t.id)
        ELSE (SELECT coalesce(ST_PointOnSurface(c.geom),
                              (SELECT ST_Centroid(ST_Collect(b.geom)) FROM buildings b
                               WHERE b.compound_id = c.id))
              FROM compounds c WHERE c.id = t.id)
    END AS geom
) p ON TRUE
ORDER BY t.score DESC, length(t.label), t.id, t.type
"""


def search_sql(units: Units, limit: int) -> tuple[sql.Composed, dict[str, Any]]:
    params: dict[str, Any] = {"n": units.count, "limit": limit, "min_score": MIN_SCORE}
    query = sql.SQL(SEARCH).format(score=_score(units, params))
    return query, params


async def search(conn: AsyncConnection, units: Units, limit: int) -> list[dict[str, Any]]:
    query, params = search_sql(units, limit)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        rows = await cur.fetchall()
    return [{"type": r["type"], "id": r["id"], "label": r["label"],
             "community": {"code": r["community_code"], "name": r["community_name"]},
             "lon": None if r["lon"] is None else round(r["lon"], 7),
             "lat": None if r["lat"] is None else round(r["lat"], 7),
             "score": r["score"]} for r in rows]
