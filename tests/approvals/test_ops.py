"""`/ops/`: what needs attention, from the database plus a live look at Temporal."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client
from django.utils import timezone

from approvals.effects import notifications
from approvals.models import ExpenseRequest, Notification, OpsIssue
from approvals.workflow.contract import StepEvent
from tests.approvals.temporal.test_activities import transition
from tests.support.requests import submit, wait_pending_level, wait_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class SmtpDownBackend(EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def items(response, kind):
    html = response.content.decode()
    return html.count(f'data-kind="{kind}"')


@pytest.mark.parametrize("who", ["emma", "max", "diana", "victor"])
def test_ops_is_refused_to_everyone_but_admins(demo_org, who):
    client = client_for(demo_org[who])
    assert client.get("/ops/").status_code == 403
    assert client.post("/ops/requests/1/start/").status_code == 403
    assert client.post("/ops/requests/1/reroute/").status_code == 403
    assert client.post("/ops/mails/1/resend/").status_code == 403
    assert client.post("/ops/issues/1/dismiss/").status_code == 403


def test_ops_sends_anonymous_visitors_to_the_login(db):
    response = Client().get("/ops/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_activity_failing_repeatedly_is_listed_with_what_temporal_says(
    demo_org, worker, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownBackend"
    request = submit(demo_org["emma"], "80.00", title="Failing mail")
    issue = wait_for(
        lambda: OpsIssue.objects.filter(request=request, resolved_at__isnull=True).first(),
        timeout=30,
        message="no ops issue recorded for the failing send_notifications",
    )
    assert issue.activity == "send_notifications" and issue.attempt >= 3
    admin = client_for(demo_org["admin"])
    page = admin.get("/ops/")
    html = page.content.decode()
    assert page.status_code == 200 and items(page, "failing_activity") == 1
    assert f'data-request-id="{request.pk}"' in html
    assert "SMTPServerDisconnected" in html
    assert f"/audit/{request.pk}/" in html and f"/workflows/expense-{request.pk}" in html
    # Live from describe(): the pending activity, its attempt and last failure.
    assert 'data-testid="ops-pending-activity"' in html and "send_notifications" in html
    # Mended: the next attempt (Temporal's own retry) succeeds and the issue resolves.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    wait_for(
        lambda: OpsIssue.objects.get(pk=issue.pk).resolved_at is not None,
        timeout=45,
        message="the issue never resolved after the mail server came back",
    )
    assert items(admin.get("/ops/"), "failing_activity") == 0
    wait_pending_level(request, 1)


def test_a_queued_request_is_listed_and_retry_now_starts_it(demo_org, worker, settings):
    request = ExpenseRequest.objects.create(
        requester=demo_org["emma"], title="Stuck", amount=Decimal("42.00"), category="travel"
    )
    ExpenseRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    admin = client_for(demo_org["admin"])
    page = admin.get("/ops/")
    assert items(page, "queued") == 1 and 'data-testid="ops-retry"' in page.content.decode()
    for _ in range(2):  # safe to repeat: the second click starts nothing new
        response = admin.post(f"/ops/requests/{request.pk}/start/")
        assert response.status_code == 302 and response["Location"] == "/ops/"
    wait_status(request, "pending")
    assert items(admin.get("/ops/"), "queued") == 0


def test_a_failed_mail_is_listed_and_resent_from_ops(demo_org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = ExpenseRequest.objects.create(
        requester=demo_org["emma"],
        title="Mail",
        amount=Decimal("9.00"),
        category="travel",
        status="pending",
    )
    max_ = demo_org["max"]
    max_.email = "max@\nexample.com"
    max_.save()
    t = transition(request, 2, [StepEvent(kind="assigned", level=1, recipients=["max"])])
    with pytest.raises(notifications.PermanentMailError):
        notifications.send_for_transition(t)
    admin = client_for(demo_org["admin"])
    page = admin.get("/ops/")
    assert items(page, "failed_mail") == 1 and "BadHeaderError" in page.content.decode()
    max_.email = "max@example.com"
    max_.save()
    row = Notification.objects.get()
    for _ in range(2):
        assert admin.post(f"/ops/mails/{row.pk}/resend/").status_code == 302
    assert len(mail.outbox) == 1
    assert items(admin.get("/ops/"), "failed_mail") == 0


def test_requests_waiting_on_nobody_and_overdue_are_listed_in_words(demo_org):
    now = timezone.now()
    waiting = ExpenseRequest.objects.create(
        requester=demo_org["emma"],
        title="Nobody",
        amount=Decimal("5.00"),
        category="travel",
        status="pending",
        waiting_reason="needs_approver",
        workflow_started_at=now,
    )
    late = ExpenseRequest.objects.create(
        requester=demo_org["emma"],
        title="Late",
        amount=Decimal("6.00"),
        category="travel",
        status="pending",
        pending_approvers=["max"],
        current_level=1,
        due_at=now - timedelta(hours=1),
        workflow_started_at=now,
    )
    admin = client_for(demo_org["admin"])
    page = admin.get("/ops/")
    html = page.content.decode()
    assert items(page, "needs_approver") == 1 and items(page, "overdue") == 1
    assert f'data-request-id="{waiting.pk}"' in html and f'data-request-id="{late.pk}"' in html
    assert "No one can decide this level" in html and "past its deadline" in html
    german = admin.get("/ops/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Niemand kann diese Stufe entscheiden" in german


def test_a_request_waiting_on_nobody_is_routed_again_from_ops(demo_org, worker):
    """admin's own request has nobody left (the only admin is the requester); once a second
    admin exists, "Route again" gives the level to them, and a repeat changes nothing."""
    from accounts.models import User
    from tests.support.requests import wait_state

    admin = demo_org["admin"]
    request = submit(admin, "120.00", title="Cables")
    wait_state(request, lambda s: s.waiting_reason == "needs_approver")
    page = client_for(admin)
    wait_for(lambda: items(page.get("/ops/"), "needs_approver") == 1)

    page.post(f"/ops/requests/{request.pk}/reroute/")  # still nobody: nothing changes
    assert wait_state(request, lambda s: True).pending_approvers == []

    User.objects.create(username="ada2", is_superuser=True, is_staff=True)
    response = page.post(f"/ops/requests/{request.pk}/reroute/", follow=True)
    assert "ada2" in response.content.decode()
    state = wait_state(request, lambda s: s.pending_approvers == ["ada2"])
    assert state.waiting_reason == ""
    page.post(f"/ops/requests/{request.pk}/reroute/")  # a repeat: still ada2, no new step
    assert wait_state(request, lambda s: True).seq == state.seq
    wait_status(request, "pending")
    assert items(page.get("/ops/"), "needs_approver") == 0
