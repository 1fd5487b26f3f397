"""DailyDigest and OverdueReport run directly under time skipping, with a given scheduled
time (the time-skipping server has no Schedules API; the schedules themselves are tested
on the dev server in test_schedules.py), with the real activities on the test database.

The requests they report on are real: submitted through the services and routed by the
real ExpenseApproval workflow on the dev server, whose activities write the projection.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from temporalio.worker import Worker

from accounts.models import Delegation
from accounts.services import profile_update
from approvals.models import ExpenseRequest, Notification, NotificationStatus
from approvals.worker.periodic import PERIODIC_ACTIVITIES
from approvals.workflow.periodic import (
    DailyDigestWorkflow,
    OverdueReportWorkflow,
    PeriodicInput,
    PeriodicResult,
)
from tests.support import mail as test_mail
from tests.support.requests import submit
from tests.support.schedules import end_workflows
from tests.support.servers import WorkerThread, start_time_skipping
from tests.support.waiting import wait_for
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
# 07:30 and 23:59 in Berlin on 1 December, then 00:30 on 2 December.
MORNING = "2026-12-01T06:30:00+00:00"
LATE = "2026-12-01T22:59:00+00:00"
NEXT_DAY = "2026-12-01T23:30:00+00:00"


def run_periodic(workflow, *scheduled_ats: str) -> list[PeriodicResult]:
    """Run `workflow` once per scheduled time, one after the other, on a fresh
    time-skipping server with the real periodic activities."""

    async def main() -> list[PeriodicResult]:
        env = await start_time_skipping()
        async with env:
            queue = f"periodic-{uuid.uuid4().hex[:8]}"
            with ThreadPoolExecutor(8) as pool:
                async with Worker(
                    env.client,
                    task_queue=queue,
                    workflows=[DailyDigestWorkflow, OverdueReportWorkflow],
                    activities=PERIODIC_ACTIVITIES,
                    activity_executor=pool,
                ):
                    return [
                        await env.client.execute_workflow(
                            workflow.run,
                            PeriodicInput(scheduled_at=at),
                            id=f"periodic-{uuid.uuid4().hex[:8]}",
                            task_queue=queue,
                        )
                        for at in scheduled_ats
                    ]

    with ThreadPoolExecutor(1) as pool:  # a loop of its own
        return pool.submit(asyncio.run, main()).result(240)


def digests(username: str) -> list:
    return [
        m
        for m in mail.outbox
        if "/accounts/profile/" in m.body and m.to == [f"{username}@example.com"]
    ]


@pytest.fixture
def pending(demo_org, temporal_server, settings):
    """emma's request waits on max, finn's on maria (real workflows, real projection)."""
    settings.TEMPORAL_TASK_QUEUE = f"approvals-test-{uuid.uuid4().hex[:10]}"
    settings.TIME_ZONE = "Europe/Berlin"
    thread = WorkerThread(settings.TEMPORAL_TASK_QUEUE).start()
    try:
        taxi = submit(demo_org["emma"], "300.00", title="Taxi to the airport")
        lunch = submit(demo_org["finn"], "120.00", title="Team lunch", currency="USD")
        wait_for(lambda: ExpenseRequest.objects.get(pk=taxi.pk).pending_approvers == ["max"])
        wait_for(lambda: ExpenseRequest.objects.get(pk=lunch.pk).pending_approvers == ["maria"])
        # Their assignment mails are out: the tests count only the digests' sends.
        wait_for(lambda: Notification.objects.filter(request=taxi, recipient="max").exists())
        wait_for(lambda: Notification.objects.filter(request=lunch, recipient="maria").exists())
        yield {"taxi": taxi, "lunch": lunch, **demo_org}
    finally:
        thread.stop()
        end_workflows(temporal_server.address, ExpenseRequest.objects.values_list("pk", flat=True))


def test_the_digest_goes_once_per_local_day_even_when_run_twice(pending):
    morning, late, next_day = run_periodic(DailyDigestWorkflow, MORNING, LATE, NEXT_DAY)
    assert (morning.period, late.period, next_day.period) == (
        "2026-12-01",
        "2026-12-01",
        "2026-12-02",
    )
    assert morning.sent == ["maria", "max"]
    assert late.sent == [] and late.skipped == ["maria", "max"]
    assert next_day.sent == ["maria", "max"]
    assert len(digests("max")) == len(digests("maria")) == 2
    body = digests("max")[0].body
    assert "Taxi to the airport" in body and "300.00 EUR" in body
    assert f"/requests/{pending['taxi'].pk}/" in body and "/inbox/" in body
    lunch = ExpenseRequest.objects.get(pk=pending["lunch"].pk)
    eur = f"{lunch.base_amount_cents / 100:,.2f} EUR"
    assert eur in digests("maria")[0].body  # in EUR, not the request's USD
    assert digests("max")[0].alternatives  # an HTML part too


def test_the_digest_skips_people_with_nothing_pending_and_those_who_opted_out(pending):
    profile_update(user=pending["max"], receives_digest=False)
    # maria is away: diana decides for her today, so diana gets maria's item.
    today = timezone.localdate()
    Delegation.objects.create(
        user=pending["maria"],
        delegate=pending["diana"],
        starts_on=today,
        ends_on=today + timedelta(days=3),
    )
    (result,) = run_periodic(DailyDigestWorkflow, timezone.now().isoformat())
    assert result.sent == ["diana", "maria"]
    assert digests("max") == []
    for nobody in ("emma", "finn", "victor", "fiona", "felix", "ivan", "admin"):
        assert digests(nobody) == [], nobody
    assert "Team lunch" in digests("diana")[0].body
    assert "As the delegate of" in digests("diana")[0].body
    assert "Taxi to the airport" not in digests("diana")[0].body


def test_the_digest_is_in_german_when_the_site_language_is(pending, settings):
    settings.LANGUAGE_CODE = "de"
    run_periodic(DailyDigestWorkflow, MORNING)
    (message,) = digests("max")
    assert message.subject.startswith("Ihre Freigabe-Übersicht für 01.12.2026"), message.subject
    assert "wartet auf Ihre Entscheidung" in message.body
    assert "Taxi to the airport" in message.body


def test_a_mail_server_down_for_good_leaves_failed_digests_on_ops_to_resend(pending, settings):
    # Every attempt is refused by a server that is not there (transient): the bounded
    # retries run out (their backoff skipped) and each mail is recorded as failed.
    settings.EMAIL_BACKEND = test_mail.FLAKY
    test_mail.FlakyBackend.reset(failures=10_000)
    (first,) = run_periodic(DailyDigestWorkflow, MORNING)
    assert first.failed == ["maria", "max"] and first.sent == []
    assert test_mail.FlakyBackend.attempts >= 2 * 8
    rows = Notification.objects.filter(request=None, key="digest:2026-12-01")
    assert sorted(rows.values_list("recipient", "status")) == [
        ("maria", NotificationStatus.FAILED),
        ("max", NotificationStatus.FAILED),
    ]
    assert all("Connection refused" in row.error and row.body for row in rows)

    admin = client_for(pending["admin"])
    page = admin.get("/ops/").content.decode()
    assert page.count('data-key="digest:2026-12-01"') == 2

    # A second run of the same day sends nothing more: the failed mail waits for /ops/.
    (again,) = run_periodic(DailyDigestWorkflow, LATE)
    assert again.skipped == ["maria", "max"]

    settings.EMAIL_BACKEND = test_mail.LOCMEM
    row = rows.get(recipient="max")
    assert admin.post(f"/ops/mails/{row.pk}/resend/").status_code == 302
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert len(digests("max")) == 1 and "Taxi to the airport" in digests("max")[0].body


def test_a_refused_address_fails_that_digest_only(pending, settings):
    settings.EMAIL_BACKEND = test_mail.REFUSING
    before = test_mail.RefusingBackend.attempts
    (result,) = run_periodic(DailyDigestWorkflow, MORNING)
    assert result.failed == ["maria", "max"]
    assert test_mail.RefusingBackend.attempts - before == 2  # permanent: never retried
    failed = Notification.objects.filter(request=None, status=NotificationStatus.FAILED)
    assert sorted(failed.values_list("recipient", flat=True)) == ["maria", "max"]
    assert all("SMTPRecipientsRefused" in row.error for row in failed)


def reports(username: str) -> list:
    return [m for m in mail.outbox if "/ops/" in m.body and m.to == [f"{username}@example.com"]]


def test_the_overdue_report_shows_overdue_by_approver_escalations_and_waiting_on_nobody(
    demo_org, temporal_server, settings
):
    settings.TIME_ZONE = "Europe/Berlin"
    # A 3 s deadline: emma's request escalates from max to diana; then its worker stops,
    # so no timer fires any more and the level stays past its deadline (as when the
    # approver is away), really overdue in the projection.
    settings.APPROVAL_SLA_SECONDS, settings.APPROVAL_REMINDER_SECONDS = 3, 1
    settings.TEMPORAL_TASK_QUEUE = f"approvals-test-{uuid.uuid4().hex[:10]}"
    first = WorkerThread(settings.TEMPORAL_TASK_QUEUE).start()
    try:
        late = submit(demo_org["emma"], "300.00", title="Hotel in Hamburg")
        wait_for(lambda: "diana" in ExpenseRequest.objects.get(pk=late.pk).pending_approvers)
    finally:
        first.stop()
    late.refresh_from_db()
    overdue_at = late.pending_approvers
    wait_for(lambda: ExpenseRequest.objects.get(pk=late.pk).due_at < timezone.now())

    settings.APPROVAL_SLA_SECONDS, settings.APPROVAL_REMINDER_SECONDS = 172800, 86400
    settings.TEMPORAL_TASK_QUEUE = f"approvals-test-{uuid.uuid4().hex[:10]}"
    second = WorkerThread(settings.TEMPORAL_TASK_QUEUE).start()
    try:
        fresh = submit(demo_org["max"], "200.00", title="Printer paper")  # diana, in time
        # The admin's own request: no manager above, no other admin: waits on nobody.
        stuck = submit(demo_org["admin"], "90.00", title="Cables for the meeting room")
        wait_for(lambda: ExpenseRequest.objects.get(pk=fresh.pk).pending_approvers == ["diana"])
        wait_for(lambda: ExpenseRequest.objects.get(pk=stuck.pk).waiting_reason == "needs_approver")
        now = timezone.now().isoformat()
        (report,) = run_periodic(OverdueReportWorkflow, now)
        (digest,) = run_periodic(DailyDigestWorkflow, now)
    finally:
        second.stop()
        end_workflows(temporal_server.address, ExpenseRequest.objects.values_list("pk", flat=True))

    assert report.sent == ["admin"]
    (message,) = reports("admin")
    body = message.body
    overdue = body.split("== Overdue, by approver ==")[1].split("== Escalations this week ==")[0]
    escalations = body.split("== Escalations this week ==")[1].split("== Waiting on nobody ==")[0]
    waiting = body.split("== Waiting on nobody ==")[1]
    approver = demo_org[overdue_at[0]].display_name
    assert f"{approver}:" in overdue and f"#{late.pk} Hotel in Hamburg" in overdue
    assert "Printer paper" not in overdue and "Cables" not in overdue
    assert f"#{late.pk} Hotel in Hamburg: level 1" in escalations
    assert "from max to diana" in escalations
    assert f"#{stuck.pk} Cables for the meeting room" in waiting
    assert "Hotel" not in waiting and "Printer" not in waiting
    assert message.subject.startswith(f"Overdue report {report.period}: 1 overdue, ")
    assert message.alternatives and "Hotel in Hamburg" in message.alternatives[0][0]

    # Diana's digest: the overdue request first, then the one still in time.
    if overdue_at == ["diana"]:
        text = digests("diana")[0].body
        assert text.index("Hotel in Hamburg") < text.index("Printer paper")
        assert text.count("[OVERDUE]") == 1
    assert "diana" in digest.sent


def test_the_overdue_report_is_in_german_and_goes_once_a_week(demo_org, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.LANGUAGE_CODE = "de"
    monday, sunday = "2026-11-30T07:00:00+00:00", "2026-12-06T22:00:00+00:00"
    first, again = run_periodic(OverdueReportWorkflow, monday, sunday)
    assert first.period == again.period == "2026-W49"
    assert first.sent == ["admin"] and again.skipped == ["admin"]
    (message,) = reports("admin")
    assert message.subject.startswith("Überfälligkeitsbericht 2026-W49"), message.subject
    assert "Nichts ist überfällig." in message.body
    assert "Keine Eskalationen." in message.body
