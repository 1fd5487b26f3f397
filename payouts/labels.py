"""Payout failure codes and statuses in words (EN + DE via gettext); data keeps the codes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from approvals.workflow.payout_contract import Failure, PayoutStatus, Step


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


def step_text(step: str) -> str:
    words = {
        Step.BUDGET: _("budget reserved on the cost centre"),
        Step.LEDGER: _("ledger lines posted (expense debit, employee payable credit)"),
        Step.BATCH: _("payment added to the payout batch"),
    }
    return words.get(step, step)


def undo_text(step: str) -> str:
    words = {
        Step.BUDGET: _("budget reservation released"),
        Step.LEDGER: _("ledger lines reversed"),
        Step.BATCH: _("payment taken out of the payout batch"),
    }
    return words.get(step, step)


def payout_summary(kind: str, detail: dict) -> str:
    """A payout audit row (payouts/steps.py) in words, for the timeline."""
    values = {"round": detail.get("round", 1)}
    if kind == "payout_step":
        values["what"] = step_text(detail.get("step", ""))
        return _("Payout (attempt %(round)s): %(what)s") % values
    if kind == "payout_compensated":
        values["what"] = undo_text(detail.get("step", ""))
        return _("Payout (attempt %(round)s) compensated: %(what)s") % values
    if kind == "payout_paid":
        values["batch"] = detail.get("batch", "")
        return _("Paid by SEPA credit transfer in payout batch #%(batch)s") % values
    if kind == "payout_failed":
        values["reason"] = failure_text(detail.get("reason", ""))
        return _("Payout (attempt %(round)s) failed: %(reason)s") % values
    return kind
