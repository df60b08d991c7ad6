"""Cell values as they come from CSV, spreadsheets and attribute tables, made into our types.

Each parser takes a raw cell (str, int, float, date, None, NaN …) and returns the value or
raises BadValue with a message the user can act on. ``Row`` applies them to one row and
records every bad cell as an error of that row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from geo.importers.result import Problems

AREA_CODE = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")
PHONE = re.compile(r"\+?[0-9]{5,20}")
LEVEL_BY_LENGTH = {6: "district", 9: "street", 12: "community"}


class BadValue(ValueError):
    """A cell that cannot be read as the field it is in."""


def text(value: Any) -> str | None:
    """The cell as stripped text; empty, None and NaN are None; 12.0 reads as ``12``."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    s = str(value).strip()
    return s or None


def number(value: Any, field: str) -> float | None:
    s = text(value)
    if s is None:
        return None
    try:
        x = float(s.replace(",", ""))
    except ValueError:
        raise BadValue(f"{field} {s!r} is not a number") from None
    if math.isnan(x) or math.isinf(x):
        raise BadValue(f"{field} {s!r} is not a number")
    return x


# Far above any one building or grid, far below the database's 32-bit integers.
MAX_COUNT = 1_000_000


def count(value: Any, field: str) -> int | None:
    """A non-negative whole number (households, residents, floors)."""
    x = number(value, field)
    if x is None:
        return None
    if x < 0:
        raise BadValue(f"{field} {text(value)!r} is negative")
    if not float(x).is_integer():
        raise BadValue(f"{field} {text(value)!r} is not a whole number")
    if x > MAX_COUNT:
        raise BadValue(f"{field} {text(value)!r} is implausibly large (more than {MAX_COUNT:,})")
    return int(x)


def area_code(value: Any, field: str = "code") -> str | None:
    s = text(value)
    if s is None:
        return None
    if not AREA_CODE.fullmatch(s):
        raise BadValue(f"{field} {s!r} is not an area code (6, 9 or 12 digits)")
    return s


def normalize_phone(s: str) -> str:
    """A phone number without the separators people type (spaces, dashes, brackets), so that
    ``(0856) 521-2345`` and ``08565212345`` compare equal."""
    return re.sub(r"[\s\-()（）]", "", s)


def phone(value: Any, field: str = "phone") -> str | None:
    s = text(value)
    if s is None:
        return None
    digits = normalize_phone(s)
    if not PHONE.fullmatch(digits):
        raise BadValue(f"{field} {s!r} is not a phone number (5–20 digits)")
    return digits


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")


def date(value: Any, field: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = text(value)
    if s is None:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise BadValue(f"{field} {s!r} is not a date (use 2024-03-01)")


_MOMENT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                   "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y-%m-%dT%H:%M:%S")


def moment(value: Any, field: str, zone: dt.tzinfo) -> dt.datetime | None:
    """A date and time in ``zone`` (a date alone is its midnight); aware values keep theirs."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    s = text(value)
    if s is None:
        return None
    for fmt in _MOMENT_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    try:
        day = date(value, field)
    except BadValue:
        raise BadValue(f"{field} {s!r} is not a date and time (use 2024-03-01 09:30)") from None
    return None if day is None else dt.datetime.combine(day, dt.time(), zone)


_TRUE = {"是", "true", "yes", "y", "1", "公开", "t"}
_FALSE = {"否", "false", "no", "n", "0", "不公开", "f"}


def flag(value: Any, field: str) -> bool | None:
    s = text(value)
    if s is None:
        return None
    if s.casefold() in _TRUE:
        return True
    if s.casefold() in _FALSE:
        return False
    raise BadValue(f"{field} {s!r} is not yes/no (是/否)")


def choice(value: Any, field: str, accepted: Mapping[str, str]) -> str | None:
    """One of ``accepted`` (keys compared case-insensitively) → its value."""
    s = text(value)
    if s is None:
        return None
    folded = {k.casefold(): v for k, v in accepted.items()}
    if s.casefold() in folded:
        return folded[s.casefold()]
    known = " / ".join(dict.fromkeys(accepted))
    raise BadValue(f"unknown {field} {s!r}; accepted: {known}")


class Row:
    """One row's cells by field name, parsed with errors recorded against the row; messages
    name the column as the file spells it."""

    def __init__(self, problems: Problems, at: int, cells: Mapping[str, Any],
                 headers: Mapping[str, str]) -> None:
        self.problems, self.at, self.cells, self.headers = problems, at, cells, headers

    def raw(self, field: str) -> Any:
        return self.cells.get(field)

    def label(self, field: str) -> str:
        return self.headers.get(field, field)

    def get(self, field: str, parse: Callable[..., Any] = text, *args: Any) -> Any:
        value = self.cells.get(field)
        try:
            return text(value) if parse is text else parse(value, self.label(field), *args)
        except BadValue as exc:
            self.problems.error(self.at, str(exc))
            return None

    def required(self, field: str, parse: Callable[..., Any] = text, *args: Any) -> Any:
        if field not in self.headers:
            return None  # the missing column is reported once, at the header
        if text(self.cells.get(field)) is None:
            self.problems.error(self.at, f"{self.label(field)} is empty")
            return None
        return self.get(field, parse, *args)
