"""Payout failure codes and statuses in words (EN + DE via gettext); data keeps the codes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from approvals.workflow.payout_contract import Failure, PayoutStatus


def failure_text(code: str) -> str:
    words = {
        Failure.NO_COST_CENTRE: _("The requester has no cost centre."),
        Failure.COST_CENTRE_CLOSED: _("The requester's cost centre is closed."),
        Failure.BUDGET_EXCEEDED: _("The cost centre's budget is exceeded."),
        Failure.LEDGER_ACCOUNT_CLOSED: _("A ledger account for this payout is closed."),
        Failure.NO_IBAN: _("The requester has no IBAN on their bank details."),
        Failure.INVALID_IBAN: _("The requester's IBAN is not valid."),
        Failure.UNAVAILABLE: _("A system the payout needs was unavailable for too long."),
        Failure.CANCELLED: _("The payout was cancelled."),
    }
    return words.get(code, _("The payout failed (%(code)s).") % {"code": code})


def status_text(status: str) -> str:
    words = {
        PayoutStatus.PROCESSING: _("processing"),
        PayoutStatus.SCHEDULED: _("scheduled"),
        PayoutStatus.PAID: _("paid"),
        PayoutStatus.FAILED: _("failed"),
    }
    return words.get(status, status)
