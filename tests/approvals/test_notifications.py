"""Mails: headers folded from typed text, errors classified, failures recorded and resent."""

from __future__ import annotations

import dataclasses
import smtplib
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from approvals.effects import notifications
from approvals.models import ExpenseRequest, Notification, OpsIssue
from approvals.worker.activities import send_notifications
from approvals.workflow.contract import StepEvent, workflow_id
from tests.approvals.temporal.test_activities import transition

pytestmark = pytest.mark.django_db(transaction=True)

EVIL_TITLE = "Taxi\rBcc: evil@example.com"


class SmtpDownBackend(EmailBackend):
    """The mail server is unreachable (what smtplib raises when it drops the line)."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def expense(demo_org):
    return ExpenseRequest.objects.create(
        requester=demo_org["emma"],
        title=EVIL_TITLE,
        amount=Decimal("50.00"),
        category="travel",
        status="pending",
    )


def assigned(expense, seq=2):
    return transition(
        expense, seq, [StepEvent(kind="assigned", level=1, recipients=["max"])], title=EVIL_TITLE
    )


def test_a_carriage_return_title_becomes_a_safe_subject(settings, expense):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.send_for_transition(assigned(expense)) == 1
    (sent,) = mail.outbox
    assert "\r" not in sent.subject and "\n" not in sent.subject
    assert sent.subject.endswith("Taxi Bcc: evil@example.com")
    assert sent.bcc == [] and sent.to == [expense.requester.reports_to.email]
    # The message as it goes on the wire has exactly one Subject and no Bcc header.
    raw = sent.message()
    assert raw.get_all("Subject") == [sent.subject] and raw.get_all("Bcc") is None


def test_a_refused_header_is_recorded_as_failed_and_is_not_retried(settings, expense, demo_org):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    max_ = demo_org["max"]
    max_.email = "max@example.com\nBcc: evil@example.com"  # Django refuses this header
    max_.save()
    with pytest.raises(notifications.PermanentMailError) as caught:
        notifications.send_for_transition(assigned(expense))
    assert caught.value.failures[0][0] == "max"
    row = Notification.objects.get(request=expense, recipient="max")
    assert row.status == "failed" and "BadHeaderError" in row.error
    assert row.subject.endswith("Taxi Bcc: evil@example.com") and row.body
    assert mail.outbox == []
    # A retry of the same transition neither mails nor raises again: the failure stands.
    assert notifications.send_for_transition(assigned(expense)) == 0


def test_the_activity_raises_a_permanent_error_type_temporal_can_refuse_to_retry(
    settings, expense, demo_org
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_org["max"].email = "max@\nexample.com"
    demo_org["max"].save()
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(send_notifications, assigned(expense))
    assert caught.value.type == "PermanentMailError" and caught.value.non_retryable
    assert "BadHeaderError" in str(caught.value)


def test_smtp_down_is_transient_and_records_nothing(settings, expense):
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownBackend"
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notifications.send_for_transition(assigned(expense))
    assert not Notification.objects.exists()
    assert not notifications.is_permanent(smtplib.SMTPServerDisconnected("x"))
    assert not notifications.is_permanent(ConnectionRefusedError())
    assert not notifications.is_permanent(smtplib.SMTPResponseException(421, b"busy"))
    assert notifications.is_permanent(smtplib.SMTPResponseException(550, b"no such user"))
    assert notifications.is_permanent(smtplib.SMTPRecipientsRefused({"a@b": (550, b"unknown")}))


def test_a_failed_mail_is_resent_once_after_the_address_is_mended(settings, expense, demo_org):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    max_ = demo_org["max"]
    max_.email = "max@\nexample.com"
    max_.save()
    with pytest.raises(notifications.PermanentMailError):
        notifications.send_for_transition(assigned(expense))
    row = Notification.objects.get()
    assert notifications.resend(row.pk) is False  # still broken: recorded again, not sent
    assert mail.outbox == []
    max_.email = "max@example.com"
    max_.save()
    assert notifications.resend(row.pk) is True
    assert notifications.resend(row.pk) is False  # a second click sends nothing more
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["max@example.com"]
    assert Notification.objects.get().status == "sent"


def test_the_workflow_path_records_every_unsent_mail_of_a_transition(expense):
    t = assigned(expense)
    assert notifications.record_transition_failure(t, "retries exhausted") == 1
    assert notifications.record_transition_failure(t, "retries exhausted") == 0
    row = Notification.objects.get()
    assert row.status == "failed" and row.error == "retries exhausted" and row.body


def test_an_activity_failing_from_the_third_attempt_is_recorded_until_it_succeeds(
    settings, expense
):
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownBackend"
    env = ActivityEnvironment()
    t = assigned(expense)
    for attempt in (1, 2):
        env.info = dataclasses.replace(
            env.info, attempt=attempt, workflow_id=workflow_id(expense.pk)
        )
        with pytest.raises(smtplib.SMTPServerDisconnected):
            env.run(send_notifications, t)
    assert not OpsIssue.objects.exists()  # two failures are normal weather
    for attempt in (3, 4):
        env.info = dataclasses.replace(env.info, attempt=attempt)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            env.run(send_notifications, t)
    issue = OpsIssue.objects.get()
    assert (issue.request_id, issue.activity, issue.attempt) == (
        expense.pk,
        env.info.activity_type,
        4,
    )
    assert "SMTPServerDisconnected" in issue.error and issue.resolved_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    env.info = dataclasses.replace(env.info, attempt=5)
    env.run(send_notifications, t)
    issue.refresh_from_db()
    assert issue.resolved_at is not None
