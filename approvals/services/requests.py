"""Writes about a request's content: submitting it (the workflow starts after commit).

Submission pins the exchange rate: the newest rate of the request's currency
on or before the submission day converts the amount to EUR, the base currency
the policy's thresholds are in. Amount, currency, EUR amount, rate and rate
date are stored with the request and never change afterwards (a resubmission
converts its new amount at the same rate).
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import money
from ..amounts import decimals_error
from ..models import ExpenseLine, ExpenseRequest, RequestStatus
from ..policies import effective_version, rules_of
from ..selectors.fx import rate_on
from ..temporal.starter import policy_snapshot, workflow_start_quietly
from ..workflow.contract import PolicySnapshot
from . import flags as spend_flags


def check_base_amount(
    *, amount: Decimal, currency: str, base_cents: int, policy: PolicySnapshot
) -> None:
    """Refuse an amount above the policy's maximum, which is in EUR."""
    if base_cents <= policy.max_amount_cents:
        return
    limit = money.from_minor(policy.max_amount_cents, money.BASE_CURRENCY)
    limit_text = formats.number_format(limit, 2, use_l10n=True, force_grouping=True)
    if currency == money.BASE_CURRENCY:
        message = _("The amount must be at most %(limit_value)s.") % {"limit_value": limit_text}
    else:
        message = _(
            "The amount must be at most %(limit)s EUR; %(amount)s %(currency)s is %(base)s EUR."
        ) % {
            "limit": limit_text,
            "amount": formats.number_format(
                amount, money.exponent(currency), use_l10n=True, force_grouping=True
            ),
            "currency": currency,
            "base": formats.number_format(
                money.from_minor(base_cents, money.BASE_CURRENCY),
                2,
                use_l10n=True,
                force_grouping=True,
            ),
        }
    raise ValidationError({"amount": [message]})


def max_amount_of(request: ExpenseRequest) -> Decimal | None:
    """The maximum of the policy the request was submitted under (the workflow's bound),
    in the request's currency at its pinned rate; None for a request without one."""
    if not (request.policy_snapshot or {}).get("max_amount_cents"):
        return None
    return max_amount_in(
        currency=request.currency,
        rate=request.fx_rate,
        policy=PolicySnapshot(**request.policy_snapshot),
    )


def max_amount_in(*, currency: str, rate: Decimal | None, policy: PolicySnapshot) -> Decimal:
    """The policy's maximum (EUR) expressed in `currency` at `rate`, rounded down."""
    limit = money.from_minor(policy.max_amount_cents, money.BASE_CURRENCY)
    if currency == money.BASE_CURRENCY or not rate:
        return limit
    return (limit * rate).quantize(money.quantum(currency), rounding=ROUND_DOWN)


@transaction.atomic
def expense_submit(
    *,
    requester: User,
    title: str,
    amount: Decimal,
    currency: str,
    category: str,
    description: str = "",
    receipt=None,
    submit_token: uuid.UUID | None = None,
) -> ExpenseRequest:
    """Save the request with its pinned rate; its workflow starts after commit (or
    later, by the reconciler).

    With a `submit_token` (the form's one-time token) the same token from the same
    requester yields the request it first created, however often and however
    concurrently it is posted: the unique constraint decides the race.

    Raises ValidationError (keyed by field) for a currency without a rate, decimals
    the currency does not have, or an amount above the policy's maximum in EUR.
    """
    if submit_token is not None:
        existing = _submitted_with(requester, submit_token)
        if existing is not None:
            return existing
    if money.has_too_many_decimals(amount, currency):
        raise ValidationError({"amount": [decimals_error(currency)]})
    day = timezone.localdate()
    if currency == money.BASE_CURRENCY:
        rate, rate_date = Decimal(1), day
    else:
        found = rate_on(currency=currency, day=day)
        if found is None:
            raise ValidationError(
                {
                    "currency": [
                        _(
                            "There is no exchange rate for %(currency)s, so the amount cannot "
                            "be converted to EUR. Choose another currency, or ask an "
                            "administrator to load the exchange rates."
                        )
                        % {"currency": currency}
                    ]
                }
            )
        rate, rate_date = found.rate, found.rate_date
    version = effective_version(day)  # pinned: in-flight requests keep theirs
    policy = policy_snapshot(version)
    base_cents = money.to_base_cents(amount, currency, rate)
    check_base_amount(amount=amount, currency=currency, base_cents=base_cents, policy=policy)
    # The one line of a flat (one-line) report; the spend checks run on it before
    # anything is saved, so a blocking check refuses with nothing half-written.
    line = ExpenseLine(
        position=1,
        date=day,
        category=category,
        amount=amount,
        currency=currency,
        # A flat report names its expense in the title ("Hotel Adlon"): the line says both.
        description=" — ".join(part for part in (title, description) if part)[:1000],
        base_amount_cents=base_cents,
    )
    spend_flags.fill_keys(line, receipt)
    flags = []
    if version is not None:
        flags = spend_flags.flags_for(
            lines=[line],
            requester=requester,
            rules=rules_of(version),
            day=day,
            total_cents=base_cents,
        )
        spend_flags.refuse_blocking(flags)
    request = ExpenseRequest(
        requester=requester,
        title=title,
        amount=amount,
        currency=currency,
        category=category,
        description=description,
        status=RequestStatus.QUEUED,
        policy_snapshot=dataclasses.asdict(policy),
        policy_version=version.number if version is not None else None,
        submit_token=submit_token,
        base_amount_cents=base_cents,
        fx_rate=rate,
        fx_rate_date=rate_date,
    )
    if receipt is not None:
        request.receipt = receipt
    # The token's uniqueness is the database's to decide (a check here would race).
    request.full_clean(exclude=["receipt", "submit_token"])
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        if submit_token is None:
            raise
        if request.receipt:
            request.receipt.delete(save=False)  # the loser's copy of the file
        winner = _submitted_with(requester, submit_token)
        if winner is None:
            raise
        return winner
    line.request = request
    if request.receipt:
        line.receipt = request.receipt.name
    line.save()
    spend_flags.store(request=request, flags=flags)
    transaction.on_commit(lambda: workflow_start_quietly(request_id=request.pk))
    return request


def _submitted_with(requester: User, token: uuid.UUID) -> ExpenseRequest | None:
    return ExpenseRequest.objects.filter(requester=requester, submit_token=token).first()
