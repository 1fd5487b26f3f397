"""Which decisions need a step-up (accounts/stepup.py): approving a report above
STEP_UP_EUR. Rejecting and asking for changes move no money and never ask.

The amount is the report's pinned EUR amount (its own amount when in EUR); one
whose EUR amount is unknown is treated as large. The proof is bound to the
request (`approve:<pk>`), so confirming one approval never approves another.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts import stepup

from . import money
from .models import ExpenseRequest
from .workflow.contract import Action


def amount_eur(expense: ExpenseRequest) -> Decimal | None:
    if expense.base_amount is not None:
        return expense.base_amount
    if expense.currency == money.BASE_CURRENCY:
        return expense.amount
    return None


def approval_needs_step_up(expense: ExpenseRequest | None, action: str) -> bool:
    return (
        expense is not None
        and action == Action.APPROVE
        and stepup.needed_for_amount(amount_eur(expense))
    )


def purpose(expense: ExpenseRequest) -> str:
    return f"approve:{expense.pk}"


def reason() -> str:
    return _("Approving more than %(limit)s EUR needs a second confirmation.") % {
        "limit": number_format(stepup.threshold(), 0, force_grouping=True)
    }


def api_refusal() -> str:
    return _(
        "Approving more than %(limit)s EUR needs a second confirmation with your passkey or "
        "password: approve it in the browser (inbox, request page or mail link). Access "
        "tokens cannot approve it."
    ) % {"limit": number_format(stepup.threshold(), 0, force_grouping=True)}
