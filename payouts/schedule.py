"""The weekly payout run as a Temporal Schedule (id `approvals-payout-run`, overlap SKIP).

`payout_schedule()` gives the spec of `PAYOUT_RUN_ENTRY`, which payouts plugs into the
schedule registry (approvals/temporal/schedules.py: all_schedules, made by
register_schedules) through the approvals port (payouts/extension.py);
`register_payout_schedule(client)` makes this one alone (tests). Each run takes its
period from the scheduled start time, so a run triggered twice in one period pays
that period's batch once.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

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
)

from approvals.temporal.schedules import ScheduleEntry

from .workflow.contract import (
    PAYOUT_RUN_SCHEDULE_ID,
    PAYOUT_RUN_WORKFLOW,
    PayoutRunInput,
)

# Mondays at 06:00 local time (TIME_ZONE); PAYOUT_RUN_WEEKDAY 0 = Sunday ... 6 = Saturday.
WEEKDAY = int(getattr(settings, "PAYOUT_RUN_WEEKDAY", 1))
HOUR = int(getattr(settings, "PAYOUT_RUN_HOUR", 6))


def payout_schedule(task_queue: str | None = None) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PAYOUT_RUN_WORKFLOW,
            PayoutRunInput(),
            id=PAYOUT_RUN_SCHEDULE_ID,
            task_queue=task_queue or settings.TEMPORAL_TASK_QUEUE,
            execution_timeout=timedelta(hours=6),
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(WEEKDAY)],
                    hour=[ScheduleRange(HOUR)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name=settings.TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def register_payout_schedule(client: Client, task_queue: str | None = None) -> None:
    """Create the schedule, or update it to today's definition (idempotent)."""
    schedule = payout_schedule(task_queue)
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(PAYOUT_RUN_SCHEDULE_ID, schedule)
        return
    handle = client.get_schedule_handle(PAYOUT_RUN_SCHEDULE_ID)
    await handle.update(lambda _input: ScheduleUpdate(schedule=schedule))


PAYOUT_RUN_ENTRY = ScheduleEntry(
    id=PAYOUT_RUN_SCHEDULE_ID,
    workflow=PAYOUT_RUN_WORKFLOW,
    spec=lambda: payout_schedule().spec,  # weekly, Mondays 06:00 (above)
    args=lambda: [PayoutRunInput()],
    note="Closes the open payout batch: the SEPA file, payments marked paid.",
)
