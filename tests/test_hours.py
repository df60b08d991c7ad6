"""Opening hours: Chinese forms translated to OSM syntax, and "open now" evaluated by the real
opening-hours-py library (no mocks) across evenings (错时服务), weekends and midnight."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from opening_hours import OpeningHours

from geo.demo.buildings import FACILITY_PLAN
from geo.errors import InvalidInput
from geo.hours import next_change, off_hours, open_now, readable, to_osm

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2025, 3, 3, tzinfo=SH)  # an ordinary week: Monday 3 March 2025


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of the test week: day 0 is Monday."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


@pytest.mark.parametrize(("text", "osm"), [
    ("周一至周五 8:30-17:30", "Mo-Fr 08:30-17:30"),
    ("周一至周五 08:30-12:00,14:00-17:30；周六 9:00-12:00",
     "Mo-Fr 08:30-12:00,14:00-17:30; Sa 09:00-12:00"),
    ("每天 08:00-22:00", "08:00-22:00"),
    ("全天", "24/7"),
    ("24小时", "24/7"),
    ("工作日 18:00-21:00", "Mo-Fr 18:00-21:00"),
    ("周末 9:00-17:00", "Sa-Su 09:00-17:00"),
    ("星期一到星期五 8:30~17:30", "Mo-Fr 08:30-17:30"),
    ("礼拜六—礼拜天 9:00-12:00", "Sa-Su 09:00-12:00"),
    ("周一、三、五 9:00-11:00", "Mo,We,Fr 09:00-11:00"),
    ("每周三 19:00-21:00", "We 19:00-21:00"),
    ("周一至周五 上午8:30-12:00 下午2:30-5:30", "Mo-Fr 08:30-12:00,14:30-17:30"),
    ("工作日 晚上19时到21时", "Mo-Fr 19:00-21:00"),  # the seed's 夜办公
    ("周一至周五 8:30-17:30（12:00-14:00休息）", "Mo-Fr 08:30-12:00,14:00-17:30"),
    ("周一至周五 8:30-17:30;周六日休息", "Mo-Fr 08:30-17:30"),
    ("每天 8:00-20:00；周一闭馆", "Tu-Su 08:00-20:00"),
    # the demo's old text: Chinese rules add up; OSM's "; Mo-Fr" would have replaced the day
    ("08:30-17:30；错时服务 工作日 18:00-21:00", "Mo-Fr 08:30-17:30,18:00-21:00; Sa-Su 08:30-17:30"),
    ("周一至周五 08:30-18:00；周六日 09:00-17:00；错时服务 工作日 18:00-21:00",
     "Mo-Fr 08:30-21:00; Sa-Su 09:00-17:00"),
    # OSM as it is
    ("00:00-24:00", "00:00-24:00"),
    ("Mo-Fr 08:30-17:30,18:00-21:00; Sa 09:00-12:00", "Mo-Fr 08:30-17:30,18:00-21:00; Sa 09:00-12:00"),
    ("  24/7 ", "24/7"),
])
def test_chinese_forms_translate_to_osm(text: str, osm: str) -> None:
    assert to_osm(text) == osm
    OpeningHours(osm)  # the library reads what we give it


def test_translations_mean_what_the_text_says() -> None:
    """The same forms judged by open/closed at chosen instants, not by their spelling."""
    office = to_osm("周一至周五 08:30-12:00,14:00-17:30；周六 9:00-12:00")
    assert [open_now(office, t, SH) for t in (at(0, 9), at(0, 13), at(4, 17, 29), at(5, 10),
                                             at(5, 13), at(6, 10))] == \
        [True, False, True, True, False, False]
    evening = to_osm("08:30-17:30；错时服务 工作日 18:00-21:00")
    assert [open_now(evening, t, SH) for t in (at(0, 9), at(0, 19), at(5, 10), at(5, 19))] == \
        [True, True, True, False]
    holidays = to_osm("周一至周五 8:30-17:30，节假日休息")
    assert "PH" in holidays  # kept for tools with a holiday calendar; evaluated as a weekday
    assert open_now(holidays, at(0, 9), SH) and not open_now(holidays, at(5, 9), SH)


@pytest.mark.parametrize(("text", "why"), [
    ("随时欢迎", "not understood"),
    ("周一至周五", "no time"),
    ("周一至周五 25:00-26:00", "no time 25:00"),
    ("周一至周五 8:30-8:30", "empty"),
    ("休息", "follows no day"),
])
def test_unreadable_text_names_itself(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(repr(text))) as caught:
        to_osm(text)
    assert why in str(caught.value)


def test_empty_text_and_bad_osm_are_refused() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        to_osm("  ")
    with pytest.raises(InvalidInput, match=re.escape("'Mo-Fr 8:30-'")):
        open_now("Mo-Fr 8:30-", at(0, 9), SH)
    assert readable("随时欢迎") is None and readable(None) is None and readable("") is None
    assert readable("周一至周五 8:30-17:30") is not None


WEEKDAYS = "Mo-Fr 08:30-17:30"
EVENINGS = "Mo-Fr 08:30-17:30,18:00-21:00"
SATURDAYS = "Mo-Fr 08:30-17:30; Sa 09:00-12:00"


def test_monday_morning_and_evening() -> None:
    assert open_now(WEEKDAYS, at(0, 9), SH) and open_now(EVENINGS, at(0, 9), SH)
    assert not open_now(WEEKDAYS, at(0, 19), SH)  # no 错时服务
    assert open_now(EVENINGS, at(0, 19), SH)  # 错时服务 until 21:00
    assert not open_now(EVENINGS, at(0, 17, 45), SH)  # the break between the two
    assert open_now(EVENINGS, at(0, 20, 59), SH) and not open_now(EVENINGS, at(0, 21), SH)
    assert open_now(WEEKDAYS, at(0, 8, 30), SH)  # a span's start is in it
    assert not open_now(WEEKDAYS, at(0, 17, 30), SH)  # a span's end is not in it


def test_weekends() -> None:
    assert open_now(SATURDAYS, at(5, 10), SH) and not open_now(WEEKDAYS, at(5, 10), SH)
    assert not open_now(SATURDAYS, at(5, 12), SH)
    assert not any(open_now(h, at(6, 15), SH) for h in (WEEKDAYS, EVENINGS, SATURDAYS))
    assert open_now("Sa-Su 09:00-17:00", at(6, 15), SH)


def test_midnight_edges() -> None:
    for always in ("24/7", "00:00-24:00", to_osm("全天")):
        assert all(open_now(always, t, SH) for t in (at(0, 0), at(0, 23, 59), at(6, 23, 59)))
    late = "Mo-Fr 22:00-02:00"  # past midnight: Friday night runs into Saturday
    assert open_now(late, at(5, 1), SH) and not open_now(late, at(0, 1), SH)
    assert open_now(late, at(0, 23), SH) and not open_now(late, at(5, 2), SH)
    assert not open_now(EVENINGS, at(1, 0), SH)


def test_the_instant_is_read_on_the_sites_clock() -> None:
    utc = at(0, 9).astimezone(ZoneInfo("UTC"))  # 01:00 UTC is 09:00 in Shanghai
    assert utc.hour == 1 and open_now(WEEKDAYS, utc, SH)
    assert not open_now(WEEKDAYS, utc, ZoneInfo("Europe/London"))  # 01:00 there
    with pytest.raises(ValueError, match="aware"):
        open_now(WEEKDAYS, datetime(2025, 3, 3, 9), SH)


def test_next_change() -> None:
    assert next_change(EVENINGS, at(0, 9), SH) == at(0, 17, 30)
    assert next_change(EVENINGS, at(0, 17, 45), SH) == at(0, 18)
    assert next_change(WEEKDAYS, at(4, 18), SH) == at(7, 8, 30)  # Friday night → Monday
    assert next_change("24/7", at(0, 9), SH) is None


@pytest.mark.parametrize(("osm", "expected"), [
    (WEEKDAYS, False),
    ("Mo-Fr 08:00-18:00", False),  # exactly office hours
    (EVENINGS, True),
    (SATURDAYS, True),
    ("Mo-Fr 07:30-17:30", True),  # before 08:00
    ("Mo-Fr 08:30-18:15", True),  # a quarter past 18:00
    ("Su 14:00-15:00", True),
    ("We 19:00-21:00", True),
    ("24/7", True),
    ("Mo-Fr 12:00-13:00", False),
    ("closed", False),
])
def test_off_hours(osm: str, expected: bool) -> None:
    assert off_hours(osm) is expected


def test_the_demo_flags_agree_with_its_hours(conn: psycopg.Connection) -> None:
    """The facilities geo.demo.buildings places (FACILITY_PLAN's categories)."""
    rows = conn.execute("SELECT category, opening_hours, off_hours_service FROM facilities "
                        "WHERE category = ANY(%s)", ([p[0] for p in FACILITY_PLAN],)).fetchall()
    assert rows
    for category, hours, flag in rows:
        assert to_osm(hours) == hours, (category, hours)  # stored in OSM syntax
        assert flag is off_hours(hours), (category, hours)
    centres = {h for c, h, _ in rows if c == "party_service_center"}
    # some centres serve evenings, some Saturdays, some only office hours
    assert any("18:00-21:00" in h for h in centres) and any("Sa" in h for h in centres)
    assert WEEKDAYS in centres
