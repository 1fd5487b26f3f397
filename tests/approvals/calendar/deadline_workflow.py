"""(Beside its test, not in tests/support: the sandbox re-imports a workflow's package,
and tests/support's __init__ touches the file system.)

A small workflow that waits on a business calendar, for the calendar's time-skipping
test: it proves `approvals.calendar` runs in Temporal's sandbox (no Django, no I/O)
and that a `Calendar` travels through the project's data converter unchanged.

It reminds, then expires, at the times the calendar computes from a given start, and
returns when (in workflow time) each happened. The ExpenseApproval workflow will do
the same once it takes a calendar in its input (the lead wires that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():  # as the worker's sandbox_runner() does
    from approvals.calendar import Calendar, add_working_time, reminder_time


@dataclass
class DeadlineInput:
    calendar: Calendar
    submitted_at: str  # ISO 8601, aware
    sla_seconds: int
    reminder_seconds: int


@dataclass
class DeadlineResult:
    reminder_at: str
    due_at: str
    slept_to_reminder: float  # seconds of workflow time
    slept_to_due: float
    holidays: int  # the calendar's holiday count, as the workflow received it


@workflow.defn(name="CalendarDeadline")
class CalendarDeadlineWorkflow:
    @workflow.run
    async def run(self, inp: DeadlineInput) -> DeadlineResult:
        start = datetime.fromisoformat(inp.submitted_at)
        remind = reminder_time(start, inp.reminder_seconds, inp.calendar)
        due = add_working_time(start, inp.sla_seconds, inp.calendar)
        began = workflow.now()
        await workflow.sleep(remind - start)
        reminded = workflow.now()
        await workflow.sleep(due - remind)
        ended = workflow.now()
        return DeadlineResult(
            reminder_at=remind.isoformat(),
            due_at=due.isoformat(),
            slept_to_reminder=(reminded - began).total_seconds(),
            slept_to_due=(ended - began).total_seconds(),
            holidays=len(inp.calendar.holidays),
        )
