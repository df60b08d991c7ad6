"""Time limits (限期办理) in working days, and what counts as overdue.

A kind of issue has N working days (settings). The day of the report is the first of them
when it is a working day and the report came before the office's day ended
(``issue_day_ends_hour``); otherwise counting starts on the next working day. The issue is due
at the end (24:00 local time) of the N-th working day. Working days are Monday to Friday,
minus the holidays, plus the weekend days worked in exchange (调休), both settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geo.errors import InvalidInput
from geo.settings import Settings

KINDS = ("immediate", "time_limited", "committed", "remedial", "suggestion")
KIND_NAMES = {"immediate": "即办件", "time_limited": "限时件", "committed": "承诺件",
              "remedial": "补办件", "suggestion": "建议件"}
OPEN = ("received", "assigned", "in_progress", "escalated")
DONE = ("resolved", "feedback_published", "closed")


@dataclass(frozen=True)
class Calendar:
    days: dict[str, int]
    day_ends_hour: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    zone: ZoneInfo

    @classmethod
    def of(cls, settings: Settings) -> Calendar:
        missing = [k for k in KINDS if k not in settings.issue_limit_days]
        if missing:
            raise InvalidInput(f"GRIDGOV_ISSUE_LIMIT_DAYS: no limit for {', '.join(missing)}")
        return cls(dict(settings.issue_limit_days), settings.issue_day_ends_hour,
                   frozenset(settings.issue_holidays), frozenset(settings.issue_workdays),
                   ZoneInfo(settings.timezone))

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone)

    def working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def due(self, reported: datetime, kind: str) -> datetime:
        """The end of the N-th working day of ``kind`` counted from ``reported``."""
        if kind not in self.days:
            raise InvalidInput(f"kind: {kind!r} is not one of {', '.join(self.days)}")
        local = reported.astimezone(self.zone)
        day = local.date()
        if local.hour >= self.day_ends_hour:
            day += timedelta(days=1)
        left = max(self.days[kind], 1)
        while True:
            if self.working(day):
                left -= 1
                if left == 0:
                    break
            day += timedelta(days=1)
        return datetime.combine(day + timedelta(days=1), time(), self.zone)

    def working_days(self, start: datetime, end: datetime) -> int:
        """Working days from ``start``'s day to ``end``'s day, both counted."""
        a, b = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        return sum(self.working(a + timedelta(days=i)) for i in range((b - a).days + 1))


def overdue(status: str, due_at: datetime | None, resolved_at: datetime | None,
            now: datetime) -> bool:
    """Open past its limit, or resolved after it."""
    if due_at is None:
        return False
    if status in OPEN:
        return now > due_at
    return resolved_at is not None and resolved_at > due_at
