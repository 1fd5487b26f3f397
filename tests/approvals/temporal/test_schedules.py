"""The Temporal Schedules on the real dev server (the time-skipping test server has no
Schedules API: CreateSchedule is unimplemented there, so the workflows alone run under
time skipping in test_periodic_time_skipping.py).

Registration is idempotent and the real CLI lists the registry; the digest stays at
07:30 Berlin time across both daylight saving changes; triggering the digest twice on
one day mails each approver once, and nobody with nothing pending.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from temporalio.client import ScheduleOverlapPolicy

from approvals.models import ExpenseRequest, Notification
from approvals.temporal import schedules
from approvals.workflow.periodic import DIGEST_WORKFLOW, SCHEDULED_START, PeriodicResult
from tests.support.requests import submit
from tests.support.schedules import cleanup, cli, cli_schedule_ids, end_workflows, run_async
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
BERLIN = ZoneInfo("Europe/Berlin")
DIGEST = "approvals-digest"


@pytest.fixture
def registered(temporal_server, settings):
    """The registry's schedules are deleted after the test (ids are per namespace)."""
    settings.TIME_ZONE = "Europe/Berlin"
    yield temporal_server.address
    cleanup(temporal_server.address, schedules.schedule_ids())
    end_workflows(temporal_server.address, ExpenseRequest.objects.values_list("pk", flat=True))


def test_registering_twice_creates_then_updates_and_the_cli_lists_every_schedule(
    registered, settings
):
    first = run_async(schedules.register_schedules, registered)
    assert first == dict.fromkeys(schedules.schedule_ids(), "created")
    assert {DIGEST, "approvals-overdue-report"} <= set(first)

    settings.APPROVALS_DIGEST_TIME = "06:45"  # a changed setting reaches the schedule
    second = run_async(schedules.register_schedules, registered)
    assert second == dict.fromkeys(schedules.schedule_ids(), "updated")

    listed = cli_schedule_ids(registered)
    for schedule_id in schedules.schedule_ids():
        assert listed.count(schedule_id) == 1, listed

    async def described(client):
        return {i: await client.get_schedule_handle(i).describe() for i in schedules.schedule_ids()}

    for schedule_id, desc in run_async(described, registered).items():
        sched = desc.schedule
        assert sched.policy.overlap == ScheduleOverlapPolicy.SKIP, schedule_id
        assert sched.policy.catchup_window == timedelta(
            seconds=settings.APPROVALS_SCHEDULE_CATCHUP_SECONDS
        )
        assert sched.spec.time_zone_name == "Europe/Berlin"
        assert sched.action.task_queue == settings.TEMPORAL_TASK_QUEUE
        assert sched.action.workflow == schedules.entry(schedule_id).workflow
    digest = run_async(described, registered)[DIGEST].schedule.spec.calendars[0]
    assert (digest.hour[0].start, digest.minute[0].start) == (6, 45)
    report = run_async(described, registered)["approvals-overdue-report"].schedule.spec
    assert [r.start for r in report.calendars[0].day_of_week] == [1]  # Monday


def test_a_schedule_paused_with_the_cli_stays_paused_when_registered_again(registered):
    run_async(schedules.register_schedules, registered)
    # The README's commands.
    cli(
        registered, "schedule", "toggle", "--schedule-id", DIGEST, "--pause", "--reason", "holidays"
    )

    async def register_describe(client):
        await schedules.register_schedules(client)
        return await client.get_schedule_handle(DIGEST).describe()

    desc = run_async(register_describe, registered)
    assert desc.schedule.state.paused is True
    assert desc.schedule.state.note == "holidays"
    cli(registered, "schedule", "toggle", "--schedule-id", DIGEST, "--unpause", "--reason", "back")
    assert run_async(register_describe, registered).schedule.state.paused is False


@pytest.mark.parametrize(
    "start, change",
    [
        (datetime(2027, 3, 24, tzinfo=UTC), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        (datetime(2027, 10, 27, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC)),
    ],
    ids=["march", "october"],
)
def test_the_digest_stays_at_0730_berlin_time_across_a_dst_change(registered, start, change):
    # start_at pins the first possible run, so the next action times cross the change.
    async def register_and_describe(client):
        entry = schedules.entry(DIGEST)
        await schedules.register_schedules(client, [entry], start_at=start)
        return await client.get_schedule_handle(DIGEST).describe()

    times = run_async(register_and_describe, registered).info.next_action_times
    assert len(times) >= 5
    assert times[0] > start
    before = [t for t in times if t < change]
    after = [t for t in times if t > change]
    assert before and after, times
    for t in times:
        local = t.astimezone(BERLIN)
        assert (local.hour, local.minute) == (7, 30), t
    for a, b in zip(times, times[1:], strict=False):
        assert a.astimezone(BERLIN).date() + timedelta(days=1) == b.astimezone(BERLIN).date()
    # In UTC the run moves by the hour the clocks moved.
    assert {t.astimezone(UTC).hour for t in before} != {t.astimezone(UTC).hour for t in after}


def _digests(username: str) -> list:
    return [
        m
        for m in mail.outbox
        if "/accounts/profile/" in m.body and m.to == [f"{username}@example.com"]
    ]


def test_triggering_the_digest_twice_mails_each_approver_once(registered, worker, demo_org):
    emma, finn = demo_org["emma"], demo_org["finn"]
    first = submit(emma, "300.00", title="Taxi to the airport")
    second = submit(finn, "120.00", title="Team lunch")
    wait_for(lambda: ExpenseRequest.objects.get(pk=first.pk).pending_approvers == ["max"])
    wait_for(lambda: ExpenseRequest.objects.get(pk=second.pk).pending_approvers == ["maria"])
    run_async(schedules.register_schedules, registered)

    async def trigger_and_wait(client, runs: int):
        handle = client.get_schedule_handle(DIGEST)
        if runs == 1:
            await handle.trigger()
        else:  # the README's command
            cli(registered, "schedule", "trigger", "--schedule-id", DIGEST)
        for _ in range(600):
            actions = (await handle.describe()).info.recent_actions
            if len(actions) >= runs:
                break
            await asyncio.sleep(0.1)
        started = actions[runs - 1].action
        assert started.workflow_id.startswith(f"{DIGEST}-")
        run = client.get_workflow_handle(
            started.workflow_id,
            run_id=started.first_execution_run_id,
            result_type=PeriodicResult,
        )
        return await run.result(), await run.describe()

    one, one_desc = run_async(lambda c: trigger_and_wait(c, 1), registered)
    two, two_desc = run_async(lambda c: trigger_and_wait(c, 2), registered)

    assert one_desc.workflow_type == two_desc.workflow_type == DIGEST_WORKFLOW
    # Each run's period is the Berlin date of its own scheduled (trigger) time.
    for result, desc in ((one, one_desc), (two, two_desc)):
        scheduled = desc.typed_search_attributes.get(SCHEDULED_START)
        assert scheduled is not None
        assert result.period == scheduled.astimezone(BERLIN).date().isoformat()
    assert one.sent == ["maria", "max"]
    if two.period == one.period:  # not across midnight in Berlin
        assert two.sent == [] and two.skipped == ["maria", "max"]
        assert len(_digests("max")) == len(_digests("maria")) == 1
    for nobody in ("emma", "finn", "diana", "victor", "admin"):
        assert _digests(nobody) == []
    assert "Taxi to the airport" in _digests("max")[0].body
    assert "300.00 EUR" in _digests("max")[0].body
    assert f"/requests/{first.pk}/" in _digests("max")[0].body
    assert "Team lunch" in _digests("maria")[0].body
    assert Notification.objects.filter(request=None, key=f"digest:{one.period}").count() == 2


def _input_key_id(address: str) -> str:
    async def key_id(client):
        desc = await client.get_schedule_handle(DIGEST).describe()
        (payload,) = desc.raw_description.schedule.action.start_workflow.input.payloads
        return payload.metadata["encryption-key-id"].decode()

    return run_async(key_id, address)


def test_registering_again_after_a_key_rotation_encrypts_the_input_with_the_new_key(
    registered, settings
):
    old, new = "old:" + "A" * 43 + "=", "new:" + "B" * 43 + "="
    settings.TEMPORAL_PAYLOAD_KEYS = old
    run_async(schedules.register_schedules, registered)
    assert _input_key_id(registered) == "old"
    settings.TEMPORAL_PAYLOAD_KEYS = f"{new},{old}"  # rotation step 2, then the worker starts
    run_async(schedules.register_schedules, registered)
    assert _input_key_id(registered) == "new"  # the old key can go once histories allow
