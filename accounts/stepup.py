"""Step-up: a second proof, right before an action that moves money.

The one reusable piece for every such action (approving a report above
`STEP_UP_EUR`, changing bank details, adding a passkey). A view asks

    prompt = stepup.check(request, purpose="approve:42")
    if prompt is not None:
        return stepup.render(request, prompt, action=..., carry={...})
    ... do the action ...

`check` verifies what the posted form carries for this purpose (a passkey
assertion in `stepup_credential`, or the password in `password`) and returns
None when it is confirmed, else the prompt to show: `data-testid="step-up"`,
nothing done. The proof is bound to the purpose (the passkey challenge is
issued for it and used once), so confirming one approval never approves
another. The method is the person's strongest: a passkey when they have one,
else their password, else (people who only sign in through the identity
provider) a fresh sign-in there within `STEP_UP_FRESH_SECONDS`.

Failed passwords count per person (cache): after `AXES_FAILURE_LIMIT` within
15 minutes the prompt refuses without checking, like the login's lockout.
Every confirmation and failure is an IdentityEvent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import identity, passkeys
from .models import IdentityEventKind, User

PASSKEY, PASSWORD, SIGN_IN = "passkey", "password", "sign_in"
FRESH_KEY = "stepup_fresh_at"
LOCK_SECONDS = 15 * 60


@dataclass
class Prompt:
    purpose: str
    method: str
    options: str = ""  # WebAuthn request options (JSON) for the passkey method
    error: str = ""
    reason: str = ""
    carry: dict = field(default_factory=dict)


def threshold() -> Decimal:
    return Decimal(str(settings.STEP_UP_EUR))


def needed_for_amount(amount_eur: Decimal | None) -> bool:
    """Whether approving this much (EUR; None: unknown, treated as large) needs a step-up."""
    return amount_eur is None or amount_eur > threshold()


def method_for(user: User) -> str:
    if user.passkeys.exists():
        return PASSKEY
    if user.has_usable_password():
        return PASSWORD
    return SIGN_IN


def is_fresh(request: HttpRequest) -> bool:
    """A step-up (or a sign-in) within STEP_UP_FRESH_SECONDS in this session."""
    at = request.session.get(FRESH_KEY)
    return bool(at) and time.time() - float(at) <= settings.STEP_UP_FRESH_SECONDS


def mark_fresh(request: HttpRequest) -> None:
    request.session[FRESH_KEY] = time.time()


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mark_fresh(request)


def _lock_key(user: User) -> str:
    return f"stepup-failures:{user.pk}"


def locked(user: User) -> bool:
    return (cache.get(_lock_key(user)) or 0) >= settings.AXES_FAILURE_LIMIT


def _failed(user: User, purpose: str, method: str) -> None:
    key = _lock_key(user)
    cache.add(key, 0, LOCK_SECONDS)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, LOCK_SECONDS)
    identity.record(
        IdentityEventKind.STEP_UP_FAILED,
        subject=user,
        actor=user.username,
        purpose=purpose,
        method=method,
    )


def _confirmed(request: HttpRequest, user: User, purpose: str, method: str) -> None:
    cache.delete(_lock_key(user))
    mark_fresh(request)
    identity.record(
        IdentityEventKind.STEP_UP,
        subject=user,
        actor=user.username,
        purpose=purpose,
        method=method,
    )


def prompt(request: HttpRequest, *, purpose: str, error: str = "", reason: str = "") -> Prompt:
    user = request.user
    method = method_for(user)
    options = ""
    if method == PASSKEY:
        options = passkeys.authentication_options(request, user, purpose=purpose)
    return Prompt(purpose=purpose, method=method, options=options, error=error, reason=reason)


def confirm(request: HttpRequest, *, purpose: str) -> tuple[bool, str]:
    """Verify what the request carries for `purpose`: (confirmed, error words or "")."""
    user = request.user
    method = method_for(user)
    data = request.POST
    if locked(user):
        return False, _("Too many failed confirmations. Please wait 15 minutes and try again.")
    if method == PASSKEY:
        credential = data.get("stepup_credential", "")
        if not credential:
            return False, ""
        try:
            passkeys.verify(request, user, purpose=purpose, credential=credential)
        except passkeys.PasskeyError:
            _failed(user, purpose, method)
            return False, _("The passkey could not be verified. Please try again.")
    elif method == PASSWORD:
        password = data.get("password", "")
        if not password:
            return False, ""
        if not user.check_password(password):
            _failed(user, purpose, method)
            return False, _("That password is not correct.")
    elif not is_fresh(request):
        return False, ""
    _confirmed(request, user, purpose, method)
    return True, ""


def check(request: HttpRequest, *, purpose: str, reason: str = "") -> Prompt | None:
    """None when this request confirms `purpose`; else the prompt to show instead."""
    ok, error = confirm(request, purpose=purpose)
    if ok:
        return None
    return prompt(request, purpose=purpose, error=error, reason=reason)


def render_prompt(
    request: HttpRequest,
    found: Prompt,
    *,
    action: str,
    carry: dict,
    hx_target: str = "",
    status: int = 200,
    template: str = "accounts/stepup.html",
) -> HttpResponse:
    """The prompt as a page (or, for htmx, the form alone), posting `carry` back to
    `action` with the proof. A refused proof is a 403 for plain requests."""
    if request.htmx:
        template = "accounts/_stepup.html"
    context = {
        "prompt": found,
        "action": action,
        "carry": {k: v for k, v in carry.items() if v not in (None, "")},
        "hx_target": hx_target,
        "next": request.get_full_path(),
    }
    if found.error and not request.htmx:
        status = 403
    return render(request, template, context, status=status)
