"""民情 rules without a database: working-day limits, overdue flags, the status flow's role
rules (against a table written out by hand), routing decisions, photo checks."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from geo.auth import User
from geo.errors import Conflict, Forbidden, InvalidInput, TooLarge
from geo.issues.limits import Calendar, overdue
from geo.issues.photos import MAX_EDGE, checked
from geo.issues.routing import Candidate, on_building, route
from geo.issues.workflow import ACTIONS, available, check
from geo.settings import Settings

CST = ZoneInfo("Asia/Shanghai")


def calendar(**kw: object) -> Calendar:
    return Calendar.of(Settings.model_construct(**kw))


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CST)


def end_of(y: int, m: int, d: int) -> datetime:
    """24:00 of that day: the next day's midnight."""
    return datetime.combine(date(y, m, d), datetime.min.time(), CST) + (
        datetime(2000, 1, 2) - datetime(2000, 1, 1))


# 2026-12-07 is a Monday.
@pytest.mark.parametrize(("reported", "kind", "due"), [
    (at(2026, 12, 7), "immediate", end_of(2026, 12, 7)),  # the same working day
    (at(2026, 12, 7, 18), "immediate", end_of(2026, 12, 8)),  # after 17:00: the next one
    (at(2026, 12, 11), "time_limited", end_of(2026, 12, 17)),  # Fri + 4 working days: Thu
    (at(2026, 12, 12), "immediate", end_of(2026, 12, 14)),  # Saturday: Monday
    (at(2026, 12, 13, 23), "immediate", end_of(2026, 12, 14)),  # Sunday night: Monday
    (at(2026, 12, 7), "committed", end_of(2026, 12, 25)),  # 15 working days, 3 weeks
    (at(2026, 12, 7), "suggestion", end_of(2027, 1, 1)),  # 20 working days, 4 weeks
])
def test_due_at_the_end_of_the_nth_working_day(reported: datetime, kind: str,
                                               due: datetime) -> None:
    assert calendar().due(reported, kind) == due


def test_holidays_are_skipped_and_weekend_workdays_count() -> None:
    # 2027-01-01 (Fri) off; 2026-12-26 (Sat) worked in exchange
    cal = calendar(issue_holidays=[date(2027, 1, 1)], issue_workdays=[date(2026, 12, 26)])
    assert cal.due(at(2026, 12, 31), "time_limited") == end_of(2027, 1, 7)  # Thu, Mon–Thu
    assert cal.due(at(2026, 12, 25), "time_limited") == end_of(2026, 12, 30)  # Fri, Sat, M–W
    assert cal.working_days(at(2026, 12, 25), at(2027, 1, 4)) == 7


def test_a_report_in_utc_is_counted_on_the_local_day() -> None:
    # 2026-12-07 20:00 UTC is Tuesday 04:00 in Beijing: Tuesday is the first day
    reported = datetime(2026, 12, 7, 20, tzinfo=UTC)
    assert calendar().due(reported, "immediate") == end_of(2026, 12, 8)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInput, match="kind"):
        calendar().due(at(2026, 12, 7), "urgent")
    with pytest.raises(InvalidInput, match="suggestion"):
        calendar(issue_limit_days={"immediate": 1, "time_limited": 5, "committed": 15,
                                   "remedial": 10})


def test_overdue() -> None:
    due = at(2026, 12, 8)
    assert overdue("in_progress", due, None, at(2026, 12, 9))
    assert not overdue("in_progress", due, None, at(2026, 12, 7))
    assert overdue("closed", due, at(2026, 12, 9), at(2026, 12, 20))  # resolved late
    assert not overdue("closed", due, at(2026, 12, 7), at(2026, 12, 20))
    assert not overdue("received", None, None, at(2026, 12, 20))


ROLES = ("admin", "street_leader", "community_worker", "grid_worker", "planner", "analyst")
# action, status, level → the roles that may take it (written out by hand)
MANAGE = {"admin", "street_leader", "community_worker"}
EXPECTED = [
    ("assign", "received", "grid", MANAGE),
    ("reassign", "in_progress", "community", MANAGE),
    ("start", "assigned", "grid", MANAGE | {"grid_worker"}),
    ("start", "escalated", "community", MANAGE),
    ("start", "escalated", "street", {"admin", "street_leader"}),
    ("resolve", "in_progress", "grid", MANAGE | {"grid_worker"}),
    ("resolve", "in_progress", "community", MANAGE),
    ("resolve", "in_progress", "street", {"admin", "street_leader"}),
    ("publish", "resolved", "grid", MANAGE),
    ("close", "feedback_published", "grid", MANAGE),
    ("reopen", "closed", "grid", MANAGE),
    # at the street level only the street (and admins) act
    ("reassign", "escalated", "street", {"admin", "street_leader"}),
    ("publish", "resolved", "street", {"admin", "street_leader"}),
    ("close", "feedback_published", "street", {"admin", "street_leader"}),
    ("reopen", "closed", "street", {"admin", "street_leader"}),
]


def user(role: str) -> User:
    return User(1, f"u_{role}", role, "520602001001")


@pytest.mark.parametrize(("action", "status", "level", "allowed"), EXPECTED)
@pytest.mark.parametrize("role", ROLES)
def test_who_may_take_each_step(role: str, action: str, status: str, level: str,
                                allowed: set[str]) -> None:
    if role in allowed:
        assert check(user(role), action, status, level, note="done").target
    else:
        with pytest.raises(Forbidden, match=role):
            check(user(role), action, status, level, note="done")


@pytest.mark.parametrize(("role", "to", "ok"), [
    ("grid_worker", "community", True), ("grid_worker", "street", False),
    ("community_worker", "street", True), ("street_leader", "street", True),
    ("planner", "community", False), ("analyst", "community", False)])
def test_escalation_by_level(role: str, to: str, ok: bool) -> None:
    if ok:
        assert check(user(role), "escalate", "in_progress", "grid", "需要物业协同", to).target \
            == "escalated"
    else:
        with pytest.raises(Forbidden):
            check(user(role), "escalate", "in_progress", "grid", "需要物业协同", to)


def test_every_action_leads_from_its_statuses_only() -> None:
    targets = {"assign": "assigned", "reassign": "assigned", "start": "in_progress",
               "escalate": "escalated", "resolve": "resolved", "publish": "feedback_published",
               "close": "closed", "reopen": "in_progress"}
    assert {a.name: a.target for a in ACTIONS.values()} == targets
    admin = user("admin")
    with pytest.raises(Conflict, match="in_progress"):
        check(admin, "resolve", "assigned", "grid", "done")
    with pytest.raises(Conflict, match="feedback_published"):
        check(admin, "close", "resolved", "grid")
    with pytest.raises(Conflict, match="higher"):
        check(admin, "escalate", "in_progress", "street", "x", "community")
    with pytest.raises(InvalidInput, match="note"):
        check(admin, "reopen", "closed", "grid", "  ")
    with pytest.raises(InvalidInput, match="one of"):
        check(admin, "delete", "closed", "grid")


def test_the_buttons_a_user_sees() -> None:
    assert available(user("grid_worker"), "assigned", "grid") == ["start", "escalate"]
    assert available(user("grid_worker"), "escalated", "community") == []
    assert available(user("community_worker"), "escalated", "community") == [
        "reassign", "start"]
    assert available(user("analyst"), "received", "grid") == []


def cand(gid: int, d: float, inside: bool) -> Candidate:
    return Candidate(gid, f"52060200100100{gid}", f"第{gid}网格", "520602001001", d, inside)


def test_routing() -> None:
    clear = route([cand(1, 0, True)], None)
    assert (clear.grid_id, clear.settled, clear.candidates_json()) == (1, True, None)
    edge = route([cand(1, 0, True), cand(2, 7.04, False)], None)
    assert (edge.grid_id, edge.settled) == (1, False)
    assert [(c["grid_id"], c["distance_m"]) for c in edge.candidates_json() or []] == [
        (1, 0), (2, 7.0)]
    gap = route([cand(2, 3, False), cand(3, 9, False)], "520602001001")
    assert (gap.grid_id, gap.community, gap.settled) == (None, "520602001001", False)
    nowhere = route([], "520602001001")
    assert (nowhere.grid_id, nowhere.settled, nowhere.candidates_json()) == (
        None, False, [])
    assert on_building(5, "520602001001").settled
    assert not on_building(None, "520602001001").settled


def _jpeg(size: tuple[int, int], gps: bool = True) -> bytes:
    img = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (27.0, 45.0, 2.3), 3: "E", 4: (109.0, 10.0, 7.7)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_loses_its_exif_and_is_shrunk() -> None:
    raw = _jpeg((3000, 1000))
    assert Image.open(io.BytesIO(raw)).getexif()  # the test's photo does carry EXIF
    photo = checked(raw, "photos[1]", 4096)
    img = Image.open(io.BytesIO(photo.data))
    assert (photo.media_type, img.format) == ("image/jpeg", "JPEG")
    assert (photo.width, photo.height) == (MAX_EDGE, 683) == img.size
    assert not img.getexif()
    assert b"PhoneMaker" not in photo.data


def test_photos_that_are_not_accepted() -> None:
    with pytest.raises(TooLarge, match="over the limit of 16 kB"):
        checked(_jpeg((2000, 2000)) + b"\0" * 20_000, "photos[1]", 16)
    with pytest.raises(InvalidInput, match="photos\\[2\\]: not a readable"):
        checked(b"<html>not a photo</html>", "photos[2]", 4096)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    with pytest.raises(InvalidInput, match="GIF"):
        checked(gif.getvalue(), "photos[1]", 4096)
    with pytest.raises(InvalidInput, match="empty"):
        checked(b"", "photos[1]", 4096)


def test_settings_refuse_incomplete_limits_and_unknown_zones() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="missing suggestion"):
        Settings(issue_limit_days={"immediate": 1, "time_limited": 5, "committed": 15,
                                   "remedial": 10})
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus")
    assert Settings(issue_limit_days={"immediate": 2, "time_limited": 3, "committed": 10,
                                      "remedial": 5, "suggestion": 30}).issue_limit_days[
        "immediate"] == 2
