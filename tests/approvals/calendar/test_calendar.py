"""The business calendar's pure functions: examples a person can check on a wall calendar,
and properties that hold for any start and any amount of working time.

The holiday dates come from the `holidays` library through `calendars.holiday_dates`,
the same call `calendar_for` makes (no database needed for these).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.calendar import (
    Calendar,
    add_working_time,
    in_working_hours,
    next_working_moment,
    reminder_time,
    working_seconds_between,
)
from approvals.calendars import holiday_dates

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
SLA = 16 * HOUR


def berlin(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def calendar(subdivision: str = "BE", zone: str = "Europe/Berlin") -> Calendar:
    return Calendar(
        time_zone=zone,
        holidays=holiday_dates("DE", subdivision, 2025, 2027),
        subdivision=subdivision,
        first_year=2025,
        last_year=2027,
    )


BE = calendar("BE")
BY = calendar("BY")


def local(moment: datetime, zone: str = "Europe/Berlin") -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def test_friday_16_00_plus_16_working_hours_is_tuesday_16_00():
    # Fri 16-17 (1 h), Mon 9-17 (8 h), Tue 9-16 (7 h): the weekend counts for nothing.
    due = add_working_time(berlin(2026, 11, 13, 16), SLA, BE)
    assert local(due) == berlin(2026, 11, 17, 16)
    assert due.tzinfo == UTC
    # Plain time would have said Sunday 16:00: the bug of issue 31.
    assert berlin(2026, 11, 13, 16) + timedelta(seconds=48 * HOUR) == berlin(2026, 11, 15, 16)


def test_easter_in_berlin_skips_good_friday_and_easter_monday():
    assert "2025-04-18" in BE.holidays and "2025-04-21" in BE.holidays
    # Thu 17 April 2025 16:00: Thu 1 h; Good Friday, weekend, Easter Monday off; Tue 8 h, Wed 7 h.
    due = add_working_time(berlin(2025, 4, 17, 16), SLA, BE)
    assert local(due) == berlin(2025, 4, 23, 16)
    # Submitted on Easter Monday itself: the clock starts on Tuesday at 09:00.
    assert local(next_working_moment(berlin(2025, 4, 21, 10), BE)) == berlin(2025, 4, 22, 9)
    assert local(add_working_time(berlin(2025, 4, 21, 10), SLA, BE)) == berlin(2025, 4, 23, 17)


def test_spring_dst_change_keeps_the_local_clock():
    # Berlin moves from CET to CEST in the night to Sunday 30 March 2025.
    start = berlin(2025, 3, 28, 16)
    assert start.utcoffset() == timedelta(hours=1)
    due = add_working_time(start, SLA, BE)
    assert local(due) == berlin(2025, 4, 1, 16)  # Tuesday 16:00 local, as on any week
    assert due == datetime(2025, 4, 1, 14, tzinfo=UTC)  # ...which is 14:00 UTC now, not 15:00
    assert working_seconds_between(start, due, BE) == SLA


def test_autumn_dst_change_keeps_the_local_clock():
    # Back from CEST to CET in the night to Sunday 26 October 2025.
    start = berlin(2025, 10, 24, 16)
    due = add_working_time(start, SLA, BE)
    assert local(due) == berlin(2025, 10, 28, 16)
    assert due == datetime(2025, 10, 28, 15, tzinfo=UTC)
    # Real time passed: 96 h plus the hour the clocks went back.
    assert due - start == timedelta(hours=97)


def test_a_person_in_bavaria_has_epiphany_off_and_one_in_berlin_does_not():
    assert "2026-01-06" in BY.holidays and "2026-01-06" not in BE.holidays
    monday = berlin(2026, 1, 5, 16)
    assert local(add_working_time(monday, SLA, BE)) == berlin(2026, 1, 7, 16)
    assert local(add_working_time(monday, SLA, BY)) == berlin(2026, 1, 8, 16)


def test_a_person_in_another_time_zone_counts_their_own_working_hours():
    new_york = calendar("BE", "America/New_York")
    # Friday 16:00 in Berlin is 10:00 in New York: 7 h left that day, Monday 8 h, Tuesday 1 h.
    due = add_working_time(berlin(2026, 11, 13, 16), SLA, new_york)
    assert local(due, "America/New_York") == datetime(
        2026, 11, 17, 10, tzinfo=ZoneInfo("America/New_York")
    )


def test_time_used_up_exactly_at_closing_ends_there_not_at_the_next_opening():
    assert local(add_working_time(berlin(2026, 11, 13, 16), HOUR, BE)) == berlin(2026, 11, 13, 17)


def test_reminders_never_go_out_at_night_or_on_a_weekend_or_holiday():
    # Half the SLA from Friday 16:00 ends Monday 16:00: a working moment, kept.
    assert local(reminder_time(berlin(2026, 11, 13, 16), 8 * HOUR, BE)) == berlin(2026, 11, 16, 16)
    # Used up exactly at Friday's closing: the reminder waits for Monday 09:00.
    assert local(reminder_time(berlin(2026, 11, 13, 16), HOUR, BE)) == berlin(2026, 11, 16, 9)
    # Christmas 2025: the 24th (a Wednesday) is a working day in Berlin, the 25th and 26th
    # are holidays, then a weekend: a reminder due at the 24th's closing waits for the 29th.
    xmas = reminder_time(berlin(2025, 12, 23, 16, 30), 30 * 60, BE)
    assert local(xmas) == berlin(2025, 12, 24, 9)
    xmas_eve = reminder_time(berlin(2025, 12, 24, 16, 30), 30 * 60, BE)
    assert local(xmas_eve) == berlin(2025, 12, 29, 9)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 1, 5, 9), HOUR, BE)  # noqa: DTZ001 - the point


def test_a_calendar_without_working_days_is_an_error_not_a_hang():
    with pytest.raises(ValueError):
        add_working_time(berlin(2026, 1, 5, 9), HOUR, Calendar(working_days=()))


# ------------------------------------------------------------------ properties
starts = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
amounts = st.integers(min_value=1, max_value=80 * HOUR)
calendars = st.sampled_from([BE, BY, calendar("BE", "America/New_York")])


@settings(max_examples=300, deadline=None)
@given(start=starts, seconds=amounts, cal=calendars)
def test_exactly_that_much_working_time_passes(start, seconds, cal):
    due = add_working_time(start, seconds, cal)
    assert due > start
    assert working_seconds_between(start, due, cal) == seconds


@settings(max_examples=300, deadline=None)
@given(start=starts, first=amounts, second=amounts, cal=calendars)
def test_working_time_adds_up(start, first, second, cal):
    one_go = add_working_time(start, first + second, cal)
    assert add_working_time(add_working_time(start, first, cal), second, cal) == one_go


@settings(max_examples=300, deadline=None)
@given(start=starts, seconds=amounts, cal=calendars)
def test_a_reminder_is_always_in_working_hours_and_never_before_its_time(start, seconds, cal):
    when = reminder_time(start, seconds, cal)
    assert in_working_hours(when, cal)
    assert when >= add_working_time(start, seconds, cal)


@settings(max_examples=300, deadline=None)
@given(moment=starts, cal=calendars)
def test_the_next_working_moment_is_the_first_one(moment, cal):
    nxt = next_working_moment(moment, cal)
    assert nxt >= moment and in_working_hours(nxt, cal)
    assert working_seconds_between(moment, nxt, cal) == 0
