"""Business calendars: working hours, weekends and public holidays, as pure functions.

Django-free and without I/O at call time, so the workflow can import it (the
calendar travels in the workflow's input, pinned like the policy). The holiday
dates are computed outside, by `approvals.calendars.calendar_for` with the
`holidays` library, and passed in as plain ISO dates. Time zones come from the
standard library's `zoneinfo` (allowed by Temporal's sandbox).

Working time is counted in real elapsed seconds inside each working day's
[opens, closes) interval in the calendar's local time, so a DST change moves the
UTC instants of 09:00 and 17:00 but never the amount of working time in a day.
Beyond `last_year` only weekends are skipped (no holiday dates are known there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # a search never walks further than ten years (a calendar without workdays)


@dataclass(frozen=True)
class Calendar:
    """One person's working calendar; plain data (JSON through the data converter)."""

    time_zone: str = "Europe/Berlin"
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # date.weekday(): Monday = 0
    opens: str = "09:00"  # local wall-clock time, HH:MM
    closes: str = "17:00"
    holidays: tuple[str, ...] = ()  # ISO dates of the public holidays of the years covered
    country: str = "DE"
    subdivision: str = "BE"
    first_year: int = 0
    last_year: int = 0

    @property
    def seconds_per_day(self) -> int:
        return (_minutes(self.closes) - _minutes(self.opens)) * 60


def _minutes(clock: str) -> int:
    hours, _sep, minutes = clock.partition(":")
    return int(hours) * 60 + int(minutes)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def _holiday_set(holidays: tuple[str, ...]) -> frozenset[date]:
    return frozenset(date.fromisoformat(day) for day in holidays)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware (UTC)")
    return moment.astimezone(UTC)


def is_working_day(day: date, cal: Calendar) -> bool:
    return day.weekday() in cal.working_days and day not in _holiday_set(tuple(cal.holidays))


def working_hours(day: date, cal: Calendar) -> tuple[datetime, datetime]:
    """The day's opening and closing instants in UTC (local wall time, DST applied)."""
    zone = _zone(cal.time_zone)
    opens, closes = _minutes(cal.opens), _minutes(cal.closes)
    start = datetime.combine(day, time(opens // 60, opens % 60), tzinfo=zone)
    end = datetime.combine(day, time(closes // 60, closes % 60), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_date(moment: datetime, cal: Calendar) -> date:
    return _utc(moment).astimezone(_zone(cal.time_zone)).date()


def _working_days_from(day: date, cal: Calendar):
    """Working days from `day` on, each with its opening and closing in UTC."""
    if not cal.working_days or cal.seconds_per_day <= 0:
        raise ValueError("a calendar needs working days and working hours")
    for offset in range(MAX_DAYS):
        current = day + timedelta(days=offset)
        if is_working_day(current, cal):
            yield current, *working_hours(current, cal)
    raise ValueError("no working day within ten years")


def in_working_hours(moment: datetime, cal: Calendar) -> bool:
    """Whether `moment` lies in a working day's [opens, closes)."""
    moment = _utc(moment)
    day = local_date(moment, cal)
    if not is_working_day(day, cal):
        return False
    start, end = working_hours(day, cal)
    return start <= moment < end


def next_working_moment(moment: datetime, cal: Calendar) -> datetime:
    """`moment` itself when it is in working hours, else the next opening (UTC)."""
    moment = _utc(moment)
    for _day, start, end in _working_days_from(local_date(moment, cal), cal):
        if moment < end:
            return max(moment, start)
    raise AssertionError("unreachable")  # pragma: no cover - the generator raises first


def add_working_time(start: datetime, seconds: float, cal: Calendar) -> datetime:
    """The instant (UTC) when `seconds` of working time have passed since `start`.

    Ends at a closing time rather than the next opening when the time runs out
    exactly then (a deadline at Friday 17:00, not Monday 09:00).
    """
    moment = _utc(start)
    left = timedelta(seconds=seconds)
    if left <= timedelta(0):
        return moment
    for _day, opens, closes in _working_days_from(local_date(moment, cal), cal):
        if moment >= closes:
            continue
        begin = max(moment, opens)
        available = closes - begin
        if left <= available:
            return begin + left
        left -= available
    raise AssertionError("unreachable")  # pragma: no cover


def working_seconds_between(start: datetime, end: datetime, cal: Calendar) -> float:
    """Working time between two instants (0 when `end` is not after `start`)."""
    start, end = _utc(start), _utc(end)
    total = timedelta(0)
    if end <= start:
        return 0.0
    for _day, opens, closes in _working_days_from(local_date(start, cal), cal):
        if opens >= end:
            break
        begin, finish = max(start, opens), min(end, closes)
        if finish > begin:
            total += finish - begin
    return total.total_seconds()


def reminder_time(start: datetime, seconds: float, cal: Calendar) -> datetime:
    """When to remind: after `seconds` of working time, and always inside working hours.

    A reminder that would fall on a closing time goes out at the next opening.
    """
    return next_working_moment(add_working_time(start, seconds, cal), cal)


@dataclass(frozen=True)
class Due:
    """A due time as a reader sees it: local weekday and clock, plus how far off."""

    local: datetime
    weekday: int  # Monday = 0
    days_ahead: int  # calendar days from the reader's today (0 today, 1 tomorrow, <0 past)
    clock: str = field(default="")


def due_in_zone(due: datetime, zone: str, now: datetime) -> Due:
    """`due` in the reader's time zone, relative to `now` there (for the words helper)."""
    tz = _zone(zone)
    local = _utc(due).astimezone(tz)
    today = _utc(now).astimezone(tz).date()
    return Due(
        local=local,
        weekday=local.weekday(),
        days_ahead=(local.date() - today).days,
        clock=local.strftime("%H:%M"),
    )
