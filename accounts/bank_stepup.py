"""Step-up: asking a signed-in person to prove it is them again before a sensitive
change (bank details; approvals above STEP_UP_EUR once that issue lands).

A method is an object with a `name`, the form `field()` it asks for and
`verify(user, value)`. Today there is the password; a passkey (WebAuthn) method plugs
in through `method_for(user)` without the forms or views changing. Wrong answers are
written to the account audit (AccountEvent.STEP_UP_FAILED); from the
MAX_FAILURES-th within WINDOW the step-up refuses even the right answer until the
window passes (counted from the database, so it holds across web processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AccountAuditEntry, AccountEvent, User

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class StepUpMethod(Protocol):
    name: str

    def field(self) -> forms.Field: ...

    def verify(self, user: User, value: str) -> bool: ...


@dataclass(frozen=True)
class PasswordStepUp:
    name: str = "password"

    def field(self) -> forms.Field:
        return forms.CharField(
            label=_("Your password, to confirm it is you"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
            error_messages={"required": _("Enter your password to confirm this change.")},
        )

    def verify(self, user: User, value: str) -> bool:
        return bool(value) and user.check_password(value)


PASSWORD = PasswordStepUp()


@dataclass(frozen=True)
class PasskeyConfirmed:
    """A passkey assertion the view verified for this change (accounts/stepup.py)."""

    name: str = "passkey"


PASSKEY_CONFIRMED = PasskeyConfirmed()


def method_for(user: User) -> StepUpMethod:
    """The step-up this person is asked for (a registered passkey will win here)."""
    return PASSWORD


def locked(user: User) -> bool:
    since = timezone.now() - WINDOW
    failures = AccountAuditEntry.objects.filter(
        subject=user, kind=AccountEvent.STEP_UP_FAILED, at__gte=since
    )
    return failures.count() >= MAX_FAILURES


def record_failure(user: User, *, purpose: str, ip: str | None = None) -> None:
    AccountAuditEntry.objects.create(
        subject=user,
        kind=AccountEvent.STEP_UP_FAILED,
        actor_username=user.username,
        actor_name=user.display_name,
        actor_role=user.role,
        ip=ip,
        detail={"purpose": purpose, "method": method_for(user).name},
    )
