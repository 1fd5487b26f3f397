"""Issue 13's case end to end: a carriage-return title and a mail server that refuses.

The request still flows to approved, every step is in the audit log, the refused
mails are recorded (with their cause) and listed on /ops/ for a resend.
"""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail.backends.locmem import EmailBackend

from approvals.models import Notification
from tests.support.requests import (
    audit_kinds,
    decide,
    submit,
    wait_audit,
    wait_pending_level,
    wait_status,
)
from tests.support.web import client_for

pytestmark = pytest.mark.django_db(transaction=True)
EVIL_TITLE = "Taxi\rBcc: evil@example.com"


class RefusingBackend(EmailBackend):
    """A mail server that refuses every recipient for good (550), as for a bad address."""

    def send_messages(self, messages):
        for message in messages:
            message.message()  # Django's own header checks run first, as on the wire
        raise smtplib.SMTPRecipientsRefused(
            {addr: (550, b"5.1.1 unknown user") for m in messages for addr in m.to}
        )


def test_a_cr_title_and_a_refusing_mail_server_never_stall_the_approval(demo_org, worker, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    request = submit(demo_org["emma"], "60.00", title=EVIL_TITLE)
    wait_pending_level(request, 1)
    wait_audit(request, "notification_failed")
    decide(request, demo_org["max"])
    wait_status(request, "approved")
    wait_audit(request, "completed")
    wait_audit(request, "notification_failed", count=2)  # the outcome mail to emma too
    kinds = audit_kinds(request)
    for kind in ("submitted", "assigned", "notification_failed", "decided", "completed"):
        assert kind in kinds, (kind, kinds)
    failed = list(Notification.objects.filter(request=request, status="failed"))
    assert {row.recipient for row in failed} == {"max", "emma"}
    assert all("SMTPRecipientsRefused" in row.error for row in failed)
    assert all("\r" not in row.subject and "\n" not in row.subject for row in failed)
    page = client_for(demo_org["admin"]).get("/ops/").content.decode()
    assert page.count('data-kind="failed_mail"') == len(failed) == 2
