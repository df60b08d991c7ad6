"""Opening hours, machine-readable: the OpenStreetMap ``opening_hours`` syntax, evaluated by
opening-hours-py (the Rust implementation of the whole specification). No FastAPI, no
database.

Community documents write hours in Chinese ("周一至周五 08:30-17:30；错时服务 工作日
18:00-21:00"); ``to_osm`` translates the common forms into OSM rules and lets the library judge
the result, so the evaluation is never ours. Two points of meaning:

- Chinese rules separated by "；" add up (each names its own days), while OSM's ";" lets a
  later rule replace the days it names ("Mo-Fr 08:30-17:30; Mo-Fr 18:00-21:00" is open only
  in the evening). Translated open rules are therefore joined with OSM's additional-rule
  separator ", ", and only closing rules (休息) and holiday rules override with "; ".
- "节假日休息" becomes "PH off" but is evaluated without a holiday calendar: the library's
  calendar for CN knows only the first day of each holiday and none of the make-up working
  days (调休), which would be wrong more often than right. A holiday is taken as the weekday it
  falls on; the rule stays in the text for tools that know the calendar.

Times are naive local times at the site (what the library expects); ``local_time`` turns an
aware instant into one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from opening_hours import (  # type: ignore[attr-defined]  # ParserError: missing from the stub
    OpeningHours,
    ParserError,
    State,
    validate,
)

from geo.errors import InvalidInput

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")  # the Settings default, for callers without settings
# A week without anything special (no holiday is known anyway, see above): off_hours looks at
# Monday 2024-03-04 to Sunday 2024-03-10.
REFERENCE_MONDAY = datetime(2024, 3, 4)
WORKDAY_START, WORKDAY_END = 8, 18  # hours: 错时服务 is service outside Mon–Fri 08:00–18:00

_DAY = {"一": "Mo", "二": "Tu", "三": "We", "四": "Th", "五": "Fr", "六": "Sa", "日": "Su",
        "天": "Su"}
_DASH = r"\s*(?:至|到|-|~|〜|—+|–)\s*"
_WEEK = r"(?:周|星期|礼拜)"


def _time(k: int) -> str:
    """A clock time: 8:30, 08:30, 8点, 8点30(分), 8点半; groups h{k}, m{k}, half{k}."""
    return rf"(?P<h{k}>\d{{1,2}})(?::(?P<m{k}>\d{{2}})|[点时](?:(?P<n{k}>\d{{1,2}})分?|(?P<half{k}>半))?)"


# One scanner over the whole text; the order of the alternatives is their priority.
_TOKEN = re.compile("|".join((
    r"(?P<same>(?:国家)?(?:法定)?节假日照常(?:开放|营业|服务|办公)?)",
    r"(?P<allday>24\s*小时|二十四小时|全天候?|通宵)",
    r"(?P<every>每天|每日|天天|全周|全年)",
    r"(?P<workdays>工作日)",
    r"(?P<weekend>周末|双休日)",
    r"(?P<holiday>(?:国家)?(?:法定)?节假日|节日|假日)",
    rf"(?P<days>每?{_WEEK}[一二三四五六日天](?:(?:{_DASH}|[、,和及与]?){_WEEK}?[一二三四五六日天])*)",
    rf"(?P<span>{_time(1)}{_DASH}{_time(2)})",
    r"(?P<off>休息|闭馆|休馆|闭店|停业|不营业|不开放|不办公|关闭|暂停服务)",
    r"(?P<pm>下午|晚上|夜间|傍晚)",
    r"(?P<am>上午|早上|早晨|凌晨|中午)",
    r"(?P<stop>[;。|\n])",
    r"(?P<filler>错时服务|错时|延时服务|延时|开放时间|服务时间|办公时间|营业时间|工作时间|对外开放"
    r"|无休|开放|营业|办公|服务|时间|以及|[和及与、,:()\[\]【】]|\s+)",
)))


@dataclass
class _Rule:
    """One translated rule: OSM day selectors (none: every day), time spans, closed."""

    days: list[str] = field(default_factory=list)
    spans: list[str] = field(default_factory=list)
    off: bool = False

    def osm(self) -> str:
        days = ",".join(self.days) or "Mo-Su"  # never bare: after ", " it would join a span list
        if self.off:
            return " ".join((days, *([",".join(self.spans)] if self.spans else []), "off"))
        return f"{days} {','.join(self.spans)}"

    def overrides(self) -> bool:
        return self.off or "PH" in self.days


def _clock(m: re.Match[str], k: int) -> tuple[int, int]:
    minute = m.group(f"m{k}") or m.group(f"n{k}") or 0
    return int(m.group(f"h{k}")), 30 if m.group(f"half{k}") else int(minute)


def _span(m: re.Match[str], shift: int, text: str) -> str:
    """'8:30-17:30' → '08:30-17:30'. After 下午/晚上 (``shift`` 12) a start before noon is
    p.m., and so is the end unless that would put it before the start ("晚上11点-1点" ends at
    01:00). An end before the start is kept: OSM reads "23:00-01:00" as past midnight."""
    (h1, m1), (h2, m2) = _clock(m, 1), _clock(m, 2)
    start = (h1 + shift if h1 < 12 else h1, m1)
    end = (h2 + shift, m2) if h2 < 12 and (h2 + shift, m2) > start else (h2, m2)
    for h, mm in (start, end):
        if h > 24 or mm > 59 or (h == 24 and mm):
            raise InvalidInput(f"cannot read opening hours {text!r}: there is no time "
                               f"{h}:{mm:02d} in {m.group('span')!r}")
    if start == end:
        raise InvalidInput(f"cannot read opening hours {text!r}: {m.group('span')!r} is empty")
    return "{:02d}:{:02d}-{:02d}:{:02d}".format(*start, *end)


def _days(phrase: str) -> list[str]:
    """'周一至周五' → ['Mo-Fr']; '周六日', '周六、周日' → ['Sa', 'Su']; '每周三' → ['We']."""
    bare = re.sub(r"每|周|星期|礼拜", "", phrase)
    out = []
    for m in re.finditer(rf"([一二三四五六日天])(?:{_DASH}([一二三四五六日天]))?", bare):
        first, last = _DAY[m.group(1)], _DAY[m.group(2)] if m.group(2) else None
        out.append(first if last in (None, first) else f"{first}-{last}")
    return out


_NAMED_DAYS = {"every": ["Mo-Su"], "workdays": ["Mo-Fr"], "weekend": ["Sa", "Su"],
               "holiday": ["PH"]}


class _Reader:
    """Reads a Chinese text token by token into rules (``_TOKEN`` says what a token is)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.rules: list[_Rule] = []
        self.rule: _Rule | None = None
        self.shift = 0  # 12 after 下午/晚上: the next spans are p.m.

    def fail(self, why: str) -> InvalidInput:
        return InvalidInput(f"cannot read opening hours {self.text!r}: {why}")

    def close(self) -> None:
        rule, self.rule = self.rule, None
        if rule is None:
            return
        if not rule.spans and not rule.off:
            raise self.fail(f"no time is given for the days {','.join(rule.days)}")
        self.rules.append(rule)

    def days(self, days: list[str]) -> None:
        self.shift = 0
        if self.rule is None or self.rule.spans or self.rule.off:
            self.close()  # days after times begin the next rule, separator or not
            self.rule = _Rule()
        self.rule.days += days

    def span(self, span: str) -> None:
        if self.rule is None or self.rule.off:
            self.close()
            self.rule = _Rule()
        self.rule.spans.append(span)

    def off(self) -> None:
        """休息 closes the days named before it, or, after times, the last time span (a lunch
        break: "8:30-17:30（12:00-14:00休息）")."""
        rule = self.rule
        if rule is None:
            raise self.fail("休息 (closed) follows no day or time")
        if not rule.spans:
            rule.off = True
            return
        last = rule.spans.pop()
        if rule.spans:
            self.close()
        self.rule = _Rule(list(rule.days), [last], off=True)

    def read(self, norm: str) -> list[_Rule]:
        pos = 0
        while pos < len(norm):
            m = _TOKEN.match(norm, pos)
            if m is None:
                raise self.fail(f"{norm[pos:pos + 12]!r} is not understood")
            pos, kind = m.end(), m.lastgroup
            if kind in _NAMED_DAYS:
                self.days(_NAMED_DAYS[kind])
            elif kind == "days":
                self.days(_days(m.group()))
            elif kind in ("span", "allday"):
                self.span("00:00-24:00" if kind == "allday" else _span(m, self.shift, self.text))
            elif kind == "off":
                self.off()
            elif kind in ("pm", "am"):
                self.shift = 12 if kind == "pm" else 0
            elif kind == "stop":
                self.close()
        self.close()
        if not self.rules:
            raise self.fail("no day or time was found")
        return self.rules


def _translate(text: str) -> str:
    # NFKC folds full-width forms: "；" → ";", "：" → ":", "，" → ",", "０８" → "08"
    rules = _Reader(text).read(unicodedata.normalize("NFKC", text))
    adding = ", ".join(r.osm() for r in rules if not r.overrides())
    replacing = [r.osm() for r in rules if r.overrides()]
    return "; ".join(([adding] if adding else []) + replacing)


def to_osm(text: str) -> str:
    """OSM opening_hours for ``text``: valid OSM as it is, else the common Chinese forms
    translated (and normalised by the library, which keeps their meaning). Raises
    ``InvalidInput`` naming the text and what could not be read."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("opening hours are empty")
    if validate(stripped):
        return stripped
    osm = _translate(stripped)
    try:
        return str(OpeningHours(osm).normalize())
    except (ParserError, ValueError):
        raise InvalidInput(f"cannot read opening hours {text!r}: its translation {osm!r} is "
                           "not valid opening_hours") from None


@lru_cache(maxsize=4096)
def parse(osm: str) -> OpeningHours:
    """The library's reading of an OSM expression (cached: a few dozen texts recur across
    thousands of facilities). Raises ``InvalidInput``."""
    try:
        return OpeningHours(osm)
    except (ParserError, ValueError) as e:
        where = str(e).strip().splitlines()[-1].strip(" =") if str(e).strip() else ""
        raise InvalidInput(f"cannot read opening hours {osm!r}: not OSM opening_hours syntax"
                           + (f" ({where})" if where else "")) from None


@lru_cache(maxsize=4096)
def readable(text: str | None) -> OpeningHours | None:
    """Stored hours (OSM, or Chinese as importers found it) parsed; None when missing or
    unreadable, so a bad row never fails a request."""
    if not text or not text.strip():
        return None
    try:
        return parse(to_osm(text))
    except InvalidInput:
        return None


def local_time(when: datetime, zone: ZoneInfo) -> datetime:
    """An aware instant as naive local time in ``zone``: the library reads naive times as the
    site's own clock."""
    if when.tzinfo is None:
        raise ValueError("give an aware datetime: a naive one says no time zone")
    return when.astimezone(zone).replace(tzinfo=None)


def state(hours: OpeningHours, local: datetime) -> bool | None:
    """Open (True), closed (False) or unknown (None, e.g. "Mo-Fr unknown") at a local time."""
    found = hours.state(local)[0]
    return True if found == State.OPEN else False if found == State.CLOSED else None


def open_now(osm: str, when: datetime, zone: ZoneInfo) -> bool:
    """Whether the site is open at the instant ``when`` (its clock runs in ``zone``)."""
    return parse(osm).is_open(local_time(when, zone))


def next_change(osm: str, when: datetime, zone: ZoneInfo) -> datetime | None:
    """The next instant (aware, in ``zone``) the site opens or closes; None: never."""
    found = parse(osm).next_change(local_time(when, zone))
    if found is None:
        return None
    return found.replace(tzinfo=zone) if found.tzinfo is None else found.astimezone(zone)


def _outside_workday(start: datetime, end: datetime) -> bool:
    """Whether [start, end) holds a moment outside Mon–Fri 08:00–18:00."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.weekday() >= 5:
            return True
        if (max(start, day) < day.replace(hour=WORKDAY_START)
                or min(end, day + timedelta(days=1)) > day.replace(hour=WORKDAY_END)):
            return True
        day += timedelta(days=1)
    return False


@lru_cache(maxsize=1024)
def off_hours(osm: str) -> bool:
    """错时服务: open at some time on a working day before 08:00 or after 18:00, or at any
    time on Saturday or Sunday. The library walks the reference week interval by interval
    (exact, where sampling every 15 minutes could miss a short opening); rules for other
    months or weeks of the year are not seen."""
    end = REFERENCE_MONDAY + timedelta(days=7)
    return any(_outside_workday(max(s, REFERENCE_MONDAY), min(e, end))
               for s, e, found, _ in parse(osm).intervals(REFERENCE_MONDAY, end)
               if found == State.OPEN)
