"""Building a person's business calendar (Django side) and a due time in words.

`calendar_for(user)` reads the settings (`HOLIDAY_COUNTRY`, `HOLIDAY_SUBDIVISION`,
`TIME_ZONE`) and the person's profile (`time_zone`, `holiday_subdivision`) and asks
the `holidays` library for the public holidays of the years a request can live
in. The result is the plain `approvals.calendar.Calendar` the workflow is given
(pinned with the request, like the policy): the workflow itself never asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext as _

from accounts.calendar_choices import valid_time_zone

from .calendar import Calendar, add_working_time, due_in_zone

YEARS_AHEAD = 2  # a request's deadlines fall in its submission year or the next two


def sla_working_seconds() -> int:
    """The per-level SLA in working seconds (APPROVAL_SLA_WORKING_HOURS, default 16)."""
    return int(settings.APPROVAL_SLA_WORKING_HOURS) * 3600


def holiday_dates(country: str, subdivision: str, first: int, last: int) -> tuple[str, ...]:
    days = holidays.country_holidays(
        country, subdiv=subdivision or None, years=range(first, last + 1)
    )
    return tuple(sorted(day.isoformat() for day in days))


def calendar_for(user=None, *, today=None) -> Calendar:
    """The calendar of `user` (None: the organisation's default), covering this year
    and the next `YEARS_AHEAD` years."""
    country = settings.HOLIDAY_COUNTRY
    subdivision = getattr(user, "holiday_subdivision", "") or settings.HOLIDAY_SUBDIVISION
    zone = reader_zone(user)
    first = (today or timezone.localdate()).year
    last = first + YEARS_AHEAD
    return Calendar(
        time_zone=zone,
        holidays=holiday_dates(country, subdivision, first, last),
        country=country,
        subdivision=subdivision,
        first_year=first,
        last_year=last,
    )


def reader_zone(user=None) -> str:
    """The time zone a person reads times in: their profile's, else TIME_ZONE."""
    zone = getattr(user, "time_zone", "") or ""
    return zone if zone and valid_time_zone(zone) else settings.TIME_ZONE


def due_words(
    due: datetime | None, user=None, *, now: datetime | None = None, zone: str = ""
) -> str:
    """ "due Monday 11:00" in the reader's language and time zone ("" without a due time):
    `zone`, else the person's profile zone, else the page's current time zone.

    Today and tomorrow by name; within the coming week the weekday; further off or
    in the past, the date.
    """
    if due is None:
        return ""
    now = now or timezone.now()
    day, clock = _day_and_clock(due, user, now=now, zone=zone)
    if due < now:
        return _("was due %(day)s %(time)s") % {"day": day, "time": clock}
    return _("due %(day)s %(time)s") % {"day": day, "time": clock}


def current_zone_key() -> str:
    """The active time zone's IANA key ("Etc/GMT+12"), not Django's display name ("-12"),
    which ZoneInfo cannot read back."""
    zone = timezone.get_current_timezone()
    return getattr(zone, "key", None) or timezone.get_current_timezone_name()


def day_words(at: datetime, user=None, *, now: datetime | None = None, zone: str = "") -> str:
    """ "Wednesday 09:00", "tomorrow 14:00", "7 December 2026 09:00": a moment as people
    say it, in the reader's language and time zone (as `due_words`, without "due")."""
    day, clock = _day_and_clock(at, user, now=now or timezone.now(), zone=zone)
    return f"{day} {clock}"


def _day_and_clock(due: datetime, user, *, now: datetime, zone: str) -> tuple[str, str]:
    if not zone:
        zone = reader_zone(user) if getattr(user, "time_zone", "") else ""
    when = due_in_zone(due, zone or current_zone_key(), now)
    if when.days_ahead == 0:
        day = _("today")
    elif when.days_ahead == 1:
        day = _("tomorrow")
    elif 1 < when.days_ahead < 7:
        day = str(WEEKDAYS[when.weekday])
    else:
        day = _("%(day)s %(month)s %(year)s") % {
            "day": when.local.day,
            "month": MONTHS[when.local.month],
            "year": when.local.year,
        }
    return str(day), when.clock


def local_time(moment: datetime, user=None) -> datetime:
    return moment.astimezone(ZoneInfo(reader_zone(user)))


def plain_or_working(start: datetime, cal: Calendar) -> datetime:
    """The level deadline from `start`: plain APPROVAL_SLA_SECONDS when set (tests,
    demos), else APPROVAL_SLA_WORKING_HOURS of working time in `cal`."""
    if settings.APPROVAL_SLA_PLAIN_TIME:
        return start + timedelta(seconds=settings.APPROVAL_SLA_SECONDS)
    return add_working_time(start, sla_working_seconds(), cal)
