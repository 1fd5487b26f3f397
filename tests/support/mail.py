"""Mail backends that fail on purpose, for the side-effect isolation tests.

Point `settings.EMAIL_BACKEND` at one of these (dotted path below). The
worker runs in the test's process (tests/support/servers.WorkerThread), so
class attributes count its sends and django.core.mail.outbox (locmem)
collects what got through.
"""

from __future__ import annotations

import smtplib
import threading

from django.core.mail import BadHeaderError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

HERE = "tests.support.mail"


class BadHeaderBackend(BaseEmailBackend):
    """Every send fails the way Django fails a header with a line break in it."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        raise BadHeaderError("Header values can't contain newlines (test backend)")


class RefusingBackend(BaseEmailBackend):
    """Every send fails as an SMTP server refusing all recipients (550)."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        recipients = {
            address: (550, b"5.1.1 mailbox unavailable (test backend)")
            for message in email_messages
            for address in message.recipients()
        }
        raise smtplib.SMTPRecipientsRefused(recipients)


class GatedBadHeaderBackend(BaseEmailBackend):
    """Every send waits until the test opens `gate`, then fails like BadHeaderBackend."""

    gate = threading.Event()
    waiting = 0

    @classmethod
    def reset(cls) -> None:
        cls.gate = threading.Event()
        cls.waiting = 0

    def send_messages(self, email_messages):
        cls = type(self)
        cls.waiting += 1
        cls.gate.wait(30)
        raise BadHeaderError("Header values can't contain newlines (test backend)")


class FlakyBackend(LocmemBackend):
    """The first `failures` sends fail with ConnectionRefusedError; then locmem delivers."""

    failures = 2
    attempts = 0
    _lock = threading.Lock()

    @classmethod
    def reset(cls, failures: int = 2) -> None:
        cls.failures, cls.attempts = failures, 0

    def send_messages(self, email_messages):
        cls = type(self)
        with cls._lock:
            cls.attempts += 1
            fail = cls.attempts <= cls.failures
        if fail:
            raise ConnectionRefusedError(111, "Connection refused (test backend)")
        return super().send_messages(email_messages)


BAD_HEADER = f"{HERE}.BadHeaderBackend"
REFUSING = f"{HERE}.RefusingBackend"
FLAKY = f"{HERE}.FlakyBackend"
GATED_BAD_HEADER = f"{HERE}.GatedBadHeaderBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
