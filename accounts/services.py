"""Writes of people data: out-of-office delegation, leavers, personal access tokens,
bank details (changed after a step-up, confirmed by finance).

A delegation is active from `starts_on` to `ends_on` inclusive (local dates);
nothing runs when it ends: every reader asks `Delegation.objects.active()`
for today, so it ends by itself after its end date.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import bank_mail
from . import bank_stepup as stepup
from .bank import normalise
from .models import AccessToken, AccountAuditEntry, AccountEvent, Delegation, User
from .selectors import bank_change_pending, is_finance
from .signals import bank_change_confirmed, bank_details_changed, person_deactivated

log = logging.getLogger(__name__)


@transaction.atomic
def delegation_create(*, user: User, delegate: User, starts_on: date, ends_on: date) -> Delegation:
    """Save a delegation; ValidationError if it overlaps one the user already gave."""
    # Lock the user's row so two concurrent saves cannot both pass the overlap check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    overlapping = Delegation.objects.filter(
        user=user, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).select_related("delegate")
    clash = overlapping.first()
    if clash is not None:
        raise ValidationError(
            _(
                "You already delegate to %(name)s from %(start)s to %(end)s; "
                "end that delegation first or choose other dates."
            )
            % {"name": clash.delegate.display_name, "start": clash.starts_on, "end": clash.ends_on}
        )
    item = Delegation(user=user, delegate=delegate, starts_on=starts_on, ends_on=ends_on)
    item.full_clean()
    item.save()
    # The delegate is told, in their language, once the delegation is committed.
    from .delegation_mail import tell_delegate

    transaction.on_commit(lambda: tell_delegate(item.pk))
    return item


@transaction.atomic
def delegation_end(*, delegation: Delegation) -> Delegation | None:
    """End a delegation now: a future one is removed, a running one ends yesterday.

    Returns the delegation that remains on record, or None when it was removed.
    """
    today = timezone.localdate()
    if delegation.starts_on >= today:
        delegation.delete()
        return None
    delegation.ends_on = min(delegation.ends_on, today - timedelta(days=1))
    delegation.save(update_fields=["ends_on"])
    return delegation


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> int:
    """A person leaves: deactivate them, end their delegations, re-route their levels.

    The one path for every way a person is deactivated (admin action, bulk
    action, `save()` with is_active off, `delete()`, a future HR import). Ends
    every delegation from and to them that has not ended yet, and after commit
    sends `person_deactivated`, on which the approvals app moves every level
    waiting on them on. Calling it again for someone already inactive repeats
    the delegation and re-route steps (both idempotent): a way to retry.
    Returns how many delegations were ended.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    if user.is_active or User.objects.filter(pk=user.pk, is_active=True).exists():
        user.is_active = False
        user._deactivating = True  # this save is the service's own: no second pass
        try:
            user.save(update_fields=["is_active"])
        finally:
            del user._deactivating
    today = timezone.localdate()
    ended = 0
    open_delegations = Delegation.objects.filter(
        Q(user=user) | Q(delegate=user), ends_on__gte=today
    ).order_by("pk")
    for delegation in open_delegations:
        delegation_end(delegation=delegation)
        ended += 1
    username = user.username
    log.info(
        "deactivated %s (by %s); %d delegations ended",
        username,
        by.username if by else "system",
        ended,
    )

    def announce() -> None:
        for receiver, error in person_deactivated.send_robust(
            sender=User, username=username, by=by
        ):
            if isinstance(error, Exception):
                log.error("after deactivating %s, %r failed: %r", username, receiver, error)

    # Robust: a failure after commit (e.g. Temporal away) never undoes the deactivation.
    transaction.on_commit(announce, robust=True)
    return ended


TOKEN_PREFIX = "apv_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, owner: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[AccessToken, str]:
    """A new personal access token and its secret (shown once; only its hash is kept)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        owner=owner,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=token_hash(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, secret


def token_revoke(*, token: AccessToken) -> AccessToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(secret: str) -> AccessToken | None:
    """The usable token with this secret (not revoked, not expired, owner active), or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        AccessToken.objects.usable()
        .select_related("owner")
        .filter(token_hash=token_hash(secret))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # At most one write a minute per token: a busy script would otherwise write every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def profile_update(
    *,
    user: User,
    receives_digest: bool,
    time_zone: str = "",
    holiday_subdivision: str = "",
    language: str | None = None,
) -> User:
    """A person's own preferences (the profile page). Only these fields are written;
    `language` None leaves it as it is."""
    user.receives_digest = receives_digest
    user.time_zone, user.holiday_subdivision = time_zone, holiday_subdivision
    fields = ["receives_digest", "time_zone", "holiday_subdivision"]
    if language is not None:
        user.language = language
        fields.append("language")
    user.save(update_fields=fields)
    return user


def language_set(*, user: User, language: str) -> User:
    """The header's language switch, used while signed in: it is the profile's setting."""
    user.language = language
    user.save(update_fields=["language"])
    return user


class BankRefusal(StrEnum):
    COMPANY = "company_iban"
    TAKEN = "iban_taken"


class BankChangeError(Exception):
    """A bank change or confirmation refused; `code` is worded by the view."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class BankChange:
    changed: bool
    entry: AccountAuditEntry | None = None
    held: int = 0  # payments put on hold until finance confirms


def bank_iban_refusal(*, user: User, iban: str) -> BankRefusal | None:
    """Whether `user` may not be paid to `iban`: the company's own account, or the
    account on another active person's details (a payout must not be diverted)."""
    if iban == normalise(settings.PAYOUT_COMPANY_IBAN):
        return BankRefusal.COMPANY
    if User.objects.filter(is_active=True, iban=iban).exclude(pk=user.pk).exists():
        return BankRefusal.TAKEN
    return None


def bank_details_change(
    *,
    user: User,
    iban: str,
    bic: str,
    step_up: str = "",
    ip: str | None = None,
    passkey_confirmed: bool = False,
) -> BankChange:
    """Change `user`'s own IBAN/BIC after the step-up (the password today).

    Writes the account audit row, holds (through `bank_details_changed`) every payment
    approved before and not yet in a written file when earlier details are replaced,
    and after commit mails the person and the finance group. Raises BankChangeError
    (`step_up_locked`, `step_up_wrong`, or a BankRefusal code) and then changes nothing.
    """
    if stepup.locked(user):
        raise BankChangeError("step_up_locked")
    method = stepup.method_for(user)
    if passkey_confirmed:  # the view verified a passkey assertion for this very change
        method = stepup.PASSKEY_CONFIRMED
    elif not method.verify(user, step_up):
        stepup.record_failure(user, purpose="bank_details", ip=ip)
        raise BankChangeError("step_up_wrong")
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=user.pk)
        old_iban, old_bic = person.iban, person.bic
        if (old_iban, old_bic) == (iban, bic):
            return BankChange(changed=False)
        refusal = bank_iban_refusal(user=person, iban=iban)  # again, under the lock
        if refusal is not None:
            raise BankChangeError(refusal)
        person.iban, person.bic = iban, bic
        person.save(update_fields=["iban", "bic"])
        entry = AccountAuditEntry.objects.create(
            subject=person,
            kind=AccountEvent.BANK_CHANGED,
            actor_username=person.username,
            actor_name=person.display_name,
            actor_role=person.role,
            ip=ip,
            needs_confirmation=bool(old_iban),
            detail={
                "old_iban": old_iban,
                "old_bic": old_bic,
                "new_iban": iban,
                "new_bic": bic,
                "step_up": method.name,
            },
        )
        answers = bank_details_changed.send(sender=User, user=person, change=entry)
        held = sum(n for _receiver, n in answers if isinstance(n, int))
        transaction.on_commit(lambda: bank_mail.tell_change(entry.pk, held), robust=True)
    user.iban, user.bic = iban, bic
    log.info("bank details of %s changed (%d payments held)", user.username, held)
    return BankChange(changed=True, entry=entry, held=held)


def bank_change_confirm(*, change_id: int, by: User) -> int:
    """A finance member (not the person) confirms a pending change; returns how many
    held payments went back to scheduled. BankChangeError `unknown`, `not_finance`,
    `own_change` or `not_pending` (confirmed already, or a newer change replaced it)."""
    with transaction.atomic():
        entry = (
            AccountAuditEntry.objects.filter(pk=change_id, kind=AccountEvent.BANK_CHANGED)
            .select_related("subject")
            .first()
        )
        if entry is None:
            raise BankChangeError("unknown")
        if not is_finance(by):
            raise BankChangeError("not_finance")
        if by.pk == entry.subject_id:
            raise BankChangeError("own_change")
        person = User.objects.select_for_update().get(pk=entry.subject_id)
        pending = bank_change_pending(user=person)
        if pending is None or pending.pk != entry.pk:
            raise BankChangeError("not_pending")
        confirmation = AccountAuditEntry.objects.create(
            subject=person,
            kind=AccountEvent.BANK_CONFIRMED,
            actor_username=by.username,
            actor_name=by.display_name,
            actor_role=by.role,
            detail={"change": entry.pk, "iban": entry.detail.get("new_iban", "")},
        )
        answers = bank_change_confirmed.send(
            sender=User, user=person, change=entry, confirmation=confirmation, by=by
        )
        released = sum(n for _receiver, n in answers if isinstance(n, int))
        transaction.on_commit(
            lambda: bank_mail.tell_confirmed(confirmation.pk, released), robust=True
        )
    log.info("bank change %s of %s confirmed by %s", change_id, person.username, by.username)
    return released
