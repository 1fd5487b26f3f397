"""A level's clock in working time (issue 31, patch 31-business-calendar).

Pure: the calendars travel in the run's input (the request's default) and with the
route and the managers lookups (people with their own time zone or Land); the
calendar functions (`approvals.calendar`) do no I/O. A level's deadline is
`PolicySnapshot.sla_working_seconds` of working time in its approver's calendar, its
reminder the same for `reminder_working_seconds` and always inside working hours;
an extension adds working time.
"""

from __future__ import annotations

from datetime import datetime

from ..calendar import Calendar, add_working_time, reminder_time
from .contract import LevelState, Managers
from .state import Machine


def level_calendar(m: Machine, level: LevelState) -> Calendar:
    """The calendar of the level's first approver who has one of their own, else the
    request's default."""
    own = m.route.calendars if m.route is not None else {}
    for person in level.approvers:
        if person in own:
            return own[person]
    assert m.calendar is not None  # m.working implies a calendar (workflow.run)
    return m.calendar


def working_clock(m: Machine, level: LevelState, now: datetime):
    """(due, remind_at or None) of a level whose clock starts `now`."""
    cal = level_calendar(m, level)
    policy = m.policy
    due = add_working_time(now, policy.sla_working_seconds, cal)
    reminder = policy.reminder_working_seconds
    remind_at = (
        reminder_time(now, reminder, cal) if 0 < reminder < policy.sla_working_seconds else None
    )
    return due, remind_at


def extended(m: Machine, level: LevelState, moment: datetime, seconds: int) -> datetime:
    """`moment` moved by `seconds` of working time in the level's calendar."""
    return add_working_time(moment, seconds, level_calendar(m, level))


def learn(m: Machine, managers: Managers | None) -> None:
    """Keep the calendars a managers lookup brought (escalation targets, replacements)."""
    if m.working and managers is not None and m.route is not None and managers.calendars:
        m.route.calendars = {**m.route.calendars, **managers.calendars}
