"""CQL2 text → parameterised SQL. pygeofilter parses; the translation of its AST is ours.

Property names reach SQL only through the collection's queryables (a whitelist mapping each
name to a column chosen in geo/ogc/collections.py); every literal travels as a parameter with
an explicit cast. Anything we do not translate is a clear InvalidInput naming the problem,
never a database error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import shapely.geometry
from psycopg import sql
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parse as _parse
from shapely.validation import explain_validity

from geo.errors import InvalidInput

MAX_FILTER_CHARS = 20_000
INT64 = 2**63 - 1
NUMERIC = frozenset({"integer", "number"})
CASTS = {"integer": "bigint", "number": "double precision", "string": "text", "boolean": "boolean"}

COMPARISONS: dict[type, str] = {
    ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
    ast.GreaterThan: ">", ast.GreaterEqual: ">=",
}
SPATIAL: dict[type, str] = {
    ast.GeometryIntersects: "ST_Intersects", ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains", ast.GeometryWithin: "ST_Within",
    ast.GeometryTouches: "ST_Touches", ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps", ast.GeometryEquals: "ST_Equals",
}


@dataclass(frozen=True)
class Queryable:
    name: str  # as clients write it
    type: str  # integer | number | string | boolean | geometry
    column: str  # column of the collection's row ``t`` (from our registry, never a request)
    title: str = ""


@dataclass
class Filter:
    """A translated filter: SQL over the row ``t`` and its parameters."""

    where: sql.Composable
    params: dict[str, Any] = field(default_factory=dict)


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"filter: {message}")


# pygeofilter 0.4 cannot read CQL2's doubled quote inside a string ('O''Brien', as GDAL writes
# it): such strings are swapped for private-use markers before parsing and restored after.
_TOKENS = re.compile(r"\"[^\"]*\"|'(?:[^']|'')*'")
_MARK = "\ue000{}\ue001"


def _protect(text: str) -> tuple[str, dict[str, str]]:
    if "''" not in text:
        return text, {}
    strings: dict[str, str] = {}

    def swap(m: re.Match[str]) -> str:
        if m.group()[0] == '"':
            return m.group()
        mark = _MARK.format(len(strings))
        strings[mark] = m.group()[1:-1].replace("''", "'")
        return f"'{mark}'"

    return _TOKENS.sub(swap, text), strings


def parse(text: str) -> tuple[ast.Node, dict[str, str]]:
    """The pygeofilter AST of a CQL2 text expression and the strings swapped out of it, or
    InvalidInput saying where it fails."""
    if len(text) > MAX_FILTER_CHARS:
        raise _bad(f"longer than {MAX_FILTER_CHARS} characters")
    if "\ue000" in text or "\x00" in text:
        raise _bad("contains a reserved character (U+0000 or U+E000)")
    protected, strings = _protect(text)
    try:
        return _parse(protected), strings
    except RecursionError:
        raise _bad("nested too deeply") from None
    except Exception as exc:  # lark's errors and pygeofilter's own, all user errors here
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        where = f" at line {line}, column {column}" if line and column and column > 0 else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad(f"not valid CQL2 text{where} ({first[:160]})") from None


def translate(text: str, queryables: Mapping[str, Queryable], prefix: str = "c") -> Filter:
    """SQL for a CQL2 text filter over the collection's row ``t``."""
    node, strings = parse(text)
    translator = _Translator(queryables, prefix, strings)
    try:
        where = translator.condition(node)
    except RecursionError:
        raise _bad("nested too deeply") from None
    return Filter(where, translator.params)


def equals(queryable: Queryable, text: str, prefix: str) -> Filter:
    """``?households=400``: a queryable used as a query parameter (equality); ``prefix`` keeps
    its parameter names apart from the others of the query."""
    translator = _Translator({queryable.name: queryable}, prefix)
    value = _typed_text(queryable, text)
    left, _ = translator.attribute(ast.Attribute(queryable.name))
    right = translator.bind(value, queryable.type)
    return Filter(sql.SQL("{} = {}").format(left, right), translator.params)


def _typed_text(queryable: Queryable, text: str) -> Any:
    kind = queryable.type
    if kind == "geometry":
        raise InvalidInput(f"{queryable.name}: use filter=S_INTERSECTS(...) or bbox for geometry")
    ok = {"integer": re.fullmatch(r"[+-]?[0-9]{1,18}", text),
          "number": re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?", text),
          "boolean": text.lower() in ("true", "false"), "string": "\x00" not in text}[kind]
    if not ok:
        raise InvalidInput(f"{queryable.name}: {text!r} is not a {kind}")
    converters: dict[str, Callable[[str], Any]] = {
        "integer": int, "number": float, "string": str, "boolean": lambda s: s.lower() == "true"}
    return converters[kind](text)


class _Translator:
    def __init__(self, queryables: Mapping[str, Queryable], prefix: str,
                 strings: Mapping[str, str] | None = None) -> None:
        self.queryables = queryables
        self.prefix = prefix
        self.strings = strings or {}
        self.params: dict[str, Any] = {}

    def bind(self, value: Any, type_: str) -> sql.Composable:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return sql.SQL("{}::{}").format(sql.Placeholder(name), sql.SQL(CASTS[type_]))

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.And | ast.Or):
            op = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
            return sql.SQL("({})").format(op.join([self.condition(node.lhs),
                                                    self.condition(node.rhs)]))
        if isinstance(node, ast.Not):
            return sql.SQL("(NOT {})").format(self.condition(node.sub_node))
        if isinstance(node, ast.Include):
            return sql.SQL("FALSE" if node.not_ else "TRUE")
        handler = self._handlers().get(type(node))
        if handler is None:
            handler = self.spatial if type(node) in SPATIAL else None
        if handler is None:
            raise _bad(f"{_describe(node)} is not supported here")
        return handler(node)

    def _handlers(self) -> dict[type, Callable[[Any], sql.Composable]]:
        return {**dict.fromkeys(COMPARISONS, self.comparison), ast.Between: self.between,
                ast.Like: self.like, ast.In: self.in_, ast.IsNull: self.is_null,
                ast.BBox: self.bbox_predicate}

    def comparison(self, node: ast.Comparison) -> sql.Composable:
        left, right = self.pair(node.lhs, node.rhs)
        if left[1] == "geometry":
            raise _bad("compare geometries with S_INTERSECTS, S_WITHIN … instead of "
                       f"{COMPARISONS[type(node)]}")
        return sql.SQL("({} {} {})").format(left[0], sql.SQL(COMPARISONS[type(node)]), right[0])

    def between(self, node: ast.Between) -> sql.Composable:
        subject, low = self.pair(node.lhs, node.low)
        _, high = self.pair(node.lhs, node.high)
        if subject[1] not in NUMERIC | {"string"}:
            raise _bad(f"BETWEEN needs numbers or text, not a {subject[1]}")
        op = sql.SQL("NOT BETWEEN" if node.not_ else "BETWEEN")
        return sql.SQL("({} {} {} AND {})").format(subject[0], op, low[0], high[0])

    def like(self, node: ast.Like) -> sql.Composable:
        subject = self.operand(node.lhs)
        if subject[1] != "string":
            raise _bad(f"LIKE needs a text property, not a {subject[1]}")
        pattern = node.pattern
        if not isinstance(pattern, str):
            raise _bad("the pattern of LIKE must be a quoted string")
        pattern = self.strings.get(pattern, pattern)
        # CQL2 patterns are SQL patterns: % any run, _ one character, backslash escapes.
        op = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return sql.SQL("({} {} {})").format(subject[0], sql.SQL(op),
                                            self.bind(pattern, "string"))

    def in_(self, node: ast.In) -> sql.Composable:
        subject = self.operand(node.lhs)
        items = [self.pair(node.lhs, option)[1][0] for option in node.sub_nodes]
        op = sql.SQL("NOT IN" if node.not_ else "IN")
        return sql.SQL("({} {} ({}))").format(subject[0], op, sql.SQL(", ").join(items))

    def is_null(self, node: ast.IsNull) -> sql.Composable:
        subject = self.operand(node.lhs)
        return sql.SQL("({} IS {}NULL)").format(subject[0], sql.SQL("NOT " if node.not_ else ""))

    def spatial(self, node: ast.SpatialComparisonPredicate) -> sql.Composable:
        left, right = self.operand(node.lhs), self.operand(node.rhs)
        if left[1] != "geometry" or right[1] != "geometry":
            raise _bad(f"S_{node.op.name} compares geometries (the 'geometry' property and "
                       "a literal such as POLYGON((…)) or BBOX(…))")
        return sql.SQL("{}({}, {})").format(sql.SQL(SPATIAL[type(node)]), left[0], right[0])

    def bbox_predicate(self, node: ast.BBox) -> sql.Composable:
        subject = self.operand(node.lhs)
        if subject[1] != "geometry":
            raise _bad("BBOX(…) applies to the 'geometry' property")
        box = self.envelope([node.minx, node.miny, node.maxx, node.maxy])
        return sql.SQL("ST_Intersects({}, {})").format(subject[0], box)

    # -- operands -----------------------------------------------------------------------------

    def pair(self, a: Any, b: Any) -> tuple[tuple[sql.Composable, str], tuple[sql.Composable, str]]:
        """Both sides of a comparison, literals typed after the property on the other side."""
        left, right = self.operand(a), self.operand(b)
        if not _compatible(left[1], right[1]):
            raise _bad(f"cannot compare {_describe(a)} ({left[1]}) with {_describe(b)} "
                       f"({right[1]})")
        return left, right

    def operand(self, node: Any) -> tuple[sql.Composable, str]:
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, bool):
            return self.bind(node, "boolean"), "boolean"
        if isinstance(node, int):
            if abs(node) > INT64:
                raise _bad(f"the number {node} is too large")
            return self.bind(node, "integer"), "integer"
        if isinstance(node, float):
            return self.bind(node, "number"), "number"
        if isinstance(node, str):
            return self.bind(self.strings.get(node, node), "string"), "string"
        if isinstance(node, values.Geometry | values.Envelope):
            return self.geometry(node.__geo_interface__), "geometry"
        if isinstance(node, ast.Function):
            return self.function(node)
        if isinstance(node, date | datetime | values.Interval):
            raise _bad("no temporal properties are published, so dates cannot be compared")
        raise _bad(f"{_describe(node)} is not supported here")

    def attribute(self, node: ast.Attribute) -> tuple[sql.Composable, str]:
        queryable = self.queryables.get(node.name)
        if queryable is None:
            known = ", ".join(sorted(self.queryables))
            raise _bad(f"unknown property {node.name!r} (queryables: {known})")
        column = sql.SQL("t.{}").format(sql.Identifier(queryable.column))
        return column, queryable.type

    def function(self, node: ast.Function) -> tuple[sql.Composable, str]:
        if node.name == "bbox":
            return self.envelope(node.arguments), "geometry"
        if node.name == "lower" and len(node.arguments) == 1:  # CASEI(…)
            inner = self.operand(node.arguments[0])
            if inner[1] != "string":
                raise _bad("CASEI(…) applies to text")
            return sql.SQL("lower({}::text)").format(inner[0]), "string"
        raise _bad(f"the function {node.name.upper()}(…) is not supported")

    def envelope(self, numbers: list[Any]) -> sql.Composable:
        if len(numbers) not in (4, 6) or not all(_is_number(n) for n in numbers):
            raise _bad("BBOX needs 4 numbers: minlon, minlat, maxlon, maxlat")
        minx, miny, maxx, maxy = (numbers[0], numbers[1], *numbers[-3:-1]) if len(numbers) == 6 \
            else numbers
        if minx > maxx or miny > maxy:
            raise _bad("BBOX needs minlon, minlat, maxlon, maxlat (min before max)")
        return self.geometry(shapely.geometry.box(minx, miny, maxx, maxy).__geo_interface__)

    def geometry(self, geojson: Mapping[str, Any]) -> sql.Composable:
        try:
            geom = shapely.geometry.shape(geojson)
        except Exception:
            raise _bad(f"cannot read the {geojson.get('type', 'geometry')} literal") from None
        if geom.is_empty:
            raise _bad("the geometry literal is empty")
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise _bad("geometry coordinates must be longitude latitude (CRS84) within "
                       "-180..180 and -90..90")
        if not geom.is_valid:
            raise _bad(f"the {geom.geom_type} literal is not valid: {explain_validity(geom)}")
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = geom.wkt
        return sql.SQL("ST_GeomFromText({}::text, 4326)").format(sql.Placeholder(name))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compatible(a: str, b: str) -> bool:
    return a == b or (a in NUMERIC and b in NUMERIC)


def _describe(node: Any) -> str:
    if isinstance(node, ast.Attribute):
        return repr(node.name)
    if isinstance(node, ast.Node):
        return type(node).__name__
    return repr(node)
