"""The weekly payout run's Schedule on the dev server: created idempotently, overlap
SKIP, and a triggered run pays the open batch for the period of its scheduled time."""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings
from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy

from approvals.temporal.client import call
from payouts.models import Batch
from payouts.schedule import register_payout_schedule
from payouts.workflow.contract import PAYOUT_RUN_SCHEDULE_ID, PAYOUT_RUN_WORKFLOW
from tests.support.payouts import approved, payout_result, wait_payment
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def schedule(task_queue):
    async def register(client):
        await register_payout_schedule(client, task_queue)
        await register_payout_schedule(client, task_queue)  # again: an update, no error
        return await client.get_schedule_handle(PAYOUT_RUN_SCHEDULE_ID).describe()

    yield call(register)

    async def delete(client):
        with contextlib.suppress(Exception):
            await client.get_schedule_handle(PAYOUT_RUN_SCHEDULE_ID).delete()

    call(delete)


def test_schedule_is_weekly_with_overlap_skip_in_the_local_time_zone(schedule, task_queue):
    s = schedule.schedule
    assert s.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert s.policy.catchup_window.total_seconds() > 0
    assert isinstance(s.action, ScheduleActionStartWorkflow)
    assert s.action.workflow == PAYOUT_RUN_WORKFLOW and s.action.task_queue == task_queue
    assert s.spec.time_zone_name == settings.TIME_ZONE
    calendar = s.spec.calendars[0]
    assert [r.start for r in calendar.day_of_week] == [1]
    assert [r.start for r in calendar.hour] == [6]


def test_a_triggered_run_closes_the_batch_for_its_scheduled_time(demo_org, worker, schedule):
    request = approved(demo_org, "500.00")
    wait_payment(request, "scheduled")

    async def trigger(client):
        await client.get_schedule_handle(PAYOUT_RUN_SCHEDULE_ID).trigger()

    call(trigger)
    wait_payment(request, "paid")
    assert payout_result(request).status.name == "COMPLETED"
    batch = wait_for(lambda: Batch.objects.filter(payments__request_id=request.pk).first())
    # The period is the schedule's start time of the run (minute precision, UTC).
    assert batch.period and batch.period.endswith("Z") and "T" in batch.period
    assert batch.run_id.startswith(PAYOUT_RUN_SCHEDULE_ID)
