"""The Temporal Schedules of the project, declared in one list, and their registration.

`SCHEDULES` is the registry of approvals' own: (schedule id, workflow type, spec); the
apps that build on approvals add theirs through the port (approvals/ports.py:
`TemporalParts.schedules`; payouts: the weekly payout run), and `all_schedules()` is
both. `register_schedules` creates each one, or, when it exists already, updates it to
the declared action, spec and policy (a paused schedule stays paused), so running it
again is safe; `manage.py register_schedules`, `make run` and the worker's container
entrypoint call it. Adding a schedule is adding one `ScheduleEntry` below.

Every schedule: calendar times in `TIME_ZONE` (07:30 stays 07:30 local across daylight
saving changes), overlap policy SKIP (a run still going when the next is due means the
next is skipped, never two at once), and a catch-up window
(`APPROVALS_SCHEDULE_CATCHUP_SECONDS`): a run missed while Temporal was down is made
when it is back, if that is within the window. The workflow id of each run is the
schedule id plus the scheduled time, which the run also finds in its
`TemporalScheduledStartTime` search attribute (approvals/workflow/periodic.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from .. import ports
from ..workflow.periodic import DIGEST_WORKFLOW, OVERDUE_REPORT_WORKFLOW, PeriodicInput

# A run that takes longer than this is ended, so SKIP can never block a schedule for good.
RUN_TIMEOUT = timedelta(hours=6)


def clock(value: str) -> tuple[int, int]:
    """ "07:30" -> (7, 30); settings has validated the format."""
    hours, minutes = value.split(":")
    return int(hours), int(minutes)


def daily_at(value: str, comment: str) -> ScheduleSpec:
    hour, minute = clock(value)
    calendar = ScheduleCalendarSpec(
        hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)], comment=comment
    )
    return ScheduleSpec(calendars=[calendar], time_zone_name=settings.TIME_ZONE)


def weekly_at(day: str, value: str, comment: str) -> ScheduleSpec:
    hour, minute = clock(value)
    calendar = ScheduleCalendarSpec(
        day_of_week=[ScheduleRange(settings.WEEKDAYS.index(day))],
        hour=[ScheduleRange(hour)],
        minute=[ScheduleRange(minute)],
        comment=comment,
    )
    return ScheduleSpec(calendars=[calendar], time_zone_name=settings.TIME_ZONE)


@dataclass(frozen=True)
class ScheduleEntry:
    id: str
    workflow: str  # the workflow type started by each action
    spec: Callable[[], ScheduleSpec]  # built from the settings at registration
    args: Callable[[], list[Any]] = field(default=lambda: [PeriodicInput()])
    note: str = ""


SCHEDULES: list[ScheduleEntry] = [
    ScheduleEntry(
        id="approvals-digest",
        workflow=DIGEST_WORKFLOW,
        spec=lambda: daily_at(settings.APPROVALS_DIGEST_TIME, "daily digest"),
        note="Each approver's pending decisions, one mail a day.",
    ),
    ScheduleEntry(
        id="approvals-overdue-report",
        workflow=OVERDUE_REPORT_WORKFLOW,
        spec=lambda: weekly_at(
            settings.APPROVALS_OVERDUE_REPORT_DAY,
            settings.APPROVALS_OVERDUE_REPORT_TIME,
            "weekly overdue report",
        ),
        note="Overdue requests, escalations and requests waiting on nobody, to the admins.",
    ),
]


def all_schedules() -> list[ScheduleEntry]:
    """Approvals' schedules, then those the plugged apps add (approvals/ports.py)."""
    return [*SCHEDULES, *(e for parts in ports.temporal_parts() for e in parts.schedules)]


def schedule_ids() -> list[str]:
    return [entry.id for entry in all_schedules()]


def entry(schedule_id: str) -> ScheduleEntry:
    return next(e for e in all_schedules() if e.id == schedule_id)


def build(e: ScheduleEntry, *, start_at: datetime | None = None) -> Schedule:
    """The declared schedule; `start_at` pins the first possible time (tests)."""
    spec = e.spec()
    if start_at is not None:
        spec.start_at = start_at
    return Schedule(
        action=ScheduleActionStartWorkflow(
            e.workflow,
            args=e.args(),
            id=e.id,  # the scheduler appends the scheduled time
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=spec,
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=timedelta(seconds=max(10, settings.APPROVALS_SCHEDULE_CATCHUP_SECONDS)),
        ),
    )


async def register_schedules(
    client: Client,
    entries: list[ScheduleEntry] | None = None,
    *,
    start_at: datetime | None = None,
) -> dict[str, str]:
    """Create every schedule, or update an existing one to its declaration.

    Returns schedule id -> "created" or "updated". A paused schedule stays paused (and
    keeps its note): pausing is an operator's decision, not the code's.
    """
    done: dict[str, str] = {}
    for e in all_schedules() if entries is None else entries:
        schedule = build(e, start_at=start_at)
        schedule.state.note = e.note
        try:
            await client.create_schedule(e.id, schedule)
            done[e.id] = "created"
            continue
        except ScheduleAlreadyRunningError:
            pass

        def update(current: ScheduleUpdateInput, schedule: Schedule = schedule) -> ScheduleUpdate:
            schedule.state = current.description.schedule.state
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(e.id).update(update)
        done[e.id] = "updated"
    return done
